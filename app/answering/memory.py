"""A conversation's memory: what condenses a follow-up, and where an answered turn is kept.

One interface, two stores, both in the database (`app.records.conversations`): a learner's
conversations, kept for good, and an anonymous caller's last turns, kept for a while. A question
asked with no memory stands alone: nothing condenses it and nothing keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

HISTORY_TURNS = 3  # the turns that condense a follow-up


@dataclass(frozen=True)
class Turn:
    """One answered question: the learner's words, the answer as shown, its citations
    (`Citation` as dicts) and the week it was asked from."""

    conversation_id: str
    question: str
    answer: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    week: int | None = None


class Memory(Protocol):
    """Where a conversation's turns are kept (`ConversationRecords` for a learner,
    `AnonymousConversationRecords` for a caller without a token)."""

    def history(self, conversation_id: str) -> list[tuple[str, str]]:
        """The last few (question, answer) pairs, oldest first."""
        ...

    def add(self, turn: Turn) -> None:
        """Keep an answered turn. Raises NotFound for another learner's conversation."""
        ...

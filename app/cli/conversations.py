"""The command line learner's conversations with the tutor: the learner database `tutor ask`
keeps them in, which one a follow-up continues, and an answer from the API kept as the tutor
keeps its own."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING
from typing import Any

from app.answering.memory import Turn
from app.cli.base import err
from app.cli.base import fail
from app.config import Settings

if TYPE_CHECKING:
    from app.records.conversations import ConversationRecords
    from app.records.learners import LearnerRecords


def learner_store(settings: Settings, needed: bool) -> LearnerRecords | None:
    """The learner database for `tutor ask`: without it a question is still answered (with no
    week of yours, and not kept), unless the question continues a conversation kept there."""
    from app.records.base import LearnerRecordsError
    from app.records.learners import LearnerRecords

    try:
        return LearnerRecords(settings.resolved_database_url)
    except LearnerRecordsError as exc:
        if needed:
            fail(str(exc))
        err.print(
            f"[yellow]warning:[/yellow] answering without your week, and not keeping this "
            f"conversation: {exc}"
        )
        return None


def conversation_to_continue(
    store: LearnerRecords | None, resume: bool, conversation: str | None
) -> str | None:
    """The id a follow-up continues (None: a new conversation); a usage error when there is none."""
    from app.records.base import NotFound
    from app.records.conversations import ConversationRecords

    if not resume and conversation is None:
        return None
    assert store is not None  # a follow-up needs the database: learner_store said so
    learner = store.existing_local_learner()
    log = ConversationRecords(store, learner.id) if learner else None
    if resume:
        last = log.summaries()[:1] if log else []
        if not last:
            fail(
                "there is no conversation to continue yet: ask a question first "
                '(`tutor ask "..."`), then follow it up with --continue',
                code=2,
            )
        return last[0]["id"]
    if log is not None and conversation is not None:
        with contextlib.suppress(NotFound):
            return log.require(conversation).id
    fail(
        f"there is no conversation {conversation} here: --continue follows up your last one; "
        "leave --conversation out to start a new one",
        code=2,
    )


def kept_from_api(log: ConversationRecords | None, answer: dict[str, Any]) -> dict[str, Any]:
    """An answer from the API, kept in the command line learner's conversations as the tutor
    keeps its own (grounded answers only), so --continue finds it."""
    if log and answer["grounded"]:
        log.add(
            Turn(
                answer["conversation_id"],
                answer["question"],
                answer["answer"],
                answer["citations"],
                answer["week"],
            )
        )
    return answer

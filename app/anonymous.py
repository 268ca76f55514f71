"""Anonymous callers' conversations, in the shared database: a follow-up may reach any worker.

Only the last few turns matter (they condense a follow-up), and nobody can list or reopen an
anonymous conversation, so turns older than TUTOR_ANONYMOUS_CONVERSATION_HOURS are deleted as
new ones come in. A learner's conversations are kept for good (`app.learners.ConversationLog`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from app.learners import Base, utcnow


class AnonymousTurn(Base):
    __tablename__ = "anonymous_turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(100), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(), index=True)


class AnonymousConversations:
    """The tutor's memory (`app.tutor.Memory`) for callers without a token."""

    def __init__(self, sessions: sessionmaker, turns: int, keep_hours: int) -> None:
        self.sessions = sessions
        self.turns = turns
        self.keep = dt.timedelta(hours=keep_hours)

    def history(self, conversation_id: str) -> list[tuple[str, str]]:
        """The last `turns` (question, answer) pairs, oldest first."""
        with self.sessions() as session:
            rows = list(session.scalars(
                select(AnonymousTurn).where(AnonymousTurn.conversation_id == conversation_id,
                                            AnonymousTurn.created_at >= utcnow() - self.keep)
                .order_by(AnonymousTurn.id.desc()).limit(self.turns)))
        return [(row.question, row.answer) for row in reversed(rows)]

    def add(self, conversation_id: str, question: str, answer: str,
            citations: list[dict[str, Any]], week: int | None) -> None:
        """Keep one turn (citations and week are not needed to condense a follow-up) and drop
        every turn past its time."""
        now = utcnow()
        with self.sessions.begin() as session:
            session.add(AnonymousTurn(conversation_id=conversation_id, question=question,
                                      answer=answer, created_at=now))
            session.execute(delete(AnonymousTurn).where(AnonymousTurn.created_at < now - self.keep))

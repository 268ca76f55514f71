"""Conversations with the tutor: a learner's, kept for good (`ConversationRecords`), and anonymous
callers' last turns, kept for a while (`AnonymousConversationRecords`). Both are a tutor's `Memory`.

Only an anonymous conversation's last few turns matter (they condense a follow-up), and nobody
can list or reopen one, so its turns older than TUTOR_ANONYMOUS_CONVERSATION_HOURS are deleted
as new ones come in. It lives in the shared database too: a follow-up may reach any worker."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import sessionmaker

from app.answering.memory import HISTORY_TURNS
from app.answering.memory import Turn
from app.records.base import Base
from app.records.base import NotFound
from app.records.base import utcnow
from app.records.learners import LearnerRecords


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # "user" (the learner) or "assistant"
    content: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class ConversationRecords:
    """One learner's conversations with the tutor, kept in the database: the tutor's memory
    when it knows who is asking, and a history the learner can reopen."""

    def __init__(self, store: LearnerRecords, learner_id: int, turns: int = 3) -> None:
        self.sessions = store.sessions
        self.learner_id = learner_id
        self.turns = turns

    def require(self, conversation_id: str) -> Conversation:
        """The learner's own conversation; anyone else's is as unknown as one never started."""
        conversation = self.require_not_anothers(conversation_id)
        if conversation is None:
            raise NotFound(
                f"no conversation {conversation_id}; leave conversation_id out to start a new one"
            )
        return conversation

    def require_not_anothers(self, conversation_id: str) -> Conversation | None:
        """The learner's own conversation, or None for an id nobody has kept yet, which may go
        on (a declined first question is not kept, yet the answer hands its id back, and a
        follow-up with it starts the conversation there). NotFound for another learner's."""
        with self.sessions() as session:
            conversation = session.get(Conversation, conversation_id)
        if conversation is not None and conversation.learner_id != self.learner_id:
            raise NotFound(
                f"no conversation {conversation_id}; leave conversation_id out to start a new one"
            )
        return conversation

    def history(self, conversation_id: str) -> list[tuple[str, str]]:
        """The last few (question, answer) turns, oldest first: what condenses a follow-up."""
        with self.sessions() as session:
            rows = list(
                session.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(Message.id.desc())
                    .limit(2 * self.turns)
                )
            )
        rows.reverse()
        return [(q.content, a.content) for q, a in zip(rows[::2], rows[1::2])]

    def add(self, turn: Turn) -> None:
        now = utcnow()
        with self.sessions.begin() as session:
            conversation = session.get(Conversation, turn.conversation_id)
            if conversation is None:
                session.add(
                    Conversation(
                        id=turn.conversation_id,
                        learner_id=self.learner_id,
                        title=turn.question,
                        created_at=now,
                        updated_at=now,
                    )
                )
            elif conversation.learner_id != self.learner_id:
                raise NotFound(f"no conversation {turn.conversation_id}")
            else:
                conversation.updated_at = now
            for role, content, citations in (
                ("user", turn.question, []),
                ("assistant", turn.answer, turn.citations),
            ):
                session.add(
                    Message(
                        conversation_id=turn.conversation_id,
                        role=role,
                        content=content,
                        citations=citations,
                        week=turn.week,
                        created_at=now,
                    )
                )

    def last_week(self, conversation_id: str) -> int | None:
        """The week the learner's conversation was last asked from (None: not theirs, not
        kept yet, or asked from no week)."""
        with self.sessions() as session:
            return session.scalar(
                select(Message.week)
                .join(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.learner_id == self.learner_id,
                )
                .order_by(Message.id.desc())
                .limit(1)
            )

    def summaries(self) -> list[dict[str, Any]]:
        """The learner's conversations, most recent first: id, title (the first question),
        when last updated, and how many turns."""
        count = func.count(Message.id)
        with self.sessions() as session:
            rows = session.execute(
                select(Conversation, count)
                .join(Message, isouter=True)
                .where(Conversation.learner_id == self.learner_id)
                .group_by(Conversation.id)
                .order_by(Conversation.updated_at.desc(), Conversation.id)
            ).all()
        return [
            {"id": c.id, "title": c.title, "updated": c.updated_at.isoformat(), "turns": n // 2}
            for c, n in rows
        ]

    def read(self, conversation_id: str) -> dict[str, Any]:
        conversation = self.require(conversation_id)
        with self.sessions() as session:
            messages = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id)
            )
            return {
                "id": conversation.id,
                "title": conversation.title,
                "updated": conversation.updated_at.isoformat(),
                "messages": [
                    {
                        "role": m.role,
                        "content": m.content,
                        "citations": m.citations,
                        "week": m.week,
                        "created": m.created_at.isoformat(),
                    }
                    for m in messages
                ],
            }


class AnonymousTurn(Base):
    __tablename__ = "anonymous_turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(100), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(), index=True)


class AnonymousConversationRecords:
    """The tutor's memory (`app.answering.memory.Memory`) for callers without a token."""

    def __init__(self, sessions: sessionmaker[Session], turns: int, keep_hours: int) -> None:
        self.sessions = sessions
        self.turns = turns
        self.keep = dt.timedelta(hours=keep_hours)

    def history(self, conversation_id: str) -> list[tuple[str, str]]:
        """The last `turns` (question, answer) pairs, oldest first."""
        with self.sessions() as session:
            rows = list(
                session.scalars(
                    select(AnonymousTurn)
                    .where(
                        AnonymousTurn.conversation_id == conversation_id,
                        AnonymousTurn.created_at >= utcnow() - self.keep,
                    )
                    .order_by(AnonymousTurn.id.desc())
                    .limit(self.turns)
                )
            )
        return [(row.question, row.answer) for row in reversed(rows)]

    def add(self, turn: Turn) -> None:
        """Keep one turn (citations and week are not needed to condense a follow-up) and drop
        every turn past its time."""
        now = utcnow()
        with self.sessions.begin() as session:
            session.add(
                AnonymousTurn(
                    conversation_id=turn.conversation_id,
                    question=turn.question,
                    answer=turn.answer,
                    created_at=now,
                )
            )
            session.execute(delete(AnonymousTurn).where(AnonymousTurn.created_at < now - self.keep))


@contextlib.contextmanager
def throwaway_memory(turns: int = HISTORY_TURNS) -> Iterator[AnonymousConversationRecords]:
    """Anonymous conversations in a SQLite database deleted on exit: the memory of a run that
    keeps nothing (the evals ask their follow-ups as an anonymous caller would)."""
    with tempfile.TemporaryDirectory(prefix="tutor-conversations-") as folder:
        records = LearnerRecords(f"sqlite:///{folder}/conversations.db")
        try:
            yield AnonymousConversationRecords(records.sessions, turns, keep_hours=24)
        finally:
            records.engine.dispose()

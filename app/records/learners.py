"""Learners and their progress: SQLAlchemy 2 on SQLite by default, any SQLAlchemy URL for a
study group's server. The schema evolves through Alembic migrations (`app/migrations`), applied
on open, so an upgrade never loses a learner's data.

A learner is known by a bearer token, returned once at creation and stored only as a hash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import make_url
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import sessionmaker

from app.config import private_file
from app.course.curriculum import LAST_WEEK
from app.course.curriculum import Curriculum
from app.course.curriculum import WeekOutOfRange
from app.course.pacing import MAX_PACE
from app.course.pacing import MIN_PACE
from app.course.pacing import Schedule
from app.records.base import Base
from app.records.base import LearnerRecordsError
from app.records.base import NotFound
from app.records.base import _identity
from app.records.base import _sqlite_pragmas
from app.records.base import in_utc
from app.records.base import learner_rows
from app.records.base import migrate
from app.records.base import unusable

JOURNAL_CHARS = 20_000  # the longest journal note, from the API or the command line


def learner_in(session: Session, learner_id: int) -> Learner:
    """The learner `learner_id` as `session` sees it, for a change made in that session.

    Raises NotFound when there is no such learner."""
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFound(f"no learner {learner_id}")
    return learner


class Learner(Base):
    __tablename__ = "learners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    pace: Mapped[float] = mapped_column(Float, default=1.0)
    # The week the learner said they were in, and the day they said it (re-plans set both):
    # the schedule runs on from there at `pace`. Both empty: from start_date in week 1.
    current_week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    week_set_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The week they joined in: set once, at sign-up or by the first week they set (the command
    # line's learner is made before it has one); nothing moves it after.
    start_week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)  # the command line's learner
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


LOCAL_LEARNER = select(Learner).where(Learner.local.is_(True))  # one per database


class TaskTick(Base):
    __tablename__ = "task_ticks"
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(32), primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )


class SelfRating(Base):
    __tablename__ = "self_ratings"
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    def to_dict(self) -> dict[str, Any]:
        """As `GET /learners/{id}/journal` and `tutor journal --json` show it."""
        return {
            "id": self.id,
            "week": self.week,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Task:
    task: str
    text: str
    done: bool


def hash_token(token: str) -> str:
    """Tokens are long random strings, so one SHA-256 is enough (no password stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


def schedule_of(learner: Learner) -> Schedule:
    """The learner's plan on the calendar: from the week they last set (or re-planned to) on
    the day they set it, else from week 1 on their start date; at their pace (one stored
    before pace had bounds is held within them)."""
    pace = min(MAX_PACE, max(MIN_PACE, learner.pace))
    if learner.current_week is None:
        return Schedule.of(learner.start_date, 1, pace)
    return Schedule.of(learner.week_set_on or learner.start_date, learner.current_week, pace)


class LearnerRecords:
    def __init__(self, url: str) -> None:
        # learners' journals and answers: readable by this user only. A new file is made
        # private before the first write; an existing one once it has opened as a database,
        # so a file that is not one is left exactly as it was (a file that can't be made
        # private here, or isn't a file, is left to the migration to report).
        stored: Path | None = None
        if url.startswith("sqlite:///") and not url.endswith(":memory:"):
            stored = Path(url.removeprefix("sqlite:///"))
            stored.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not stored.exists():
                with contextlib.suppress(OSError):
                    private_file(stored)
        try:
            migrate(url)
        except DatabaseError as exc:
            raise LearnerRecordsError(unusable(url, exc)) from exc
        if stored is not None and stored.is_file():
            with contextlib.suppress(OSError):
                private_file(stored)
        self.url = url
        self.engine = in_utc(create_engine(url))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._file: Path | None = None
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            database = make_url(url).database
            if database and database != ":memory:":
                self._file = Path(database).resolve()
                self._identity = _identity(self._file)
                # SQLite goes on writing to a file removed under it: the commit succeeds and
                # the row is lost. Check after each commit, so such a write is never reported
                # as stored.
                event.listen(self.sessions, "after_commit", lambda _session: self._check_file())

    def check(self) -> None:
        """Raise `LearnerRecordsError`, saying what to do, when the database can't be used now:
        its file removed, replaced or damaged while the server runs, or the server gone."""
        self._check_file()
        try:
            with self.engine.connect() as connection:
                connection.execute(select(func.count()).select_from(Learner))
        except DatabaseError as exc:
            raise LearnerRecordsError(unusable(self.url, exc)) from exc

    def close(self) -> None:
        self.engine.dispose()

    def _check_file(self) -> None:
        if self._file is None:
            return
        if not self._file.exists():
            raise LearnerRecordsError(
                f"the learner database {self._file} was removed while the server was running, "
                "so nothing more can be stored: restore it from a backup and restart the "
                "server (restarting without it starts an empty database)"
            )
        if _identity(self._file) != self._identity:
            raise LearnerRecordsError(
                f"the learner database {self._file} was replaced while the "
                "server was running: restart the server to use the new file"
            )

    # -- learners --------------------------------------------------------------------------

    def create(
        self, name: str, start_date: dt.date, pace: float = 1.0, current_week: int | None = None
    ) -> tuple[Learner, str]:
        """A new learner and their token. `current_week`: the plan week they are in on
        `start_date` (None: week 1); the calendar moves them on from there."""
        token = secrets.token_urlsafe(32)
        learner = Learner(
            name=name,
            token_hash=hash_token(token),
            start_date=start_date,
            pace=pace,
            current_week=current_week,
            week_set_on=None if current_week is None else start_date,
            start_week=current_week or 1,
        )
        with self.sessions.begin() as session:
            session.add(learner)
        return learner, token

    def local_learner(self, today: dt.date) -> Learner:
        """The command line's learner, made on first use. It needs no token here: whoever can
        read the data dir owns its database anyway. The command line acts as it through a
        running API with a token of `new_token`, kept in a file only its user can read
        (`app.cli.local_key`)."""
        learner = self.existing_local_learner()
        if learner is not None:
            return learner
        try:
            with self.sessions.begin() as session:
                learner = Learner(
                    name="local",
                    token_hash=hash_token(secrets.token_urlsafe(32)),
                    start_date=today,
                    local=True,
                )
                session.add(learner)
            return learner
        except IntegrityError:  # another process made it first (one_local_learner index)
            with self.sessions() as session:
                return session.scalars(LOCAL_LEARNER).one()

    def existing_local_learner(self) -> Learner | None:
        """The command line's learner if it has been made (by `tutor week` or a quiz)."""
        with self.sessions() as session:
            return session.scalar(LOCAL_LEARNER)

    def new_token(self, learner_id: int) -> str:
        """A new token for the learner; the one before stops working. Raises NotFound."""
        token = secrets.token_urlsafe(32)
        with self.sessions.begin() as session:
            learner_in(session, learner_id).token_hash = hash_token(token)
        return token

    def by_token(self, token: str) -> Learner | None:
        with self.sessions() as session:
            return session.scalar(select(Learner).where(Learner.token_hash == hash_token(token)))

    def set_week(self, learner_id: int, week: int | None, on: dt.date) -> Learner:
        """The learner is in `week` on `on` and moves on from there; None: follow the calendar
        from their start date again."""
        if week is not None and not 1 <= week <= LAST_WEEK:
            raise WeekOutOfRange(week)
        with self.sessions.begin() as session:
            learner = learner_in(session, learner_id)
            learner.current_week = week
            learner.week_set_on = None if week is None else on
            if learner.start_week is None:
                learner.start_week = week
        return learner

    # -- the week's checklist, ratings, journal ---------------------------------------------

    def checklist(self, learner_id: int, week: int, curriculum: Curriculum) -> list[Task]:
        plan = curriculum.week(week)
        if plan.week is None:
            return []
        with self.sessions() as session:
            ticks = dict(
                session.execute(
                    select(TaskTick.task, TaskTick.done).where(
                        TaskTick.learner_id == learner_id, TaskTick.week == week
                    )
                ).all()
            )
        return [
            Task(name, item.text, bool(ticks.get(name, False))) for name, item in plan.week.fields()
        ]

    def tick(
        self, learner_id: int, week: int, task: str, done: bool, curriculum: Curriculum
    ) -> list[Task]:
        plan = curriculum.week(week)
        names = [name for name, _ in plan.week.fields()] if plan.week else []
        if task not in names:
            raise NotFound(
                f"week {week} has no task {task!r}; its tasks are: "
                + (", ".join(names) or "none (months 13-18 have no checklist)")
            )
        with self.sessions.begin() as session:
            session.merge(TaskTick(learner_id=learner_id, week=week, task=task, done=done))
        return self.checklist(learner_id, week, curriculum)

    def rate(self, learner_id: int, week: int, rating: int) -> None:
        if not 1 <= rating <= 10:
            raise ValueError("a self-rating is 1-10")
        if not 1 <= week <= LAST_WEEK:
            raise WeekOutOfRange(week)
        with self.sessions.begin() as session:
            session.merge(SelfRating(learner_id=learner_id, week=week, rating=rating))

    def ratings(self, learner_id: int) -> dict[int, int]:
        with self.sessions() as session:
            rows = session.execute(
                select(SelfRating.week, SelfRating.rating).where(
                    SelfRating.learner_id == learner_id
                )
            ).all()
        return dict(rows)

    def write_journal(self, learner_id: int, week: int, text: str) -> JournalEntry:
        if not 1 <= week <= LAST_WEEK:
            raise WeekOutOfRange(week)
        entry = JournalEntry(learner_id=learner_id, week=week, text=text)
        with self.sessions.begin() as session:
            session.add(entry)
        return entry

    def journal(self, learner_id: int) -> list[JournalEntry]:
        with self.sessions() as session:
            return learner_rows(
                session, JournalEntry, learner_id, JournalEntry.created_at, JournalEntry.id
            )

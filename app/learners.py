"""Learners and their progress: SQLAlchemy 2 on SQLite by default, any SQLAlchemy URL for a
study group's server. The schema evolves through Alembic migrations (`app/migrations`), applied
on open, so an upgrade never loses a learner's data.

A learner is known by a bearer token, returned once at creation and stored only as a hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    make_url,
    func,
    select,
    text,
)
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from app.pacing import MAX_PACE, MIN_PACE, Schedule
from app.quiz import Grade, Question, question_from_dict
from app.spaced import RATINGS, schedule
from ingest.curriculum import LAST_WEEK, Curriculum, WeekOutOfRange

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
JOURNAL_CHARS = 20_000  # the longest journal note, from the API or the command line


def learner_in(session: Session, learner_id: int) -> Learner:
    """The learner `learner_id` as `session` sees it, for a change made in that session.

    Raises NotFound when there is no such learner."""
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFound(f"no learner {learner_id}")
    return learner


class LearnerStoreError(RuntimeError):
    """The learner database cannot be used; the message says what to do."""


class NotFound(LookupError):
    pass


class AlreadyAnswered(ValueError):
    """A quiz question gets one answer; reviews are where it is asked again."""


class Base(DeclarativeBase):
    pass


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
    local: Mapped[bool] = mapped_column(Boolean, default=False)  # the command line's learner
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


LOCAL_LEARNER = select(Learner).where(Learner.local.is_(True))  # one per database


class TaskTick(Base):
    __tablename__ = "task_ticks"
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"),
                                            primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(32), primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(),
                                                    onupdate=func.now())


class SelfRating(Base):
    __tablename__ = "self_ratings"
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"),
                                            primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(),
                                                    onupdate=func.now())


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    def to_dict(self) -> dict[str, Any]:
        """As `GET /learners/{id}/journal` and `tutor journal --json` show it."""
        return {"id": self.id, "week": self.week, "text": self.text,
                "created_at": self.created_at.isoformat()}


class Quiz(Base):
    __tablename__ = "quizzes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column(Integer)
    questions: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class Attempt(Base):
    __tablename__ = "attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    quiz_id: Mapped[str | None] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(32))
    week: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    response: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class ReviewCard(Base):
    __tablename__ = "review_cards"
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"),
                                            primary_key=True)
    question_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    question: Mapped[dict] = mapped_column(JSON)
    card: Mapped[dict] = mapped_column(JSON)
    due: Mapped[dt.datetime] = mapped_column(DateTime)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)  # kept, never due


class ReviewLogEntry(Base):
    """One FSRS review: what the optimizer fits a learner's parameters from, and the
    history an export carries (Anki's revlog)."""

    __tablename__ = "review_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(32))
    rating: Mapped[int] = mapped_column(Integer)  # 1 again, 2 hard, 3 good, 4 easy
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime)  # naive UTC


class FsrsFit(Base):
    """A learner's FSRS parameters fitted from their review log, with the held-out log loss
    of fitted and default parameters; `in_use` when the fitted ones are better."""

    __tablename__ = "fsrs_fits"
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"),
                                            primary_key=True)
    parameters: Mapped[list] = mapped_column(JSON)
    fitted_loss: Mapped[float] = mapped_column(Float)
    default_loss: Mapped[float] = mapped_column(Float)
    train_reviews: Mapped[int] = mapped_column(Integer)
    held_out_reviews: Mapped[int] = mapped_column(Integer)
    in_use: Mapped[bool] = mapped_column(Boolean)
    fitted_at: Mapped[dt.datetime] = mapped_column(DateTime)


def scheduling_parameters(session: Session, learner_id: int) -> list[float] | None:
    """The learner's fitted FSRS parameters when they beat the defaults, else None."""
    fitted = session.get(FsrsFit, learner_id)
    return fitted.parameters if fitted and fitted.in_use else None


def reschedule(session: Session, card: ReviewCard, rating: str, now: dt.datetime) -> dt.datetime:
    """Review `card` rated `rating` at `now` (aware UTC): FSRS with the learner's parameters
    moves its due date, and the review goes into the log. Returns when it is due next."""
    state, due = schedule(card.card, rating, now, scheduling_parameters(session, card.learner_id))
    card.card, card.due = state, naive_utc(due)
    session.add(ReviewLogEntry(learner_id=card.learner_id, question_id=card.question_id,
                               rating=RATINGS.index(rating) + 1, reviewed_at=naive_utc(now)))
    return due


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """Naive UTC, as stored (a naive `moment` is taken to be UTC already)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


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
    citations: Mapped[list] = mapped_column(JSON, default=list)
    week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


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


def week_on(learner: Learner, today: dt.date) -> int:
    """The learner's week on `today` (1-72): their schedule's week, moving on with the calendar
    at their pace from the week they last set. What answers, quizzes and the journal use."""
    return schedule_of(learner).week_on(today)


# The PostgreSQL advisory lock that lets one process at a time migrate ("tutor" in ASCII).
MIGRATION_LOCK = 0x7475746F72


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`, the newest by default (a no-op when already there).

    One process at a time: `tutor serve --workers N` (or N API workers on one PostgreSQL)
    start together on a new database, and without the lock all but one failed on "table
    learners already exists", which read as a damaged file. SQLite takes the write lock
    before reading the schema version (BEGIN IMMEDIATE; others wait out its busy timeout),
    PostgreSQL an advisory lock held to the end of the transaction."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


class LearnerStore:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            migrate(url)
        except DatabaseError as exc:
            raise LearnerStoreError(unusable(url, exc)) from exc
        self.url = url
        self.engine = create_engine(url)
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
        """Raise `LearnerStoreError`, saying what to do, when the database can't be used now:
        its file removed, replaced or damaged while the server runs, or the server gone."""
        self._check_file()
        try:
            with self.engine.connect() as connection:
                connection.execute(select(func.count()).select_from(Learner))
        except DatabaseError as exc:
            raise LearnerStoreError(unusable(self.url, exc)) from exc

    def close(self) -> None:
        self.engine.dispose()

    def _check_file(self) -> None:
        if self._file is None:
            return
        if not self._file.exists():
            raise LearnerStoreError(
                f"the learner database {self._file} was removed while the server was running, "
                "so nothing more can be stored: restore it from a backup and restart the "
                "server (restarting without it starts an empty database)")
        if _identity(self._file) != self._identity:
            raise LearnerStoreError(f"the learner database {self._file} was replaced while the "
                                    "server was running: restart the server to use the new file")

    # -- learners --------------------------------------------------------------------------

    def create(self, name: str, start_date: dt.date, pace: float = 1.0,
               current_week: int | None = None) -> tuple[Learner, str]:
        """A new learner and their token. `current_week`: the plan week they are in on
        `start_date` (None: week 1); the calendar moves them on from there."""
        token = secrets.token_urlsafe(32)
        learner = Learner(name=name, token_hash=hash_token(token), start_date=start_date,
                          pace=pace, current_week=current_week,
                          week_set_on=None if current_week is None else start_date)
        with self.sessions.begin() as session:
            session.add(learner)
        return learner, token

    def local_learner(self, today: dt.date) -> Learner:
        """The command line's learner, made on first use. It needs no token: whoever can read
        the data dir owns its database anyway. Its token is never shown, so the API can't act
        as it."""
        learner = self.existing_local_learner()
        if learner is not None:
            return learner
        try:
            with self.sessions.begin() as session:
                learner = Learner(name="local", token_hash=hash_token(secrets.token_urlsafe(32)),
                                  start_date=today, local=True)
                session.add(learner)
            return learner
        except IntegrityError:  # another process made it first (one_local_learner index)
            with self.sessions() as session:
                return session.scalars(LOCAL_LEARNER).one()

    def existing_local_learner(self) -> Learner | None:
        """The command line's learner if it has been made (by `tutor week` or a quiz)."""
        with self.sessions() as session:
            return session.scalar(LOCAL_LEARNER)

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
        return learner

    # -- the week's checklist, ratings, journal ---------------------------------------------

    def checklist(self, learner_id: int, week: int, curriculum: Curriculum) -> list[Task]:
        plan = curriculum.week(week)
        if plan.week is None:
            return []
        with self.sessions() as session:
            ticks = dict(session.execute(
                select(TaskTick.task, TaskTick.done).where(TaskTick.learner_id == learner_id,
                                                           TaskTick.week == week)).all())
        return [Task(name, item.text, bool(ticks.get(name, False)))
                for name, item in plan.week.fields()]

    def tick(self, learner_id: int, week: int, task: str, done: bool,
             curriculum: Curriculum) -> list[Task]:
        plan = curriculum.week(week)
        names = [name for name, _ in plan.week.fields()] if plan.week else []
        if task not in names:
            raise NotFound(f"week {week} has no task {task!r}; its tasks are: "
                           + (", ".join(names) or "none (months 13-18 have no checklist)"))
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
            rows = session.execute(select(SelfRating.week, SelfRating.rating)
                                   .where(SelfRating.learner_id == learner_id)).all()
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
            return list(session.scalars(select(JournalEntry)
                                        .where(JournalEntry.learner_id == learner_id)
                                        .order_by(JournalEntry.created_at, JournalEntry.id)))


class QuizRecords:
    """Quizzes given, answers recorded once, and review cards rescheduled by FSRS."""

    def __init__(self, store: LearnerStore) -> None:
        self.sessions = store.sessions

    def save(self, learner_id: int, week: int, questions: list[Question]) -> str:
        quiz = Quiz(id=secrets.token_hex(8), learner_id=learner_id, week=week,
                    questions=[q.to_dict() for q in questions])
        with self.sessions.begin() as session:
            session.add(quiz)
        return quiz.id

    def question(self, learner_id: int, quiz_id: str, question_id: str) -> Question:
        with self.sessions() as session:
            quiz = session.get(Quiz, quiz_id)
        if quiz is None or quiz.learner_id != learner_id:
            raise NotFound(f"no quiz {quiz_id}")
        found = next((q for q in quiz.questions if q["id"] == question_id), None)
        if found is None:
            raise NotFound(f"quiz {quiz_id} has no question {question_id}")
        return question_from_dict(found)

    def recent_ids(self, learner_id: int, limit: int = 100) -> set[str]:
        with self.sessions() as session:
            rows = session.scalars(select(Attempt.question_id).where(Attempt.learner_id == learner_id)
                                   .order_by(Attempt.id.desc()).limit(limit))
            return set(rows)

    def answer(self, learner_id: int, quiz_id: str | None, question: Question, response: str,
               grade: Grade, now: dt.datetime) -> dt.datetime:
        """Record the answer and reschedule the question's review card; returns when it is due."""
        with self.sessions() as session, session.begin():
            session.add(Attempt(learner_id=learner_id, quiz_id=quiz_id, question_id=question.id,
                                week=question.citation["week"], kind=question.kind,
                                response=response, correct=grade.correct, score=grade.score))
            try:
                session.flush()
            except IntegrityError as exc:
                raise AlreadyAnswered(f"question {question.id} of quiz {quiz_id} is already "
                                      "answered; it will come back in your reviews") from exc
            card = session.get(ReviewCard, (learner_id, question.id)) or ReviewCard(
                learner_id=learner_id, question_id=question.id, question=question.to_dict(),
                suspended=False)
            due = reschedule(session, card, grade.fsrs_rating, now)
            session.add(card)
        return due

    def due(self, learner_id: int, until: dt.datetime) -> list[Question]:
        """The learner's cards due by `until`, soonest first; suspended ones never are."""
        with self.sessions() as session:
            cards = session.scalars(select(ReviewCard).where(ReviewCard.learner_id == learner_id,
                                                             ReviewCard.due <= naive_utc(until),
                                                             ReviewCard.suspended.is_(False))
                                    .order_by(ReviewCard.due))
            return [question_from_dict(card.question) for card in cards]

    def review_question(self, learner_id: int, question_id: str) -> Question:
        with self.sessions() as session:
            card = session.get(ReviewCard, (learner_id, question_id))
        if card is None:
            raise NotFound(f"no review card for question {question_id}")
        return question_from_dict(card.question)


class ConversationLog:
    """One learner's conversations with the tutor, kept in the database: the tutor's memory
    when it knows who is asking, and a history the learner can reopen."""

    def __init__(self, store: LearnerStore, learner_id: int, turns: int = 3) -> None:
        self.sessions = store.sessions
        self.learner_id = learner_id
        self.turns = turns

    def require(self, conversation_id: str) -> Conversation:
        """The learner's own conversation; anyone else's is as unknown as one never started."""
        with self.sessions() as session:
            conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.learner_id != self.learner_id:
            raise NotFound(f"no conversation {conversation_id}; leave conversation_id out to "
                           "start a new one")
        return conversation

    def history(self, conversation_id: str) -> list[tuple[str, str]]:
        """The last few (question, answer) turns, oldest first: what condenses a follow-up."""
        with self.sessions() as session:
            rows = list(session.scalars(select(Message).where(
                Message.conversation_id == conversation_id).order_by(Message.id.desc())
                .limit(2 * self.turns)))
        rows.reverse()
        return [(q.content, a.content) for q, a in zip(rows[::2], rows[1::2])]

    def add(self, conversation_id: str, question: str, answer: str,
            citations: list[dict[str, Any]], week: int | None) -> None:
        now = utcnow()
        with self.sessions.begin() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                session.add(Conversation(id=conversation_id, learner_id=self.learner_id,
                                         title=question, created_at=now, updated_at=now))
            elif conversation.learner_id != self.learner_id:
                raise NotFound(f"no conversation {conversation_id}")
            else:
                conversation.updated_at = now
            session.add_all([
                Message(conversation_id=conversation_id, role="user", content=question,
                        citations=[], week=week, created_at=now),
                Message(conversation_id=conversation_id, role="assistant", content=answer,
                        citations=citations, week=week, created_at=now)])

    def summaries(self) -> list[dict[str, Any]]:
        """The learner's conversations, most recent first: id, title (the first question),
        when last updated, and how many turns."""
        count = func.count(Message.id)
        with self.sessions() as session:
            rows = session.execute(
                select(Conversation, count).join(Message, isouter=True)
                .where(Conversation.learner_id == self.learner_id)
                .group_by(Conversation.id)
                .order_by(Conversation.updated_at.desc(), Conversation.id)).all()
        return [{"id": c.id, "title": c.title, "updated": c.updated_at.isoformat(),
                 "turns": n // 2} for c, n in rows]

    def read(self, conversation_id: str) -> dict[str, Any]:
        conversation = self.require(conversation_id)
        with self.sessions() as session:
            messages = session.scalars(select(Message).where(
                Message.conversation_id == conversation_id).order_by(Message.id))
            return {"id": conversation.id, "title": conversation.title,
                    "updated": conversation.updated_at.isoformat(),
                    "messages": [{"role": m.role, "content": m.content, "citations": m.citations,
                                  "week": m.week, "created": m.created_at.isoformat()}
                                 for m in messages]}


def utcnow() -> dt.datetime:
    """Naive UTC, as the database's own timestamps (CURRENT_TIMESTAMP) are."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def unusable(url: str, exc: DatabaseError) -> str:
    """What a learner can do about a database that won't open, naming the file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return (f"the learner database {parsed.render_as_string(hide_password=True)} cannot be "
                f"opened ({exc.orig}); check TUTOR_DATABASE_URL and that the server is up")
    path = Path(parsed.database).resolve()
    return (f"the learner database {path} cannot be opened ({exc.orig}): the file is damaged or "
            f"not a database. Move it aside (`mv {path} {path}.broken`) to start a fresh one, or "
            "restore a backup in its place; nothing was changed")


def _identity(path: Path) -> tuple[int, int]:
    """Which file this is, whatever its name: removing or replacing it changes this."""
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def _sqlite_pragmas(connection, _record) -> None:  # noqa: ANN001 - DBAPI connection
    """WAL keeps readers going during writes; foreign keys make deletes cascade."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()

"""The learner database itself: one SQLAlchemy `Base` for every table, the errors its stores
raise, and opening it (Alembic migrations applied on open, one process at a time)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import make_url
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class LearnerRecordsError(RuntimeError):
    """The learner database cannot be used; the message says what to do."""


class NotFound(LookupError):
    pass


class AlreadyAnswered(ValueError):
    """A quiz question gets one answer; reviews are where it is asked again."""


class Base(DeclarativeBase):
    pass


Row = TypeVar("Row", bound=Base)


def learner_rows(
    session: Session, table: type[Row], learner_id: int, *order: InstrumentedAttribute[Any]
) -> list[Row]:
    """Every row of `table` (one with a `learner_id` column) that is the learner's, sorted by
    the `order` columns: each record kind's "all of mine" (journal, cards, reviews, re-plans,
    answers) is this one query."""
    mine = table.__table__.c.learner_id == learner_id
    return list(session.scalars(select(table).where(mine).order_by(*order)))


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """Naive UTC, as stored (a naive `moment` is taken to be UTC already)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def in_utc(engine: Engine) -> Engine:
    """`engine` with every PostgreSQL session set to UTC as it connects. The rows PostgreSQL
    stamps (`server_default=now()`) are stored naive, read as UTC like every time here, and a
    server or PGTZ in another zone shifted them by hours (a quiz answer and its review-log
    entry no longer met, and mastery counted the answer twice). A `SET` after the connection
    is made, committed at once (a SET in a transaction rolled back is undone), since libpq
    lets PGTZ override a TimeZone given at start-up."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _utc_session, insert=True)
    return engine


def _utc_session(connection: Any, _record: Any) -> None:
    was = connection.autocommit
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    connection.autocommit = was


# The PostgreSQL advisory lock that lets one process at a time migrate ("tutor" in ASCII).
MIGRATION_LOCK = 0x7475746F72


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`, the newest by default (a no-op when already there).

    One process at a time: `tutor serve --workers N` (or N API workers on one PostgreSQL)
    start together on a new database, and without the lock all but one failed on "table
    learners already exists", which read as a damaged file. SQLite takes the write lock
    before reading the schema version (BEGIN IMMEDIATE; others wait out its busy timeout),
    PostgreSQL an advisory lock held to the end of the transaction.

    A database already at `head_revision()` is seen with one query, without importing Alembic
    (0.3 s of every cold command)."""
    waits = {"timeout": 30} if url.startswith("sqlite") else {}  # another migrating worker
    engine = in_utc(create_engine(url, connect_args=waits))
    try:
        stored = _stored_revision(engine)
        if revision == "head" and stored == head_revision():
            return
        if stored is not None and stored not in revisions():
            where = make_url(url).render_as_string(hide_password=True)
            raise LearnerRecordsError(
                f"the learner database {where} is at schema revision {stored!r}, which this "
                f"Study Tutor does not know (its newest is {head_revision()!r}): a newer version "
                "made it. Upgrade Study Tutor, or set TUTOR_DATABASE_URL to another database; "
                "nothing was changed"
            )
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def revisions() -> set[str]:
    """Every migration's revision: migrations are named `NNNN_what.py` with revision "NNNN",
    each after the one before (tests/test_learners.py holds Alembic's own list to it)."""
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py")}


def head_revision() -> str:
    """The newest migration's revision."""
    return max(revisions())


def _stored_revision(engine: Engine) -> str | None:
    """The revision the database says it is at; None for a new or unreadable one (the
    migration then runs and reports what is wrong)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DatabaseError:
        return None


def utcnow() -> dt.datetime:
    """Naive UTC, as the database's own timestamps (CURRENT_TIMESTAMP) are."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def unusable(url: str, exc: DatabaseError) -> str:
    """What a learner can do about a database that won't open, naming the file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return (
            f"the learner database {parsed.render_as_string(hide_password=True)} cannot be "
            f"opened ({exc.orig}); check TUTOR_DATABASE_URL and that the server is up"
        )
    path = Path(parsed.database).resolve()
    if any(reason in str(exc.orig) for reason in _NOT_REACHABLE):
        return (
            f"the learner database {path} cannot be opened or written here ({exc.orig}): check "
            f"that it is a file you may read and write, in a folder you may write "
            f"({path.parent}), or set TUTOR_DATA_DIR to another; nothing was changed"
        )
    return (
        f"the learner database {path} cannot be opened ({exc.orig}): the file is damaged or "
        f"not a database. Move it aside (`mv {path} {path}.broken`) to start a fresh one, or "
        "restore a backup in its place; nothing was changed"
    )


# SQLite's words for a database it cannot reach or write (permissions, a folder in its place),
# as against one it reached and found damaged: moving such a file aside would lose its data.
_NOT_REACHABLE = ("unable to open database file", "readonly database", "read-only")


def _identity(path: Path) -> tuple[int, int]:
    """Which file this is, whatever its name: removing or replacing it changes this."""
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def _sqlite_pragmas(connection: sqlite3.Connection, _record: object) -> None:
    """WAL keeps readers going during writes; foreign keys make deletes cascade."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()

"""Ingest runs in the shared database: the ingest lock, and each run's progress and outcome.

The lock is a row: at most one run may be `running` (a partial unique index), so two ingests
on any workers or hosts sharing the database can't both start; the loser gets `IngestBusy`.
A running ingest beats its heartbeat every few seconds; one whose process died stops beating,
and after `STALE_S` it counts as failed: the lock is free again and its status says why. One
whose process was on this host is known dead at once (its pid is gone), so an ingest killed
here can be rerun straight away. Any worker answers `GET /ingest/{id}` from here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import sessionmaker

from app.records.base import Base
from app.records.base import utcnow

HEARTBEAT_S = 5.0
STALE_S = 60.0  # a dozen missed beats: the process running it is gone
PROGRESS_S = 0.5  # progress is written at most this often (the last is always written)
DIED = (
    "the process running this ingest stopped before it finished; run the ingest again: it "
    "picks up where this one stopped"
)


class IngestBusy(RuntimeError):
    """Another ingest is running on the shared index."""


class IngestRun(Base):
    __tablename__ = "ingest_runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    paths: Mapped[list[Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(8))  # running | done | failed
    files_total: Mapped[int] = mapped_column(Integer, default=0)
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    usage_error: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str] = mapped_column(String(300))  # host:pid of the process running it
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    def to_dict(self) -> dict[str, Any]:
        """As `POST /ingest` and `GET /ingest/{id}` show it."""
        return {
            "id": self.id,
            "paths": self.paths,
            "state": self.state,
            "files_total": self.files_total,
            "files_done": self.files_done,
            "chunks": self.chunks,
            "summary": self.summary,
            "error": self.error,
            "usage_error": self.usage_error,
        }


class Runs:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def begin(self, paths: list[str]) -> IngestRun:
        """A new running run, holding the lock; `IngestBusy` when another is running.
        `paths` are stored as given: redact a URL's credentials first."""
        self._expire_stale()
        now = utcnow()
        run = IngestRun(
            id=uuid.uuid4().hex[:12],
            paths=paths,
            state="running",
            files_total=0,
            files_done=0,
            chunks=0,
            summary=None,
            error="",
            usage_error=False,
            owner=f"{socket.gethostname()}:{os.getpid()}",
            created_at=now,
            heartbeat_at=now,
        )
        try:
            with self.sessions.begin() as session:
                session.add(run)
        except IntegrityError as exc:
            raise IngestBusy(
                "another ingest is running on this index; wait for it to finish"
            ) from exc
        return run

    def get(self, run_id: str) -> IngestRun | None:
        self._expire_stale()
        with self.sessions() as session:
            return session.get(IngestRun, run_id)

    def progress(self, run_id: str, files_total: int, files_done: int, chunks: int) -> None:
        self._set(run_id, files_total=files_total, files_done=files_done, chunks=chunks)

    def finish(self, run_id: str, summary: dict[str, Any]) -> None:
        self._set(run_id, state="done", summary=summary)

    def fail(self, run_id: str, error: str, usage_error: bool = False) -> None:
        self._set(run_id, state="failed", error=error, usage_error=usage_error)

    @contextmanager
    def heartbeat(self, run_id: str) -> Iterator[None]:
        """Beat the run's heartbeat from a thread of its own while the block runs, so a long
        step (a large batch being embedded) never lets the run look dead."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_S):
                with contextlib.suppress(SQLAlchemyError):  # the database is away: beat on
                    self._set(run_id)

        beater = threading.Thread(target=beat, name=f"ingest-{run_id}-heartbeat", daemon=True)
        beater.start()
        try:
            yield
        finally:
            stop.set()
            beater.join()

    def _set(self, run_id: str, **values: Any) -> None:
        """Update a running run (and beat its heartbeat); a run already ended is left as it
        is."""
        with self.sessions.begin() as session:
            session.execute(
                update(IngestRun)
                .where(IngestRun.id == run_id, IngestRun.state == "running")
                .values(heartbeat_at=utcnow(), **values)
            )

    def _expire_stale(self) -> None:
        """Fail the running run whose process is gone: silent for `STALE_S`, or on this host
        with its pid no longer running."""
        cutoff = utcnow() - dt.timedelta(seconds=STALE_S)
        here = f"{socket.gethostname()}:"
        with self.sessions.begin() as session:
            for run in session.scalars(select(IngestRun).where(IngestRun.state == "running")):
                local_pid = run.owner.removeprefix(here) if run.owner.startswith(here) else ""
                if run.heartbeat_at < cutoff or (
                    local_pid.isdigit() and not _alive(int(local_pid))
                ):
                    run.state, run.error = "failed", DIED


class RunReporter:
    """Progress of a run, written to its row (at most every `PROGRESS_S`, and at the end), and
    passed on to another reporter (the command line's progress bar)."""

    def __init__(self, runs: Runs, run_id: str, inner: Any) -> None:
        self.runs, self.run_id, self.inner = runs, run_id, inner
        self.files_total = self.files_done = self.chunks = 0
        self._written = 0.0

    def start(self, files: int) -> None:
        self.files_total = files
        self.inner.start(files)
        self.flush()

    def advance(self, files: int, chunks: int) -> None:
        self.files_done += files
        self.chunks += chunks
        self.inner.advance(files, chunks)
        if time.monotonic() - self._written >= PROGRESS_S:
            self.flush()

    def flush(self) -> None:
        self.runs.progress(self.run_id, self.files_total, self.files_done, self.chunks)
        self._written = time.monotonic()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True

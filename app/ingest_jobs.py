"""Ingest inside the API process, so the embedded Chroma store keeps a single writer.

Chroma's embedded `PersistentClient` is not safe across processes: a second process writing
while the API reads can corrupt or stale its view. When the API is running, `tutor ingest`
hands the work to it (`POST /ingest`), and it runs here, on a thread, sharing the API's store
and encoder while the API goes on answering.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Settings
from app.store import Embedder, Store
from ingest.pipeline import CORPUS_DIR, Ingestor
from ingest.sources import SourceError, is_git_url, redact

GIT_SCHEMES = ("https://", "ssh://", "file://")
SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")  # user@host:path, which git reads as ssh


class Forbidden(ValueError):
    """A path or URL the server will not ingest; the message says what is allowed."""


def ingest_roots(settings: Settings) -> list[Path]:
    """The folders a client may have the server read: the bundled corpus and TUTOR_INGEST_ROOTS."""
    return [CORPUS_DIR.resolve(), *(root.expanduser().resolve() for root in settings.ingest_roots)]


def check_allowed(value: str, roots: list[Path]) -> None:
    """Raise `Forbidden` unless `value` is a file or folder under one of `roots` (after
    resolving `..` and symbolic links, so neither leads out), or a git URL over https, ssh or
    file (a file URL's folder under a root too)."""
    if is_git_url(value):
        if not (value.lower().startswith(GIT_SCHEMES) or SCP_LIKE.match(value)):
            raise Forbidden(f"{redact(value)}: only https://, ssh:// (or user@host:path) and "
                            "file:// git URLs are accepted")
        if not value.lower().startswith("file://"):
            return
        value = value[len("file://"):]
    path = Path(value).expanduser().resolve()
    if not any(path.is_relative_to(root) for root in roots):
        raise Forbidden(f"{value} is outside the folders this server ingests from "
                        f"({', '.join(map(str, roots))}): add its folder to TUTOR_INGEST_ROOTS")


@dataclass
class Job:
    id: str
    paths: list[str]
    state: str = "running"  # running | done | failed
    files_total: int = 0
    files_done: int = 0
    chunks: int = 0
    summary: dict[str, Any] | None = None
    error: str = ""
    usage_error: bool = False  # the request itself was wrong (a path that does not exist)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "paths": self.paths, "state": self.state,
                "files_total": self.files_total, "files_done": self.files_done,
                "chunks": self.chunks, "summary": self.summary, "error": self.error,
                "usage_error": self.usage_error}


@dataclass
class _JobReporter:
    job: Job

    def start(self, files: int) -> None:
        self.job.files_total = files

    def advance(self, files: int, chunks: int) -> None:
        self.job.files_done += files
        self.job.chunks += chunks


class Busy(RuntimeError):
    """An ingest is already running."""


@dataclass
class IngestJobs:
    settings: Settings
    store: Store
    embedder: Embedder
    jobs: dict[str, Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, paths: list[str], rebuild: bool = False) -> Job:
        with self._lock:
            if any(job.state == "running" for job in self.jobs.values()):
                raise Busy("an ingest is already running; wait for it to finish")
            job = Job(id=uuid.uuid4().hex[:12], paths=[redact(p) for p in paths])
            self.jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, paths, rebuild), daemon=True).start()
        return job

    def _run(self, job: Job, paths: list[str], rebuild: bool) -> None:
        """`paths` as given (a URL's credentials go to git); the job shows them redacted."""
        try:
            ingestor = Ingestor(self.settings, store=self.store, embedder=self.embedder)
            summary = ingestor.run(paths, rebuild=rebuild, reporter=_JobReporter(job))
            job.summary, job.state = summary.to_dict(), "done"
        except Exception as exc:  # a background job reports every failure to its client
            job.error, job.state = str(exc), "failed"
            job.usage_error = isinstance(exc, SourceError)


# -- the client side: `tutor ingest` hands its work to a running API (`running_api_for`) ------


def ingest_via_api(url: str, paths: list[str], rebuild: bool,
                   on_progress: Any = None, poll_s: float = 0.5) -> dict[str, Any]:
    """Start an ingest on the API and follow it to the end; returns the finished job."""
    import time

    import httpx

    response = httpx.post(f"{url}/ingest", json={"paths": paths, "rebuild": rebuild}, timeout=30)
    if response.status_code in (403, 409):
        raise Busy(response.json()["detail"])
    response.raise_for_status()
    job = response.json()
    while job["state"] == "running":
        time.sleep(poll_s)
        job = httpx.get(f"{url}/ingest/{job['id']}", timeout=30).json()
        if on_progress:
            on_progress(job)
    return job

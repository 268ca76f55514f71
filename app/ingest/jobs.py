"""Ingest inside the API process, so the embedded Chroma store keeps a single writer.

Chroma's embedded `PersistentClient` is not safe across processes: a second process writing
while the API reads can corrupt or stale its view. When the API is running, `tutor ingest`
hands the work to it (`POST /ingest`), and it runs here, on a thread of lower priority, sharing
the API's store while the API goes on answering. The run's state is in the database, so with
several workers any of them answers `GET /ingest/{id}`.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import Settings
from app.ingest.pipeline import CORPUS_DIR
from app.ingest.pipeline import Ingestor
from app.ingest.runs import IngestBusy
from app.ingest.runs import IngestRun
from app.ingest.sources import is_git_url
from app.ingest.sources import local_path
from app.ingest.sources import redact
from app.records.learners import LearnerRecords
from app.search.vectors import Embedder
from app.search.vectors import VectorStore

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
    file (a file URL's folder under a root too); SourceError for a `~user` with no such user."""
    if is_git_url(value):
        if not (value.lower().startswith(GIT_SCHEMES) or SCP_LIKE.match(value)):
            raise Forbidden(
                f"{redact(value)}: only https://, ssh:// (or user@host:path) and "
                "file:// git URLs are accepted"
            )
        if not value.lower().startswith("file://"):
            return
        value = value[len("file://") :]
    path = local_path(value).resolve()
    if not any(path.is_relative_to(root) for root in roots):
        raise Forbidden(
            f"{value} is outside the folders this server ingests from "
            f"({', '.join(map(str, roots))}): add its folder to TUTOR_INGEST_ROOTS"
        )


@dataclass
class IngestJobs:
    """Ingest runs started by the API, each on a thread of this process; their state is in the
    database (`app.ingest.runs`), so any worker can report on any of them (GET /ingest/{id}).

    Queries come first: the run's encoder (torch, for throughput) takes one core fewer than
    the machine has, and the run's thread lowers its own priority (TUTOR_INGEST_NICE) before
    it encodes, so the threads it starts inherit that, and on a busy machine the kernel
    gives search and answers the cores first. A modest nice: at 10, beside three busy
    processes, an ingest got so little of the machine that it did not end."""

    settings: Settings
    store: VectorStore
    database: LearnerRecords

    def start(self, paths: list[str], rebuild: bool = False) -> dict[str, Any]:
        """The run, begun and running; `IngestBusy` when another ingest is running."""
        embedder = Embedder(  # loaded at its first use, on the run's thread
            self.settings.embedding_model,
            self.settings.encoder_cache_dir,
            threads=max(1, (os.cpu_count() or 2) - 1),  # a core left for the answers
            engine="torch",
            for_ingest=True,
        )
        ingestor = Ingestor(
            self.settings, store=self.store, embedder=embedder, database=self.database
        )
        run = ingestor.runs.begin([redact(p) for p in paths])
        threading.Thread(
            target=self._run,
            args=(ingestor, run, paths, rebuild),
            daemon=True,
            name=f"ingest-{run.id}",
        ).start()
        return run.to_dict()

    def _run(self, ingestor: Ingestor, run: IngestRun, paths: list[str], rebuild: bool) -> None:
        """`paths` as given (a URL's credentials go to git); the run shows them redacted."""
        with contextlib.suppress(Exception):  # recorded in the run, where its client reads it
            lower_this_threads_priority(self.settings.ingest_nice)
            ingestor.run(paths, rebuild=rebuild, run=run)


def lower_this_threads_priority(nice: int) -> None:
    """Raise the calling thread's nice value by `nice` (Linux keeps one per thread, and a
    thread started from it inherits it). Elsewhere the call would renice the whole process,
    the API's answers included, so it does nothing there."""
    if nice and sys.platform == "linux":
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))


# -- the client side: `tutor ingest` hands its work to a running API (`running_api_for`) ------


def ingest_via_api(
    url: str, paths: list[str], rebuild: bool, on_progress: Any = None, poll_s: float = 0.5
) -> dict[str, Any]:
    """Start an ingest on the API and follow it to the end; returns the finished run.

    Raises `Forbidden` for a path the API won't read, and `IngestBusy` when another ingest
    is running or the API does not answer: it owns the index, so nothing is written here."""
    import time

    import httpx

    try:
        # one client for the run: a client per poll read the system's certificates each time
        with httpx.Client(timeout=30) as client:
            response = client.post(f"{url}/ingest", json={"paths": paths, "rebuild": rebuild})
            if response.status_code == 403:
                raise Forbidden(response.json()["detail"])
            if response.status_code != 202:
                raise IngestBusy(
                    f"the API at {url} refused the ingest (HTTP {response.status_code}: "
                    f"{response.json()['detail']})"
                )
            job = response.json()
            while job["state"] == "running":
                time.sleep(poll_s)
                job = client.get(f"{url}/ingest/{job['id']}").raise_for_status().json()
                if on_progress:
                    on_progress(job)
    except Forbidden:  # a ValueError: the API answered, and refused
        raise
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise IngestBusy(
            f"the API at {url} owns this index but did not answer ({exc}); "
            "ingest again once it answers, or stop it first"
        ) from exc
    return job

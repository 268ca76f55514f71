"""Which process owns an embedded index: a running API holds a lock on `data_dir/api.lock`.

Chroma's embedded store wants one writer. While an API serves a data dir with the embedded
store, its one process holds an exclusive `flock` on `api.lock`, with the API's URL written
inside. The command line asks the kernel whether that lock is held (a non-blocking try for a
shared lock), not the API over HTTP: an API too busy to answer /health within a
timeout is still the owner, so the command line never writes under it. The kernel drops the
lock when the process ends, however it ends (a crash, kill -9), so a stale claim can't linger.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from app.config import Settings
from app.config import private_dir

LOCK_FILE = "api.lock"
OPEN_LOCK_FILE = "open.lock"


CLAIM_WAIT_S = 2.0  # a command line's look at the lock (`owner`) holds it for microseconds


class Claimed(RuntimeError):
    """Another API (at `url`, "" when unknown) holds `data_dir`; the message says what to do."""

    def __init__(self, data_dir: Path, url: str) -> None:
        super().__init__(
            f"another API{f' ({url})' if url else ''} already serves {data_dir}: use that one, "
            "stop it first, or give this one its own --data-dir"
        )


def claim(data_dir: Path, url: str) -> TextIO:
    """Hold the data dir for this running API (its URL written inside) until the returned file
    is closed or the process ends. Exclusive: embedded Chroma wants one writer, so one API
    process at a time (`tutor serve` refuses workers without a Chroma server). Two APIs started
    at the same instant both passed a look at the lock before either held it, and both ran.

    Raises Claimed when another API holds it (waited for up to CLAIM_WAIT_S, as a command line
    looking at it holds it for an instant)."""
    private_dir(data_dir)
    handle = open(data_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held open for the API's life
    deadline = time.monotonic() + CLAIM_WAIT_S
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(0.02)
                continue
            handle.seek(0)
            other = handle.read().strip()
            handle.close()
            raise Claimed(data_dir, other) from None
    handle.truncate(0)
    handle.write(url)
    handle.flush()
    return handle


def claim_for(settings: Settings) -> TextIO | None:
    """`claim` of the settings' data dir for the API at their URL where the index is embedded;
    None with a Chroma server, which takes any number of writers. Raises Claimed."""
    return None if settings.chroma_url else claim(settings.data_dir, settings.resolved_api_url)


def owner(data_dir: Path) -> str | None:
    """The URL of the API holding `data_dir` ("" while it is still writing it), or None when
    no API does. A shared try: command lines looking at once do not see each other as APIs."""
    try:
        handle = open(data_dir / LOCK_FILE)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # held: an API is running
            return handle.read().strip()
        return None  # closing the file lets go of the lock we just took


@contextmanager
def opening(chroma_dir: Path) -> Iterator[None]:
    """One process at a time opens the embedded index in `chroma_dir` (an exclusive `flock` on
    `chroma_dir/open.lock`, waited for).

    Chroma's embedded client creates its tables on the first open of a folder, and a second
    process opening the same new folder at that moment fails on "table collections already
    exists": `tutor serve --workers 2` on a new data dir answered /health "degraded" from one
    worker. The lock costs a millisecond when nobody else holds it."""
    with open(chroma_dir / OPEN_LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file lets go of the lock

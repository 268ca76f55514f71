"""The command line's key to its own learner through a running API: `data_dir/local.key`.

The command line's learner (`LearnerRecords.local_learner`) needs no token in this process:
whoever can read the data dir owns its database anyway. Through a running API it needs one, or
its week, its conversations and `back_to` would have to come from the database here, and
opening it costs a fifth of a second of SQLAlchemy imports in every `tutor ask`, a third of
the command's time (issue #28). So the command line gives its learner a token once, keeps it
in a file only its user can read (0600, in the 0700 data dir) and sends it as any learner
sends theirs. The file gives nobody more than they had: anyone who can read it can read the
learner database beside it. That holds where the data dir is this user's alone (it is made
0700) and the database in it; a learner database elsewhere (TUTOR_DATABASE_URL) is guarded by
its own permissions, and this file by the data dir's.

The file names the database its token belongs to (a digest of its URL), so a command line
pointed at another database (TUTOR_DATABASE_URL) makes its own key rather than use one the
API would not know.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.config import Settings
from app.config import private_dir

if TYPE_CHECKING:
    from app.records.learners import LearnerRecords

KEY_FILE = "local.key"
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")  # secrets.token_urlsafe(32): 43 of these


@dataclass(frozen=True)
class LocalKey:
    """The command line's learner as the API knows it: its id and a bearer token."""

    learner_id: int
    token: str


def _database(settings: Settings) -> str:
    return hashlib.sha256(settings.resolved_database_url.encode()).hexdigest()[:16]


def read_key(settings: Settings) -> LocalKey | None:
    """The key kept for this learner database, or None: no file, a file of another database,
    one that is not this user's alone (it is not trusted, and is made again), or one
    unreadable as a key."""
    path = settings.data_dir / KEY_FILE
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.geteuid() or info.st_mode & 0o077:
                return None
            kept = json.loads(handle.read(4096))
        if kept["database"] != _database(settings) or not TOKEN.fullmatch(kept["token"]):
            return None  # a token no API made: it would go into a header as it is
        return LocalKey(int(kept["learner_id"]), kept["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def making_key(settings: Settings) -> Iterator[None]:
    """One command at a time makes a key (an exclusive `flock` on `local.key.lock`): two first
    questions at once made a token each, and the second's undid the first's. Without a lock
    file (a data dir that cannot be written) it goes on unguarded."""
    try:
        lock = private_dir(settings.data_dir) / f"{KEY_FILE}.lock"
        handle = os.fdopen(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def new_key(store: LearnerRecords) -> LocalKey:
    """A new key to the command line's learner (made on first use); the key before it stops
    working. Raises LearnerRecordsError, naming what to do."""
    from sqlalchemy.exc import DatabaseError

    from app.records.base import LearnerRecordsError

    try:
        learner = store.local_learner(dt.date.today())
        return LocalKey(learner.id, store.new_token(learner.id))
    except DatabaseError as exc:  # "database is locked": another process writing for long
        raise LearnerRecordsError(
            f"the learner database could not be written ({exc.orig}); try again in a moment"
        ) from exc


def keep_key(settings: Settings, key: LocalKey) -> None:
    """Writes `key` for the next command: whole or not at all (a new file renamed over the old
    one), readable by this user alone. Raises OSError."""
    body = {"database": _database(settings), "learner_id": key.learner_id, "token": key.token}
    path = private_dir(settings.data_dir) / KEY_FILE
    partial = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()  # left by a command that died here: O_EXCL gets a file of mode 0600
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(body, handle)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()  # left only where the rename failed: it holds a working token


def forget_key(settings: Settings, key: LocalKey) -> None:
    """Drops `key`, which the API no longer knows (its database was replaced, or is another
    one), so the next command makes a new one; a key another command has kept since stays."""
    with making_key(settings):
        if read_key(settings) == key:
            with contextlib.suppress(FileNotFoundError):
                (settings.data_dir / KEY_FILE).unlink()

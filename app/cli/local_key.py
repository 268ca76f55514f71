"""The command line's key to its own learner through a running API: `data_dir/local.key`.

The command line's learner (`LearnerRecords.local_learner`) needs no token in this process:
whoever can read the data dir owns its database anyway. Through a running API it needs one, or
its week, its conversations and `back_to` would have to come from the database here, and
opening it costs a fifth of a second of SQLAlchemy imports in every `tutor ask`, a third of
the command's time (issue #28). So the command line gives its learner a token once, keeps it
in a file only its user can read (0600, in the 0700 data dir) and sends it as any learner
sends theirs. The file gives nobody more than they had: anyone who can read it can read the
learner database beside it.

The file names the database its token belongs to (a digest of its URL), so a command line
pointed at another database (TUTOR_DATABASE_URL) makes its own key rather than use one the
API would not know.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import Settings
from app.config import private_dir

if TYPE_CHECKING:
    from app.records.learners import LearnerRecords

KEY_FILE = "local.key"


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
        if kept["database"] != _database(settings):
            return None
        return LocalKey(int(kept["learner_id"]), str(kept["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def new_key(store: LearnerRecords) -> LocalKey:
    """A new key to the command line's learner (made on first use); the key before it stops
    working. Raises LearnerRecordsError."""
    learner = store.local_learner(dt.date.today())
    return LocalKey(learner.id, store.new_token(learner.id))


def keep_key(settings: Settings, key: LocalKey) -> None:
    """Writes `key` for the next command: whole or not at all (a new file renamed over the old
    one), readable by this user alone. Raises OSError."""
    body = {"database": _database(settings), "learner_id": key.learner_id, "token": key.token}
    path = private_dir(settings.data_dir) / KEY_FILE
    partial = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()  # left by a command that died here: O_EXCL gets a file of mode 0600
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(body, handle)
    os.replace(partial, path)


def forget_key(data_dir: Path) -> None:
    """Drops a key the API no longer knows (its database was replaced, or is another one):
    the next command makes a new one."""
    with contextlib.suppress(FileNotFoundError):
        (data_dir / KEY_FILE).unlink()

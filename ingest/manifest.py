"""What is in the index, per file: its content hash and state, in SQLite beside Chroma.

A file is marked `pending` before its chunks are touched in Chroma and `done` after, in
separate transactions. A run killed in between leaves the row pending, so the next run redoes
that file (deleting whatever half-state Chroma holds for it first): no duplicates, no gaps.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    root TEXT NOT NULL,
    file TEXT NOT NULL,
    hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    chunks INTEGER NOT NULL DEFAULT 0,
    chars INTEGER NOT NULL DEFAULT 0,
    weeks TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (root, file)
);
"""


@dataclass(frozen=True)
class Entry:
    hash: str
    state: str
    chunks: int


class Manifest:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def entries(self, root: str) -> dict[str, Entry]:
        rows = self.db.execute("SELECT file, hash, state, chunks FROM files WHERE root = ?", (root,))
        return {file: Entry(h, s, c) for file, h, s, c in rows}

    def roots(self) -> list[str]:
        """Every root key that has files in the index."""
        return [key for (key,) in self.db.execute("SELECT DISTINCT root FROM files ORDER BY root")]

    def remove_root(self, root: str) -> None:
        self.db.execute("DELETE FROM files WHERE root = ?", (root,))

    def mark_pending(self, root: str, files: dict[str, str]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT INTO files (root, file, hash, state) VALUES (?, ?, ?, 'pending') "
                "ON CONFLICT (root, file) DO UPDATE SET state = 'pending', updated_at = CURRENT_TIMESTAMP",
                [(root, f, h) for f, h in files.items()],
            )

    def mark_done(self, root: str, file: str, hash_: str, chunks: int, chars: int) -> None:
        self.db.execute(
            "UPDATE files SET hash = ?, state = 'done', chunks = ?, chars = ?, "
            "updated_at = CURRENT_TIMESTAMP WHERE root = ? AND file = ?",
            (hash_, chunks, chars, root, file),
        )

    def remove(self, root: str, file: str) -> None:
        self.db.execute("DELETE FROM files WHERE root = ? AND file = ?", (root, file))

    def clear(self) -> None:
        self.db.execute("DELETE FROM files")

    def close(self) -> None:
        self.db.close()

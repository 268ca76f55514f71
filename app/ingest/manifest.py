"""What is in the index, per file: its content hash and state, in the database every worker
shares (the learner database: SQLite in the data dir, or PostgreSQL for a group's server).

A file is marked `pending` before its chunks are touched in Chroma and `done` after, in
separate transactions. A run killed in between leaves the row pending, so the next run redoes
that file (deleting whatever half-state Chroma holds for it first): no duplicates, no gaps.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import DateTime
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import sessionmaker

from app.records.base import Base
from app.records.base import utcnow

LEGACY_FILE = "manifest.sqlite"  # where the manifest lived before it moved to the database


class IngestFile(Base):
    __tablename__ = "ingest_files"
    root: Mapped[str] = mapped_column(Text, primary_key=True)
    file: Mapped[str] = mapped_column(Text, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(8))  # pending | done
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    chars: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


@dataclass(frozen=True)
class Entry:
    hash: str
    state: str
    chunks: int


class Manifest:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def entries(self, root: str) -> dict[str, Entry]:
        with self.sessions() as session:
            rows = session.scalars(select(IngestFile).where(IngestFile.root == root))
            return {row.file: Entry(row.hash, row.state, row.chunks) for row in rows}

    def roots(self) -> list[str]:
        """Every root key that has files in the index."""
        with self.sessions() as session:
            return list(
                session.scalars(select(IngestFile.root).distinct().order_by(IngestFile.root))
            )

    def remove_root(self, root: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(IngestFile).where(IngestFile.root == root))

    def mark_pending(self, root: str, files: dict[str, str]) -> None:
        """Before a batch's chunks change in Chroma: new files get a row, known ones go back
        to pending (keeping their old hash until `mark_done`)."""
        now = utcnow()
        with self.sessions.begin() as session:
            for file, hash_ in files.items():
                row = session.get(IngestFile, (root, file))
                if row is None:
                    session.add(
                        IngestFile(
                            root=root, file=file, hash=hash_, state="pending", updated_at=now
                        )
                    )
                else:
                    row.state, row.updated_at = "pending", now

    def mark_done(self, root: str, file: str, hash_: str, chunks: int, chars: int) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(IngestFile)
                .where(IngestFile.root == root, IngestFile.file == file)
                .values(hash=hash_, state="done", chunks=chunks, chars=chars, updated_at=utcnow())
            )

    def remove(self, root: str, file: str) -> None:
        with self.sessions.begin() as session:
            session.execute(
                delete(IngestFile).where(IngestFile.root == root, IngestFile.file == file)
            )

    def clear(self) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(IngestFile))

    def import_legacy(self, data_dir: Path) -> int:
        """Take over the manifest an older version kept in `data_dir/manifest.sqlite`, so an
        upgrade does not re-embed everything; the file is renamed `.imported` so it is read
        once. Returns the rows taken (0 when there is no such file or the table has rows)."""
        legacy = data_dir / LEGACY_FILE
        if not legacy.exists():
            return 0
        with self.sessions() as session:
            if session.scalar(select(func.count()).select_from(IngestFile)):
                return 0
        with sqlite3.connect(f"file:{legacy}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT root, file, hash, state, chunks, chars FROM files").fetchall()
        with self.sessions.begin() as session:
            session.add_all(
                IngestFile(root=r, file=f, hash=h, state=s, chunks=c, chars=n)
                for r, f, h, s, c, n in rows
            )
        legacy.rename(legacy.with_name(LEGACY_FILE + ".imported"))
        return len(rows)

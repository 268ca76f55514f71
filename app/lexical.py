"""BM25 over the same chunks as Chroma (`bm25s`), persisted beside it in the data dir.

Ingest rebuilds it after every run that changed the index, so the two stay in step; readers
reload it when its stamp file changes (an ingest in another process).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import bm25s

from app.store import Store

STAMP = "stamp.json"


def _tokens(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)


def lexical_dir(data_dir: Path) -> Path:
    return data_dir / "bm25"


def rebuild(store: Store, data_dir: Path) -> int:
    """Index every chunk in the store; written to a temp folder and swapped in atomically."""
    everything = store.all(include=["documents", "metadatas"])
    ids, texts = everything["ids"], everything["documents"]
    target = lexical_dir(data_dir)
    staging = target.with_name("bm25.new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if ids:
        headings = [m.get("heading", "") for m in everything["metadatas"]]
        index = bm25s.BM25()
        index.index(_tokens([f"{h}\n{t}" for h, t in zip(headings, texts)]), show_progress=False)
        index.save(str(staging))
    (staging / "ids.json").write_text(json.dumps(ids))
    (staging / STAMP).write_text(json.dumps({"chunks": len(ids)}))
    old = target.with_name("bm25.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
    return len(ids)


class LexicalIndex:
    """A loaded BM25 index that notices when ingest has replaced it."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = lexical_dir(data_dir)
        self._stamp: float | None = None
        self._index: bm25s.BM25 | None = None
        self._ids: list[str] = []

    def _fresh(self) -> None:
        stamp_file = self.folder / STAMP
        stamp = stamp_file.stat().st_mtime_ns if stamp_file.exists() else None
        if stamp == self._stamp:
            return
        self._stamp = stamp
        self._ids = json.loads((self.folder / "ids.json").read_text()) if stamp else []
        self._index = bm25s.BM25.load(str(self.folder)) if self._ids else None

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores, best first; only chunks sharing a term with the query."""
        self._fresh()
        if self._index is None or not query.strip():
            return []
        tokens = _tokens([query])
        if not tokens[0]:
            return []
        docs, scores = self._index.retrieve(tokens, k=min(n, len(self._ids)), show_progress=False)
        return [(self._ids[d], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

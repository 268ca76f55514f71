"""BM25 over the same chunks as Chroma (`bm25s`), persisted beside it in the data dir.

Ingest rebuilds it after every run that changed the index, so the two stay in step; readers
reload it when its stamp file changes (an ingest in another process).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import bm25s
from bm25s.stopwords import STOPWORDS_EN

from app.store import Store

STAMP = "stamp.json"


# Scripts written without spaces between words (Chinese, Japanese kana and kanji, Thai, Lao,
# Khmer, Myanmar): a run of them is one "word" to a space-based tokenizer, so a query never
# matches it. Overlapping character bigrams are the standard fix (as Lucene's CJK analyzer):
# no dictionary needed, and a two-character query word is found inside any sentence.
_UNSPACED = ("\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
             "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f")
_RUN = re.compile(rf"[{_UNSPACED}]+|[^\W{_UNSPACED}]+")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_UNSPACED_CHAR = re.compile(rf"[{_UNSPACED}]")
_STOPWORDS = frozenset(STOPWORDS_EN)


def _words(text: str) -> list[str]:
    """BM25 terms of one text: bigrams of unspaced scripts; other words lower-cased, and a code
    identifier (`max_seq_length`, `getItem`) also as its parts, so either form finds it."""
    terms: list[str] = []
    for run in _RUN.findall(text):
        if _UNSPACED_CHAR.match(run):
            terms += [run[i:i + 2] for i in range(len(run) - 1)] or [run]
            continue
        parts = [p for piece in run.split("_") for p in _CAMEL.findall(piece)]
        for term in dict.fromkeys([run, *parts] if len(parts) > 1 else [run]):
            term = term.lower()
            if len(term) > 1 and term not in _STOPWORDS:
                terms.append(term)
    return terms


def _tokens(texts: list[str]) -> list[list[str]]:
    return [_words(text) for text in texts]


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


@dataclass(frozen=True)
class _Loaded:
    stamp: int | None
    ids: list[str]
    index: bm25s.BM25 | None


class LexicalIndex:
    """A loaded BM25 index that notices when ingest has replaced it.

    The ids and the index are swapped in together, as one value, so a search running while
    another thread reloads always sees a matching pair."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = lexical_dir(data_dir)
        self._loaded = _Loaded(None, [], None)
        self._lock = threading.Lock()

    def _current(self) -> _Loaded:
        stamp_file = self.folder / STAMP
        try:
            stamp = stamp_file.stat().st_mtime_ns
        except FileNotFoundError:  # not built yet, or being swapped right now
            return self._loaded
        if stamp == self._loaded.stamp:
            return self._loaded
        with self._lock:
            if stamp != self._loaded.stamp:
                try:
                    ids = json.loads((self.folder / "ids.json").read_text())
                    index = bm25s.BM25.load(str(self.folder)) if ids else None
                except (FileNotFoundError, ValueError):  # swapped mid-read: keep the old one
                    return self._loaded
                self._loaded = _Loaded(stamp, ids, index)
        return self._loaded

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores, best first; only chunks sharing a term with the query."""
        loaded = self._current()
        if loaded.index is None or not query.strip():
            return []
        tokens = _tokens([query])
        if not tokens[0]:
            return []
        docs, scores = loaded.index.retrieve(tokens, k=min(n, len(loaded.ids)), show_progress=False)
        return [(loaded.ids[d], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

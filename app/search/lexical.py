"""BM25 over the same chunks as Chroma (`bm25s`), derived from them in each process.

Chroma is the one place the chunks live; every process (an API worker on any host, the command
line) builds its BM25 index from the chunks it holds and rebuilds it when the collection's
version changes (ingest marks each change, whichever process ran it). The index is cached in
the data dir under that version, so a new process loads it in milliseconds instead of
rebuilding; losing the cache costs one rebuild (0.2 s for the bundled corpus's 642 chunks).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import bm25s
from bm25s.stopwords import STOPWORDS_EN

from app.search.vectors import VectorStore

STAMP = "stamp.json"
# How text becomes terms (`_words`): a cache built by another analyzer is rebuilt.
ANALYZER = "dotted-identifiers-1"


# Scripts written without spaces between words (Chinese, Japanese kana and kanji, Thai, Lao,
# Khmer, Myanmar): a run of them is one "word" to a space-based tokenizer, so a query never
# matches it. Overlapping character bigrams are the standard fix (as Lucene's CJK analyzer):
# no dictionary needed, and a two-character query word is found inside any sentence.
_UNSPACED = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
)
# A word, or a dotted name (`model.eval`, `nn.Dropout`, `F.cross_entropy`): one term whole.
_WORD = rf"[^\W{_UNSPACED}]+"
_RUN = re.compile(rf"[{_UNSPACED}]+|{_WORD}(?:\.{_WORD})*")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_UNSPACED_CHAR = re.compile(rf"[{_UNSPACED}]")
_STOPWORDS = frozenset(STOPWORDS_EN)


def _words(text: str) -> list[str]:
    """BM25 terms of one text: bigrams of unspaced scripts; other words lower-cased, and a code
    identifier (`max_seq_length`, `getItem`, `model.eval`) also as its parts, so either form
    finds it."""
    terms: list[str] = []
    for run in _RUN.findall(text):
        if _UNSPACED_CHAR.match(run):
            terms += [run[i : i + 2] for i in range(len(run) - 1)] or [run]
            continue
        parts = [p for piece in re.split(r"[_.]", run) for p in _CAMEL.findall(piece)]
        for term in dict.fromkeys([run, *parts] if len(parts) > 1 else [run]):
            term = term.lower()
            if len(term) > 1 and term not in _STOPWORDS:
                terms.append(term)
    return terms


def _tokens(texts: list[str]) -> list[list[str]]:
    return [_words(text) for text in texts]


def lexical_dir(data_dir: Path) -> Path:
    return data_dir / "bm25"


@dataclass(frozen=True)
class _Loaded:
    """One version of the index: the ids and the index always go together."""

    version: str | None
    ids: list[str]
    index: bm25s.BM25 | None


def build(store: VectorStore, version: str) -> _Loaded:
    """Index every chunk the store holds, headings included (read after `version`, so the
    chunks are at least that new)."""
    everything = store.all(include=["documents", "metadatas"])
    ids, texts = everything["ids"], everything["documents"]
    if not ids:
        return _Loaded(version, [], None)
    headings = [(m or {}).get("heading", "") for m in everything["metadatas"]]
    index = bm25s.BM25()
    index.index(_tokens([f"{h}\n{t}" for h, t in zip(headings, texts)]), show_progress=False)
    return _Loaded(version, ids, index)


class _Cache:
    """One built index in a folder of the data dir, with the version it was built from.
    Written to a folder of its own and renamed into place, so a reader (in any process
    sharing the data dir) sees a whole index or none; anything odd is a miss, never an error."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, version: str) -> _Loaded | None:
        try:
            if self._stamp() != {"version": version, "analyzer": ANALYZER}:
                return None
            ids = json.loads((self.folder / "ids.json").read_text())
            index = bm25s.BM25.load(str(self.folder)) if ids else None
            if self._stamp() != {"version": version, "analyzer": ANALYZER}:  # replaced meanwhile
                return None
        except Exception:  # noqa: BLE001 - a cache half-written, damaged or old: rebuild it
            return None
        return _Loaded(version, ids, index)

    def save(self, loaded: _Loaded) -> None:
        staging = self.folder.with_name(f"{self.folder.name}.{uuid.uuid4().hex}.new")
        old = self.folder.with_name(f"{self.folder.name}.{uuid.uuid4().hex}.old")
        try:
            staging.mkdir(parents=True)
            if loaded.index is not None:
                loaded.index.save(str(staging))
            (staging / "ids.json").write_text(json.dumps(loaded.ids))
            stamp = {"version": loaded.version, "analyzer": ANALYZER}
            (staging / STAMP).write_text(json.dumps(stamp))
            if self.folder.exists():
                os.replace(self.folder, old)
            os.replace(staging, self.folder)
        except OSError:  # a read-only data dir, or another process swapping at once
            pass
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)

    def _stamp(self) -> dict[str, str | None]:
        return dict(json.loads((self.folder / STAMP).read_text()))


class LexicalIndex:
    """The BM25 index of `store`'s chunks, rebuilt when their version changes; cached in
    `data_dir` when one is given.

    A search running while another thread rebuilds uses the index it had (one rebuild at a
    time; no search waits for it unless there is no index yet)."""

    def __init__(self, store: VectorStore, data_dir: Path | None = None) -> None:
        self.store = store
        self.cache = _Cache(lexical_dir(data_dir)) if data_dir is not None else None
        self._loaded = _Loaded(None, [], None)
        self._lock = threading.Lock()

    def _current(self) -> _Loaded:
        version = self.store.version()
        if version == self._loaded.version:
            return self._loaded
        if not self._lock.acquire(blocking=self._loaded.version is None):
            return self._loaded  # another thread is building the new one
        try:
            if version != self._loaded.version:
                self._loaded = self._load(version)
        finally:
            self._lock.release()
        return self._loaded

    def _load(self, version: str) -> _Loaded:
        cached = self.cache.load(version) if self.cache else None
        if cached is not None:
            return cached
        built = build(self.store, version)
        if self.cache:
            self.cache.save(built)
        return built

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores, best first; only chunks sharing a term with the query.
        Raises `VectorStoreError` when Chroma can't be reached."""
        loaded = self._current()
        if loaded.index is None or not query.strip():
            return []
        tokens = _tokens([query])
        if not tokens[0]:
            return []
        docs, scores = loaded.index.retrieve(tokens, k=min(n, len(loaded.ids)), show_progress=False)
        return [(loaded.ids[d], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

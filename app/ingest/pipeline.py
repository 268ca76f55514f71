"""Ingest: files -> documents -> chunks -> vectors -> Chroma, incrementally and safely.

Only new or changed files (by content hash) are embedded; files gone from an ingested folder
have their chunks removed; when anything changed the collection is marked so, and every
process rebuilds its BM25 index from it. Work goes in batches of files: embed the batch (one
large encoder call, sorted by length), mark its files pending, replace their chunks, mark them
done. Chunk ids derive from content, so redoing a batch after a crash upserts the same ids: no
duplicates. The manifest and the run (lock, progress, outcome) live in the shared database.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Protocol

import numpy as np

from app.config import Settings
from app.course.curriculum import CURRICULUM_FILE
from app.course.curriculum import CurriculumError
from app.course.curriculum import load_curriculum
from app.ingest.chunking import Chunk
from app.ingest.chunking import chunk_markdown
from app.ingest.documents import Document
from app.ingest.documents import curriculum_documents
from app.ingest.loaders import LoadError
from app.ingest.loaders import load
from app.ingest.manifest import Manifest
from app.ingest.runs import IngestRun
from app.ingest.runs import RunReporter
from app.ingest.runs import Runs
from app.ingest.sources import Root
from app.ingest.sources import SourceError
from app.ingest.sources import check_local_paths
from app.ingest.sources import redact
from app.ingest.sources import resolve
from app.ingest.sources import unify
from app.ingest.week_tagging import WeekTagger
from app.ingest.week_tagging import week_topics
from app.records.card_sources import flag_changed_sources
from app.records.learners import LearnerRecords
from app.search.vectors import Embedder
from app.search.vectors import VectorStore
from app.search.vectors import VectorStoreError

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus"
BATCH_CHUNKS = 512
# Texts per forward pass while ingesting: chunks sorted by length in 16s are padded least, and
# on two cores 16 encoded 41 chunks/s in fp32 and 98 in bf16, against 36 and 83 at 64.
ENCODE_BATCH = 16


class Reporter(Protocol):
    def start(self, files: int) -> None: ...
    def advance(self, files: int, chunks: int) -> None: ...


class SilentReporter:
    def start(self, files: int) -> None:
        pass

    def advance(self, files: int, chunks: int) -> None:
        pass


@dataclass
class Skipped:
    source: str
    reason: str


@dataclass
class Notice:
    """A file that went in, with something its owner should know (an encoding, a field)."""

    source: str
    message: str


@dataclass
class Summary:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    chunks: int = 0
    reused: int = 0  # chunks of changed files whose text (and so vector) had not changed
    chars: int = 0
    seconds: float = 0.0
    index_chunks: int = 0
    cards_flagged: int = 0  # learners' cards quoting a passage this run changed or removed

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0

    @property
    def chars_per_s(self) -> float:
        return self.chars / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["chunks_per_s"] = round(self.chunks_per_s, 2)
        data["chars_per_s"] = round(self.chars_per_s, 1)
        data["seconds"] = round(self.seconds, 2)
        return data


@dataclass
class Prepared:
    """One changed file, loaded and chunked, waiting for its vectors."""

    file: str
    hash: str
    docs: list[tuple[Document, list[Chunk]]]
    state: str | None = None  # the manifest's state for this file before this run, if any
    warnings: list[str] = field(default_factory=list)

    @property
    def chunk_count(self) -> int:
        return sum(len(chunks) for _, chunks in self.docs)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chunk_id(root: str, file: str, source: str, ordinal: int, text: str) -> str:
    return hashlib.sha256(f"{root}\0{file}\0{source}\0{ordinal}\0{text}".encode()).hexdigest()[:32]


def content_hash(embed_text: str) -> str:
    """Identity of what the encoder reads: equal text, equal vector, so it is embedded once."""
    return hashlib.sha256(embed_text.encode()).hexdigest()[:32]


@contextmanager
def step(name: str) -> Iterator[None]:
    """Turn any failure in one step for one file into a `LoadError` that names the step.

    Known problems already carry their own reason; anything else (a parser bug, an encoder
    fault on odd input) costs that file only, reported on one line, and the run goes on."""
    try:
        yield
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        raise LoadError(
            f"{name} failed ({type(exc).__name__}: {detail}); the file was left out "
            "and the rest went in: please report it with this file"
        ) from exc


class Ingestor:
    """Holds the encoder, the store, the database and the week tagger for one or more ingest
    runs. `database`: the learner database (opened from the settings when not given), where the
    manifest and the runs are kept."""

    def __init__(
        self,
        settings: Settings,
        store: VectorStore | None = None,
        embedder: Embedder | None = None,
        database: LearnerRecords | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or VectorStore(settings)
        self.embedder = embedder or Embedder(
            settings.embedding_model,
            settings.encoder_cache_dir,
            engine="torch",
            for_ingest=True,
            precision=settings.encoder_precision,
        )
        self.database = database or LearnerRecords(settings.resolved_database_url)
        self.runs = Runs(self.database.sessions)
        self.max_file_bytes = int(settings.ingest_max_file_mb * 2**20)
        self._tagger: WeekTagger | None = None

    # -- preparation -------------------------------------------------------------------------

    def chunk(self, doc: Document) -> list[Chunk]:
        # Two places go to the [CLS] and [SEP] tokens the encoder adds.
        return chunk_markdown(
            doc.text, self.embedder.count_tokens, self.embedder.max_tokens - 2, doc.title
        )

    def documents(self, root: Root, path: Path) -> tuple[list[Document], list[str]]:
        """The file's documents, and the warnings reading it gave."""
        file = root.relative(path)
        if path.name == CURRICULUM_FILE:
            try:
                return curriculum_documents(load_curriculum(path)), []
            except CurriculumError as exc:
                raise LoadError(str(exc)) from exc
        loaded = load(path, self.max_file_bytes)
        week, months = loaded.meta.get("week"), loaded.meta.get("months") or []
        weeks: list[int] = []
        if week:
            weeks = [week] + [
                w for m in months for w in range((m - 1) * 4 + 1, m * 4 + 1) if w != week
            ]
        return [
            Document(
                source=file,
                title=loaded.title,
                text=loaded.text,
                kind="note" if weeks else "public",
                url=loaded.meta.get("url") or "",
                weeks=weeks,
            )
        ], loaded.warnings

    def prepare(self, root: Root, path: Path, hash_: str, state: str | None = None) -> Prepared:
        with step("reading"):
            docs, warnings = self.documents(root, path)
        with step("chunking"):
            chunked = [(d, self.chunk(d)) for d in docs]
        prepared = Prepared(root.relative(path), hash_, chunked, state, warnings)
        if prepared.chunk_count == 0:
            raise LoadError("no text to index after cleaning")
        return prepared

    @property
    def tagger(self) -> WeekTagger:
        if self._tagger is None:
            topics = week_topics(load_curriculum(), CORPUS_DIR / "notes")
            numbers = sorted(topics)
            self._tagger = WeekTagger(numbers, self.embedder.embed([topics[n] for n in numbers]))
        return self._tagger

    # -- the run -------------------------------------------------------------------------------

    def run(
        self,
        values: list[str],
        rebuild: bool = False,
        reporter: Reporter | None = None,
        run: IngestRun | None = None,
    ) -> Summary:
        """Ingest `values` (paths or git URLs) as one run, recorded in the database: its
        progress as it goes, then its summary or its error. `run`: one already begun (the
        API begins it while answering the request); otherwise one is begun here, and
        `IngestBusy` says another ingest is running."""
        run = run or self.runs.begin([redact(v) for v in values])
        progress = RunReporter(self.runs, run.id, reporter or SilentReporter())
        try:
            with self.runs.heartbeat(run.id):
                summary = self._run(values, rebuild, progress)
        except BaseException as exc:  # Ctrl-C too: the lock is freed, the status says why
            self.runs.fail(
                run.id, str(exc) or type(exc).__name__, usage_error=isinstance(exc, SourceError)
            )
            raise
        progress.flush()
        self.runs.finish(run.id, summary.to_dict())
        return summary

    def _run(self, values: list[str], rebuild: bool, reporter: Reporter) -> Summary:
        started = time.perf_counter()
        summary = Summary()
        check_local_paths(values)
        manifest = Manifest(self.database.sessions)
        manifest.import_legacy(self.settings.data_dir)
        dropped: list[str] = []
        rebuilt: set[str] = set()
        finished = False
        try:
            if rebuild:  # cards quoting a file the rebuild no longer finds are flagged at the end
                rebuilt = self.store.sources()
                self.store.delete_all()
                manifest.clear()
            roots: list[Root] = []
            for value in values:
                try:
                    roots.append(resolve(value, self.settings.data_dir / "sources"))
                except SourceError as exc:  # shown without a URL's credentials
                    shown = redact(value)
                    summary.skipped.append(Skipped(shown, str(exc).removeprefix(f"{shown}: ")))
            roots, dropped = unify(roots, manifest.roots())
            for key in dropped:  # now inside a folder of this run: its files come back there
                self.store.delete_root(key)
                manifest.remove_root(key)
            reporter.start(sum(len(r.files) for r in roots))
            for root in roots:
                summary.skipped += [Skipped(file, reason) for file, reason in root.skipped]
                self._ingest_root(root, manifest, summary, reporter)
            if rebuild:
                summary.cards_flagged += self._flag_cards(rebuilt)
            finished = True
        finally:
            # Readers rebuild their BM25 index from what the store now holds: after any
            # change, and after a run cut short, which may have changed chunks it never counted.
            if (
                rebuild
                or dropped
                or summary.added
                or summary.changed
                or summary.removed
                or not finished
            ):
                with contextlib.suppress(
                    VectorStoreError
                ):  # the store is what failed: nothing to mark
                    self.store.mark_changed()
        summary.index_chunks = self.store.count()
        summary.seconds = time.perf_counter() - started
        return summary

    def _ingest_root(
        self, root: Root, manifest: Manifest, summary: Summary, reporter: Reporter
    ) -> None:
        entries = manifest.entries(root.key)
        present = {root.relative(p) for p in root.files}
        if root.whole_folder:
            for file in sorted(f for f in set(entries) - present if root.in_scope(f)):
                gone = self.store.sources_of(root.key, file)
                self.store.delete_document(root.key, file)
                summary.cards_flagged += self._flag_cards(gone)
                manifest.remove(root.key, file)
                summary.removed += 1
        batch: list[Prepared] = []
        for path in root.files:
            file = root.relative(path)
            try:
                with step("reading"):
                    hash_ = file_hash(path)
                entry = entries.get(file)
                if entry and entry.state == "done" and entry.hash == hash_:
                    summary.unchanged += 1
                    reporter.advance(1, 0)
                    continue
                batch.append(self.prepare(root, path, hash_, entry.state if entry else None))
            except LoadError as exc:
                summary.skipped.append(Skipped(file, str(exc)))
                reporter.advance(1, 0)
                continue
            if sum(p.chunk_count for p in batch) >= BATCH_CHUNKS:
                self._write(root, batch, manifest, summary, reporter)
                batch = []
        if batch:
            self._write(root, batch, manifest, summary, reporter)

    def _vectors(self, root: Root, batch: list[Prepared]) -> tuple[np.ndarray, int]:
        """Vectors for every chunk of the batch, in order, and how many were reused: a chunk
        whose text is unchanged since the file's last ingest keeps its stored vector, so a
        one-line edit re-embeds one chunk, not the file."""
        texts = [c.embed_text for p in batch for _, cs in p.docs for c in cs]
        stored: dict[str, np.ndarray] = {}
        for prepared in batch:
            if prepared.state is not None:
                stored |= self.store.vectors_by_content(root.key, prepared.file)
        hashes = [content_hash(t) for t in texts]
        reused = sum(h in stored for h in hashes)
        missing = {h: t for h, t in zip(hashes, texts) if h not in stored}
        if missing:
            vectors = self.embedder.embed(list(missing.values()), batch_size=ENCODE_BATCH)
            stored |= dict(zip(missing, vectors))
        return np.asarray([stored[h] for h in hashes]), reused

    def _write(
        self,
        root: Root,
        batch: list[Prepared],
        manifest: Manifest,
        summary: Summary,
        reporter: Reporter,
    ) -> None:
        """Embed, week-tag and store a batch of files. A failure while embedding or tagging
        costs only the file it belongs to: the batch is retried file by file to find it."""
        try:
            with step("embedding"):
                vectors, reused = self._vectors(root, batch)
        except LoadError as exc:
            if len(batch) > 1:
                for prepared in batch:
                    self._write(root, [prepared], manifest, summary, reporter)
            else:
                summary.skipped.append(Skipped(batch[0].file, str(exc)))
                reporter.advance(1, 0)
            return
        ids, texts, metas, kept = [], [], [], []
        offset = 0
        for prepared in batch:
            count = prepared.chunk_count
            try:
                with step("week tagging"):
                    rows = self._rows(root, prepared, vectors[offset : offset + count])
            except LoadError as exc:
                summary.skipped.append(Skipped(prepared.file, str(exc)))
                reporter.advance(1, 0)
                vectors = np.delete(vectors, range(offset, offset + count), axis=0)
                continue
            for id_, text, meta in rows:
                ids.append(id_)
                texts.append(text)
                metas.append(meta)
            kept.append(prepared)
            offset += count
        if not kept:
            return
        manifest.mark_pending(root.key, {p.file: p.hash for p in kept})
        touched: set[str] = set()  # what cards may quote: what these files said, and say now
        for prepared in kept:
            if prepared.state is not None:  # ingested before
                touched |= self.store.sources_of(root.key, prepared.file)
            touched |= {doc.source for doc, _ in prepared.docs}
            self.store.delete_document(root.key, prepared.file)
        self.store.add(ids, vectors, texts, metas)
        # before the files are marked done: a run killed before this point does them again
        summary.cards_flagged += self._flag_cards(touched)
        for prepared in kept:
            chars = sum(len(c.text) for _, cs in prepared.docs for c in cs)
            manifest.mark_done(root.key, prepared.file, prepared.hash, prepared.chunk_count, chars)
            summary.chars += chars
            summary.warnings += [Notice(prepared.file, w) for w in prepared.warnings]
            if prepared.state == "done":
                summary.changed += 1
            else:
                summary.added += 1
        summary.chunks += len(ids)
        summary.reused += reused
        reporter.advance(len(kept), len(ids))

    def _flag_cards(self, sources: set[str]) -> int:
        """Flag the learners' cards quoting `sources` whose words the index no longer holds
        (`app.records.card_sources`); how many were newly flagged."""
        return flag_changed_sources(self.database.sessions, sources, self.store.passages_of)

    def _rows(
        self, root: Root, prepared: Prepared, vectors: np.ndarray
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """(id, text, metadata) for each chunk of one file; public material without weeks is
        given the weeks its vectors match."""
        rows = []
        offset = 0
        for doc, doc_chunks in prepared.docs:
            doc_vectors = vectors[offset : offset + len(doc_chunks)]
            if doc.kind == "public" and not doc.weeks:
                doc.weeks = self.tagger.weeks_for(doc_vectors)
            base = doc.metadata() | {"root": root.key, "file": prepared.file, "hash": prepared.hash}
            for ordinal, chunk in enumerate(doc_chunks):
                rows.append(
                    (
                        chunk_id(root.key, prepared.file, doc.source, ordinal, chunk.text),
                        chunk.text,
                        base
                        | {
                            "heading": chunk.heading,
                            "chunk": ordinal,
                            "content": content_hash(chunk.embed_text),
                        },
                    )
                )
            offset += len(doc_chunks)
        return rows

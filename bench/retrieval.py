"""Search latency: hybrid beside dense-only and BM25-only, at ~7k and ~100k chunks, one run;
then the dense candidates at our HNSW search breadth beside Chroma's default: how many of the
exact 40 nearest it finds, and what that costs.

    python bench/retrieval.py [--scale 100000] [--queries 60]

The 7k index is the public course notes. The large one replicates its vectors, texts and
metadata under distinct ids (vectors nudged by tiny noise so the HNSW graph is not degenerate):
the search work grows as with real data, the embedding cost of building it does not.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import CACHE
from common import PUBLIC_NOTES
from common import index_of
from common import percentile


def replicate(source_dir, target_dir, target_chunks: int):
    from app.config import Settings
    from app.search.vectors import VectorStore

    store = VectorStore(Settings(data_dir=target_dir))
    if store.count() >= target_chunks:
        return target_dir
    store.delete_all()
    data = VectorStore(Settings(data_dir=source_dir)).all(
        include=["embeddings", "documents", "metadatas"]
    )
    vectors = np.asarray(data["embeddings"], dtype=np.float32)
    rng = np.random.default_rng(0)
    copies = -(-target_chunks // len(data["ids"]))
    for copy in range(copies):
        noisy = vectors + rng.normal(0, 0.01, vectors.shape).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        store.add(
            [f"{i}-r{copy}" for i in data["ids"]], noisy, data["documents"], data["metadatas"]
        )
    store.mark_changed()
    return target_dir


def queries(n: int) -> list[str]:
    from app.course.notes import read_notes

    questions = [q for note in read_notes() for q, _ in note.check_yourself]
    return questions[:: max(1, len(questions) // n)][:n]


def measure(data_dir, mode: str, qs: list[str]) -> list[float]:
    from app.config import Settings
    from app.search.retrieval import Retriever

    retriever = Retriever.from_settings(Settings(data_dir=data_dir))
    retriever.search("warm up the encoder and the indexes", mode=mode)
    times = []
    for i, q in enumerate(qs):
        started = time.perf_counter()
        retriever.search(q, k=5, week=(i % 48) + 1, mode=mode)
        times.append((time.perf_counter() - started) * 1000)
    return times


def candidates(data_dir, qs: list[str]) -> None:
    """Recall of the 40 dense candidates against an exact search, at each ef_search. Chroma
    applies a new ef_search when it loads the index, so each setting gets a fresh client."""
    import chromadb
    from chromadb.api.client import SharedSystemClient

    from app.config import Settings
    from app.search.retrieval import CANDIDATES
    from app.search.vectors import SEARCH_EF
    from app.search.vectors import Embedder
    from app.search.vectors import VectorStore

    settings = Settings(data_dir=data_dir)
    data = VectorStore(settings).all(include=["embeddings"])
    ids, matrix = np.array(data["ids"]), np.asarray(data["embeddings"], dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    vectors = Embedder().embed(qs)
    exact = [set(ids[np.argsort(-(matrix @ v))[:CANDIDATES]]) for v in vectors]

    def collection_at(ef: int):
        SharedSystemClient.clear_system_cache()
        collection = chromadb.PersistentClient(path=str(settings.chroma_dir)).get_collection(
            settings.collection
        )
        collection.modify(configuration={"hnsw": {"ef_search": ef}})
        return collection

    try:
        for ef, label in ((100, "Chroma default"), (SEARCH_EF, "ours")):
            collection = collection_at(ef)
            collection.query(query_embeddings=[vectors[0]], n_results=CANDIDATES, include=[])
            times, found = [], 0
            for vector, truth in zip(vectors, exact, strict=True):
                started = time.perf_counter()
                hits = collection.query(query_embeddings=[vector], n_results=CANDIDATES, include=[])
                times.append((time.perf_counter() - started) * 1000)
                found += len(truth & set(hits["ids"][0]))
            print(
                f"{len(ids):>12,} chunks{ef:>6} ({label:>14}){found / (CANDIDATES * len(qs)):9.3f}"
                f"{percentile(times, 50):9.1f}{percentile(times, 95):9.1f}",
                flush=True,
            )
    finally:
        collection_at(SEARCH_EF)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=100_000, help="chunks in the large index")
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    print("preparing indexes ...", flush=True)
    small = index_of("public-notes", [PUBLIC_NOTES])
    large = replicate(small, CACHE / f"replicated-{args.scale}", args.scale)
    qs = queries(args.queries)
    from app.config import Settings
    from app.search.retrieval import CANDIDATES
    from app.search.vectors import VectorStore

    print(f"\n{len(qs)} queries (week-boosted, k=5), latency in ms, query embedding included")
    print(f"{'index':>18}{'mode':>8}{'p50':>9}{'p95':>9}")
    for data_dir in (small, large):
        size = VectorStore(Settings(data_dir=data_dir)).count()
        for mode in ("bm25", "dense", "hybrid"):
            times = measure(data_dir, mode, qs)
            print(
                f"{size:>12,} chunks{mode:>8}{percentile(times, 50):9.1f}{percentile(times, 95):9.1f}",
                flush=True,
            )
    print(
        f"\ndense candidates: recall of the exact {CANDIDATES} nearest, Chroma query latency in ms"
    )
    print(f"{'index':>18}{'ef_search':>24}{'recall':>9}{'p50':>9}{'p95':>9}")
    for data_dir in (small, large):
        candidates(data_dir, qs)


if __name__ == "__main__":
    main()

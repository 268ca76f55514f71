"""The encoder bound: torch fp32 beside the export's fp32 and int8 graphs, in one run.

    python bench/encoder.py [--n 256] [--rounds 3] [--batch 64] [--fresh] [--golden] [--held-out]

The same N 1,000-character chunks of the bundled notes (corpus/notes/*.md) are encoded by:
  torch fp32   `Embedder` as shipped (sentence-transformers on torch, CPU)
  onnx fp32    the app's checked export (`app.search.encoder_export`, made by `make install`),
               read by the app's `OnnxEncoder`, as cold commands and the API run it
  onnx int8    that export's int8 graph (`encoder_export.quantize`: dynamic, per-channel),
               read by the same `OnnxEncoder`: what ingest embeds documents with
All three tokenize with the model's own tokenizer, sort by length and batch as
sentence-transformers does, mean-pool and normalize, on the same number of threads.
Cosine is also given for a few short questions (the query side of retrieval).
Rounds are interleaved (torch, fp32, int8, torch, ...) so load from other work falls on all
alike; texts/s is the median round. Cosine is each variant's vector against torch fp32's.
`--golden` adds the golden set's retrieval metrics with each encoder: the bundled corpus is
indexed by it (bench/.cache/golden-*) and the questions embedded by it, as `make eval` does,
and with int8 documents and fp32 questions, as the product runs. `--held-out` adds the
held-out split (the public notes, ../shared/public-notes) with fp32 documents beside int8
documents, questions in fp32 (two indexes of 9,278 chunks: about 10 minutes on 2 cores).
`--fresh` builds these indexes again.

Why not sentence-transformers' own `backend="onnx"`: it needs optimum-onnx, whose only
release pins transformers < 4.58, and we run transformers 5.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CACHE = REPO / "bench" / ".cache"  # gitignored
NOTES = REPO / "corpus" / "notes"
# Short texts too: queries are a few word pieces, where the exported graph's shapes differ most.
QUERIES = [
    "how do the gates of an LSTM control the cell state",
    "what does max pooling do in a convolutional network",
    "softmax classifier cross-entropy loss",
    "batch normalization during training and inference",
    "scaled dot-product attention queries keys values",
    "dropout as regularization",
    "eigenvalues",
    "what is the bias-variance trade-off?",
]


def chunks_of_notes(n: int, size: int = 1000) -> list[str]:
    """N consecutive `size`-character windows, taken round-robin across the notes."""
    per_file = [
        [text[i : i + size] for i in range(0, len(text) - size + 1, size)]
        for text in (p.read_text() for p in sorted(NOTES.glob("*.md")))
    ]
    out: list[str] = []
    depth = 0
    while len(out) < n and any(depth < len(f) for f in per_file):
        out += [f[depth] for f in per_file if depth < len(f)]
        depth += 1
    if len(out) < n:
        sys.exit(f"only {len(out)} chunks of {size} characters in {NOTES}")
    return out[:n]


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def export() -> tuple[Path, float]:
    """The app's checked ONNX export with its int8 graph (`app.search.encoder_export`, as
    `make install` makes it), made now if missing: its folder and the seconds that took."""
    from app.config import Settings
    from app.search.encoder import META
    from app.search.encoder import export_folder
    from app.search.encoder_export import export
    from app.search.vectors import embedding_model_path

    settings = Settings()
    model_path = embedding_model_path(settings.embedding_model)
    folder = export_folder(model_path, settings.encoder_cache_dir)
    started = time.perf_counter()
    if not (folder / META).exists():
        export(model_path, folder)
        return folder, time.perf_counter() - started
    return folder, 0.0


def retriever_over(folder: str, documents, questions, notes: Path | None, fresh: bool):
    """A retriever over an index of the bundled corpus (and `notes`) in bench/.cache/`folder`,
    its documents embedded by `documents` (built on first use) and its questions by
    `questions`, hybrid + week boost as the product ranks."""
    from app.config import Settings
    from app.search.lexical import LexicalIndex
    from app.search.retrieval import Retriever
    from app.search.retrieval import prerequisites_by_week
    from app.search.vectors import VectorStore
    from evals.runner import ensure_index

    settings = Settings(data_dir=CACHE / folder)
    if fresh and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    started = time.perf_counter()
    ensure_index(settings, notes, documents)
    store = VectorStore(settings)
    print(f"  {folder}: {store.count()} chunks, {time.perf_counter() - started:.0f} s", flush=True)
    return Retriever(
        store, questions, LexicalIndex(store, settings.data_dir), prerequisites_by_week()
    )


def golden(embedders: dict, fresh: bool) -> dict[str, dict[str, float]]:
    """The eval suite's retrieval metrics for each (documents, questions) pair of embedders:
    the bundled corpus indexed by the first, the golden questions embedded by the second."""
    from evals.datasets import load_dataset
    from evals.runner import PRODUCT_RETRIEVAL
    from evals.runner import Silent
    from evals.runner import run_retrieval

    items = load_dataset()
    rows = {}
    for name, (documents, questions) in embedders.items():
        folder = f"golden-{name.split(' documents')[0].replace(' ', '-')}"
        retriever = retriever_over(folder, documents, questions, None, fresh)
        metadatas = retriever.store.all(include=["metadatas"])["metadatas"]
        result = run_retrieval(items, retriever, {m["source"] for m in metadatas}, set(), Silent())
        rows[name] = result["configs"][PRODUCT_RETRIEVAL] | {"judged": result["judged"]}
    return rows


def held_out(embedders: dict, fresh: bool) -> dict[str, dict[str, float]]:
    """The held-out split's retrieval metrics (`evals.held_out_retrieval`) for each
    (documents, questions) pair, over the bundled corpus and the public notes."""
    from evals.held_out_retrieval import held_out_retrieval

    notes = REPO.parent / "shared" / "public-notes"
    if not notes.is_dir():
        sys.exit(f"the held-out split needs the public notes at {notes}")
    rows = {}
    for name, (documents, questions) in embedders.items():
        folder = f"held-out-{name.split(' documents')[0]}"
        retriever = retriever_over(folder, documents, questions, notes, fresh)
        rows[name] = held_out_retrieval(retriever)["configs"]["product"]
    return rows


def embedder_of(encoder):
    """An `Embedder` whose vectors come from `encoder` (anything with `encode(texts, batch)`)."""
    from app.search.vectors import Embedder

    class Wrapped(Embedder):
        def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
            return encoder.encode(texts, batch_size) if texts else super().embed(texts)

    return Wrapped()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=256, help="chunks to encode (default 256)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per variant (median)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--fresh", action="store_true", help="build the retrieval indexes again")
    parser.add_argument(
        "--golden",
        action="store_true",
        help="also the golden set's retrieval metrics (indexes the corpus 4 times)",
    )
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="also the held-out split, fp32 beside int8 documents (about 10 minutes)",
    )
    args = parser.parse_args()

    import torch

    from app.search.encoder import GRAPH
    from app.search.encoder import INT8_GRAPH
    from app.search.encoder import WEIGHTS
    from app.search.encoder import OnnxEncoder
    from app.search.encoder_export import TorchEncoder
    from app.search.vectors import Embedder

    texts = chunks_of_notes(args.n)
    torch_encoder = TorchEncoder(Embedder().model_path)  # sentence-transformers, as before
    threads = torch.get_num_threads()
    fp32, export_s = export()
    if export_s:
        print(f"made {fp32} in {export_s:.0f} s", flush=True)
    onnx32, onnx8 = OnnxEncoder(fp32, threads), OnnxEncoder(fp32, threads, int8=True)
    variants = {
        "torch fp32": lambda: torch_encoder.encode(texts, args.batch),
        "onnx fp32": lambda: onnx32.encode(texts, args.batch),
        "onnx int8": lambda: onnx8.encode(texts, args.batch),
    }
    vectors = {name: run() for name, run in variants.items()}  # warm-up, and the vectors compared
    queries = {
        "torch fp32": torch_encoder.encode(QUERIES, args.batch),
        "onnx fp32": onnx32.encode(QUERIES, args.batch),
        "onnx int8": onnx8.encode(QUERIES, args.batch),
    }
    loads = [load_average()]
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, run in variants.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
        loads.append(load_average())

    tokens = onnx32.count_tokens(texts, special=True)
    window = onnx32.max_tokens
    print(
        f"\n{args.n} chunks of 1,000 characters from {NOTES.relative_to(REPO)}/*.md "
        f"(median {statistics.median(tokens):.0f} word pieces, "
        f"{sum(t > window for t in tokens)} past the {window}-piece window); "
        f"batch {args.batch}, {threads} threads, median of {args.rounds} interleaved rounds"
    )
    print(f"load average (1/5/15 min) before timing: {loads[0]}; after: {loads[-1]}")
    sizes = {
        "torch fp32": None,
        "onnx fp32": sum((fp32 / name).stat().st_size for name in (GRAPH, WEIGHTS)),
        "onnx int8": (fp32 / INT8_GRAPH).stat().st_size,
    }
    base = statistics.median(times["torch fp32"])
    ref = vectors["torch fp32"]
    print(
        f"\n{'':12}{'texts/s':>9}{'speed-up':>10}{'cos mean':>10}{'cos min':>10}"
        f"{'query min':>11}{'file MB':>9}"
    )
    for name in variants:
        seconds = statistics.median(times[name])
        cos = (vectors[name] * ref).sum(1)
        size = f"{sizes[name] / 1e6:9.0f}" if sizes[name] else f"{'-':>9}"
        query_min = (queries[name] * queries["torch fp32"]).sum(1).min()
        print(
            f"{name:12}{args.n / seconds:9.1f}{base / seconds:9.2f}x{cos.mean():10.5f}"
            f"{cos.min():10.5f}{query_min:11.5f}{size}"
        )
    if args.golden:
        print("\ngolden retrieval (hybrid + week boost, the product's configuration):", flush=True)
        torch32, ours32, ours8 = (embedder_of(e) for e in (torch_encoder, onnx32, onnx8))
        embedders = {
            "torch fp32": (torch32, torch32),
            "onnx fp32": (ours32, ours32),
            "onnx int8": (ours8, ours8),
            "int8 documents, fp32 questions (shipped)": (ours8, ours32),
        }
        rows = golden(embedders, args.fresh)
        print(f"{'':42}{'hit@5':>8}{'MRR@10':>8}{'nDCG@10':>9}{'dMRR':>8}")
        for name, row in rows.items():
            print(
                f"{name:42}{row['hit_rate@5']:8.4f}{row['mrr@10']:8.4f}{row['ndcg@10']:9.4f}"
                f"{row['mrr@10'] - rows['torch fp32']['mrr@10']:+8.4f}"
            )
        print(f"({rows['torch fp32']['judged']} golden questions with indexed sources)")
    if args.held_out:
        print("\nheld-out retrieval (hybrid + week boost), questions in fp32:", flush=True)
        ours32, ours8 = embedder_of(onnx32), embedder_of(onnx8)
        rows = held_out(
            {"fp32 documents": (ours32, ours32), "int8 documents": (ours8, ours32)}, args.fresh
        )
        print(f"{'':16}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}{'dMRR':>8}")
        for name, row in rows.items():
            print(
                f"{name:16}{row['hit_rate@1']:8.4f}{row['hit_rate@5']:8.4f}{row['mrr@10']:8.4f}"
                f"{row['mrr@10'] - rows['fp32 documents']['mrr@10']:+8.4f}"
            )
    print(
        "\nrounds (s): "
        + "; ".join(f"{n} " + ", ".join(f"{t:.2f}" for t in ts) for n, ts in times.items())
    )


if __name__ == "__main__":
    main()

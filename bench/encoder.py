"""The encoder bound: torch fp32 (what we ship) beside ONNX Runtime fp32 and int8, in one run.

    python bench/encoder.py [--n 256] [--rounds 3] [--batch 64] [--fresh] [--golden]

The same N 1,000-character chunks of the bundled notes (corpus/notes/*.md) are encoded by:
  torch fp32   `Embedder` as shipped (sentence-transformers on torch, CPU)
  onnx fp32    the app's checked export (`app.search.encoder_export`, made by `make install`),
               read by the app's `OnnxEncoder`, as cold commands and the API run it
  onnx int8    that export dynamically quantized (onnxruntime.quantization, per-channel int8),
               read by the same `OnnxEncoder`
All three tokenize with the model's own tokenizer, sort by length and batch as
sentence-transformers does, mean-pool and normalize, on the same number of threads.
Cosine is also given for a few short questions (the query side of retrieval).
Rounds are interleaved (torch, fp32, int8, torch, ...) so load from other work falls on all
alike; texts/s is the median round. Cosine is each variant's vector against torch fp32's.
The int8 folder is cached in bench/.cache/onnx (`--fresh` redoes it, and the golden indexes).
`--golden` adds the golden set's retrieval metrics with each encoder: the bundled corpus is
indexed by it (bench/.cache/golden-*) and the questions embedded by it, as `make eval` does.

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
CACHE = REPO / "bench" / ".cache" / "onnx"  # gitignored
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


def exports(fresh: bool) -> tuple[Path, Path, float]:
    """The app's checked ONNX export (`app.search.encoder_export`, as `make install` makes it)
    and its dynamic int8 quantization, a folder beside it read by the same `OnnxEncoder`."""
    import onnx
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic

    from app.config import Settings
    from app.search.encoder import META
    from app.search.encoder import export_folder
    from app.search.encoder_export import export
    from app.search.vectors import embedding_model_path

    settings = Settings()
    model_path = embedding_model_path(settings.embedding_model)
    fp32, int8 = export_folder(model_path, settings.encoder_cache_dir), CACHE / "int8"
    if fresh and int8.exists():
        shutil.rmtree(int8)
    started = time.perf_counter()
    if not (fp32 / META).exists():
        export(model_path, fp32)
    if not (int8 / META).exists():
        # The int8 graph holds its weights; model.data, copied, is what OnnxEncoder checks for.
        shutil.copytree(fp32, int8, ignore=shutil.ignore_patterns("model.onnx"))
        # Per-channel weight scales: per-tensor ones put the vectors at cosine 0.92 to fp32's.
        quantize_dynamic(
            str(fp32 / "model.onnx"),
            str(int8 / "model.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # The export's graph is optimized (fused attention, ONNX Runtime's own operators),
            # where the quantizer's shape inference finds no type: float, as they all are.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        return fp32, int8, time.perf_counter() - started
    return fp32, int8, 0.0


def golden(embedders: dict, fresh: bool) -> dict[str, dict[str, float]]:
    """The eval suite's retrieval metrics with each encoder: the bundled corpus indexed by it
    (in bench/.cache/golden-*), the golden questions embedded by it, hybrid + week boost."""
    from app.config import Settings
    from app.search.lexical import LexicalIndex
    from app.search.retrieval import Retriever
    from app.search.retrieval import prerequisites_by_week
    from app.search.vectors import VectorStore
    from evals.datasets import load_dataset
    from evals.runner import PRODUCT_RETRIEVAL
    from evals.runner import Silent
    from evals.runner import ensure_index
    from evals.runner import run_retrieval

    items = load_dataset()
    rows = {}
    for name, embedder in embedders.items():
        settings = Settings(data_dir=CACHE.parent / f"golden-{name.replace(' ', '-')}")
        if fresh and settings.data_dir.exists():
            shutil.rmtree(settings.data_dir)
        started = time.perf_counter()
        ensure_index(settings, None, embedder)
        store = VectorStore(settings)
        retriever = Retriever(
            store, embedder, LexicalIndex(store, settings.data_dir), prerequisites_by_week()
        )
        indexed = {m["source"] for m in store.all(include=["metadatas"])["metadatas"]}
        result = run_retrieval(items, retriever, indexed, set(), Silent())
        rows[name] = result["configs"][PRODUCT_RETRIEVAL] | {"judged": result["judged"]}
        print(
            f"  golden set with {name}: {store.count()} chunks, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
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
    parser.add_argument("--fresh", action="store_true", help="quantize the export again")
    parser.add_argument(
        "--golden",
        action="store_true",
        help="also the golden set's retrieval metrics (indexes the corpus 3 times)",
    )
    args = parser.parse_args()

    import torch

    from app.search.encoder import OnnxEncoder
    from app.search.encoder_export import TorchEncoder
    from app.search.vectors import Embedder

    texts = chunks_of_notes(args.n)
    torch_encoder = TorchEncoder(Embedder().model_path)  # sentence-transformers, as before
    threads = torch.get_num_threads()
    fp32, int8, export_s = exports(args.fresh)
    if export_s:
        print(f"made {int8} in {export_s:.0f} s", flush=True)
    onnx32, onnx8 = OnnxEncoder(fp32, threads), OnnxEncoder(int8, threads)
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
        "onnx fp32": sum((fp32 / name).stat().st_size for name in ("model.onnx", "model.data")),
        "onnx int8": (int8 / "model.onnx").stat().st_size,
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
        embedders = {
            "torch fp32": embedder_of(torch_encoder),
            "onnx fp32": embedder_of(onnx32),
            "onnx int8": embedder_of(onnx8),
        }
        rows = golden(embedders, args.fresh)
        print(f"{'':12}{'hit@5':>8}{'MRR@10':>8}{'nDCG@10':>9}{'dMRR':>8}")
        for name, row in rows.items():
            print(
                f"{name:12}{row['hit_rate@5']:8.3f}{row['mrr@10']:8.3f}{row['ndcg@10']:9.3f}"
                f"{row['mrr@10'] - rows['torch fp32']['mrr@10']:+8.3f}"
            )
        print(f"({rows['torch fp32']['judged']} golden questions with indexed sources)")
    print(
        "\nrounds (s): "
        + "; ".join(f"{n} " + ", ".join(f"{t:.2f}" for t in ts) for n, ts in times.items())
    )


if __name__ == "__main__":
    main()

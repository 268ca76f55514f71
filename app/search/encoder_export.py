"""Export a sentence-transformers model to ONNX, here, with torch: no download, no optimum.

    python -m app.search.encoder_export      # the configured model (make install runs it)

The whole model is traced: transformer, pooling and normalization, so the graph gives the
sentence vector itself and any pooling the model's folder names is kept. ONNX Runtime then
optimizes the traced graph once (`optimize`) and saves it with its weights apart, so each later
start maps them and skips the optimization. The export is then
checked against sentence-transformers' own `encode` on CHECK_TEXTS (short questions, a long
passage past the window, symbols and other scripts): the same token ids, and every vector at
cosine >= MIN_COSINE. Only then is `meta.json` written and the folder moved into place, in
one rename, so two processes exporting at once leave one whole export and never a half one.
A failed check writes `refused.json` and the model runs on torch (`TorchEncoder`).

Why not sentence-transformers' `backend="onnx"`: it needs optimum-onnx, whose only release
pins transformers < 4.58, and we run transformers 5.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from app.search.encoder import GRAPH
from app.search.encoder import INT8_GRAPH
from app.search.encoder import META
from app.search.encoder import PROBE
from app.search.encoder import REFUSED
from app.search.encoder import WEIGHTS
from app.search.encoder import ExportMeta
from app.search.encoder import OnnxEncoder
from app.search.encoder import Precision
from app.search.encoder import export_folder
from app.search.encoder import native_bf16

log = logging.getLogger(__name__)

MIN_COSINE = 0.99999
# INT8_GRAPH's vectors against sentence-transformers' (fp32), on CHECK_TEXTS (but the empty
# one): below this it is not used. Measured: 0.989 on them, 0.987 on 128 chunks of the notes.
# What it costs retrieval is in docs/benchmarks.md (MRR@10 within 0.002 of fp32 documents).
INT8_MIN_COSINE = 0.98
# bf16 (TorchEncoder) rounds each product to 8 bits of mantissa: cosine 0.99996 at worst on
# 256 chunks of the public notes, and no retrieval figure moved (docs/benchmarks.md).
BF16_MIN_COSINE = 0.9999
CHECK_TEXTS = [
    "eigenvalues",
    "What is overfitting?",
    "how do the gates of an LSTM control the cell state",
    "Scaled dot-product attention divides by √d_k so the softmax does not saturate.",
    "Adam keeps running averages of the gradient (β₁ = 0.9) and its square (β₂ = 0.999).",
    "def relu(x):\n    return np.maximum(0, x)",
    "Le taux d'apprentissage contrôle la taille du pas. 学习率 控制 步长。",
    " ".join(f"Layer {i} normalizes its inputs, then applies a learned scale." for i in range(60)),
    "",
]


TRACED = "traced.onnx"  # torch's graph, before `optimize`


class ExportRefused(RuntimeError):
    """The export did not match sentence-transformers' vectors; the message gives the figures."""


def sentence_transformer(model_path: Path, attention: str | None = None) -> Any:
    """The model on torch; `attention` names transformers' attention implementation (None:
    its default, "sdpa")."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar
    return SentenceTransformer(
        str(model_path),
        device="cpu",
        local_files_only=True,
        model_kwargs={"attn_implementation": attention} if attention else None,
    )


class TorchEncoder:
    """The model on sentence-transformers and torch: what ingest runs, and what runs where an
    export was refused. `threads` (0 = torch's choice) is torch's, for the whole process.

    `precision` "auto" computes in bfloat16 where the CPU multiplies bf16 natively (AMX or
    AVX512-BF16, `native_bf16`): torch's autocast keeps softmax and layer norm in fp32, the
    vectors stay at cosine >= 0.9999 to fp32's (checked on CHECK_TEXTS before it is used,
    fp32 otherwise), and ingest encodes about 2.5x the chunks per second (docs/benchmarks.md).
    Elsewhere, and with "fp32", it computes in fp32."""

    def __init__(self, model_path: Path, threads: int = 0, precision: Precision = "auto") -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.model = sentence_transformer(model_path)
        self.max_tokens = int(self.model.max_seq_length)
        self.dimension = int(self.model.get_embedding_dimension())
        self.bf16 = precision == "auto" and native_bf16() and self._bf16_holds()

    def _bf16_holds(self) -> bool:
        """Whether bf16's vectors of CHECK_TEXTS are within BF16_MIN_COSINE of fp32's."""
        texts = [t for t in CHECK_TEXTS if t]
        exact, rounded = self._encode(texts, 16, bf16=False), self._encode(texts, 16, bf16=True)
        lowest = float(np.sum(exact * rounded, axis=1).min())
        if lowest < BF16_MIN_COSINE:
            log.warning("bf16 vectors at cosine %.6f to fp32's: ingest encodes in fp32", lowest)
            return False
        return True

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self._encode(texts, batch_size, self.bf16)

    def _encode(self, texts: list[str], batch_size: int, bf16: bool) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            vectors = self.model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: list[str], special: bool = False) -> list[int]:
        ids = self.model.tokenizer(texts, add_special_tokens=special, verbose=False)["input_ids"]
        return [len(x) for x in ids]


def export(model_path: Path, folder: Path) -> ExportMeta:
    """Export, check and move into `folder` the model at `model_path`; returns its meta.
    Raises ExportRefused (and leaves `refused.json` in `folder`) when the check fails."""
    # The folder first: a cache that cannot be written fails at once, not after torch loads.
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        import torch

        # Traced with the eager attention: ONNX Runtime fuses its pattern into Attention
        # nodes; the graph traced from the default (sdpa) ran at 0.7x the speed on two cores.
        model = sentence_transformer(model_path, attention="eager").eval()
        model.tokenizer.save_pretrained(str(work))  # tokenizer.json: the fast tokenizer whole
        sample = model.preprocess(["an example", "a longer example sentence"])
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

        class Whole(torch.nn.Module):  # positional inputs for the tracer, the vector out
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
                return self.model(dict(zip(names, inputs, strict=True)))["sentence_embedding"]

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape checks: the check below
            torch.onnx.export(
                Whole().eval(),
                tuple(sample[n] for n in names),
                str(work / TRACED),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names}
                | {"sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        optimize(work / TRACED, work)
        meta = ExportMeta(
            source=str(model_path.resolve()),
            max_tokens=int(model.max_seq_length),
            dimension=int(model.get_embedding_dimension()),
            min_cosine=0.0,
            checked_texts=len(CHECK_TEXTS),
        )
        (work / META).write_text(json.dumps(asdict(meta)))
        meta = check(model, work, meta)
        meta = quantize(model, work, meta)
        (work / META).write_text(json.dumps(asdict(meta), indent=2))
        try:
            work.rename(folder)
        except OSError:  # another process put its export there first: both passed the check
            shutil.rmtree(work, ignore_errors=True)
        return meta
    except ExportRefused as exc:
        shutil.rmtree(work, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / REFUSED).write_text(json.dumps({"reason": str(exc)}))
        raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def optimize(traced: Path, folder: Path) -> None:
    """`traced` optimized by ONNX Runtime into `folder` as GRAPH, its weights in WEIGHTS, and
    `traced` removed. The extended level fuses attention, layer norm and GELU into ONNX
    Runtime's CPU kernels, which pick their instructions when they run, so the file holds on
    another x86 or ARM CPU (the next level, "all", adds layouts of this machine's). A session
    over the result starts in about 30 ms instead of 170: no optimization pass, and the 90 MB of
    weights mapped rather than read and copied (docs/benchmarks.md)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(folder / GRAPH)
    options.log_severity_level = 3
    for key, value in {
        "session.optimized_model_external_initializers_file_name": WEIGHTS,
        "session.optimized_model_external_initializers_min_size_in_bytes": "1024",
    }.items():
        options.add_session_config_entry(key, value)
    ort.InferenceSession(str(traced), options, providers=["CPUExecutionProvider"])
    traced.unlink()


def quantize(model: Any, folder: Path, meta: ExportMeta) -> ExportMeta:
    """INT8_GRAPH beside the checked export: its weights quantized to int8 (dynamic, one scale
    per output channel: one per tensor put vectors at cosine 0.92), checked on CHECK_TEXTS
    against sentence-transformers at INT8_MIN_COSINE. `meta` with its figures and probe, or
    as it was (and no INT8_GRAPH: ingest then runs on torch) where the check fails."""
    import onnx
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic

    # Its notes on those types, and on "pre-processing", come by logging.warning(): records of
    # the root logger itself, which this filter holds back (a named logger's pass, as before).
    root = logging.getLogger()
    root.addFilter(errors_only)
    try:
        quantize_dynamic(
            str(folder / GRAPH),
            str(folder / INT8_GRAPH),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # The optimized graph's fused operators are ONNX Runtime's own, where the
            # quantizer's shape inference finds no type: float, as they all are.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.removeFilter(errors_only)
    int8 = OnnxEncoder(folder, verify=False, int8=True)
    texts = [t for t in CHECK_TEXTS if t]  # ingest embeds no empty text (the empty one: 0.981)
    expected = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    lowest = float(np.sum(expected * int8.encode(texts, batch_size=4), axis=1).min())
    if lowest < INT8_MIN_COSINE:
        log.warning("int8 vectors at cosine %.4f to fp32's: ingest stays on torch", lowest)
        (folder / INT8_GRAPH).unlink()
        return meta
    probe = tuple(float(x) for x in int8.encode([PROBE], 1)[0])
    return ExportMeta(**(asdict(meta) | {"int8_min_cosine": round(lowest, 5), "int8_probe": probe}))


def errors_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


def check(model: Any, folder: Path, meta: ExportMeta) -> ExportMeta:
    """The export in `folder` against sentence-transformers on CHECK_TEXTS: the same word
    pieces (truncated at the same place) and vectors at cosine >= MIN_COSINE."""
    onnx = OnnxEncoder(folder, verify=False)
    theirs = model.tokenizer(
        CHECK_TEXTS, truncation=True, max_length=meta.max_tokens, verbose=False
    )["input_ids"]
    ours = [  # padding dropped
        [i for i, m in zip(e.ids, e.attention_mask, strict=True) if m]
        for e in onnx.truncating.encode_batch(CHECK_TEXTS)
    ]
    if ours != theirs:
        raise ExportRefused("the exported tokenizer splits the check texts differently")
    expected = model.encode(CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    got = onnx.encode(CHECK_TEXTS, batch_size=4)
    cosines = np.sum(expected * got, axis=1)
    if float(cosines.min()) < MIN_COSINE:
        raise ExportRefused(
            f"vectors at cosine {cosines.min():.6f} to sentence-transformers' (need {MIN_COSINE})"
        )
    probe = tuple(float(x) for x in onnx.encode([PROBE], 1)[0])
    return ExportMeta(
        **(asdict(meta) | {"min_cosine": round(float(cosines.min()), 7), "probe": probe})
    )


def main() -> None:
    from app.config import Settings
    from app.search.vectors import embedding_model_path

    settings = Settings()
    model_path = embedding_model_path(settings.embedding_model)
    folder = export_folder(model_path, settings.encoder_cache_dir)
    if (folder / META).exists():
        print(f"encoder export ready: {folder}")
        return
    try:
        meta = export(model_path, folder)
    except ExportRefused as exc:
        print(f"encoder export refused, the model runs on torch: {exc}", file=sys.stderr)
        return
    int8 = f"; int8 >= {meta.int8_min_cosine}" if meta.int8_probe else "; int8 refused"
    print(f"encoder exported to {folder} (cosine to torch >= {meta.min_cosine}{int8})")


if __name__ == "__main__":
    main()

"""The sentence encoder at run time: the embedding model's ONNX export on ONNX Runtime, its
tokenizer read by `tokenizers`. Neither torch nor sentence-transformers is imported here:
importing them took 16 s of a cold `tutor search` on two cores, ONNX Runtime and `tokenizers`
take under a second.

The export is made once per model, locally (`app.search.encoder_export`, torch), checked
against sentence-transformers' own vectors, and kept in `TUTOR_ENCODER_CACHE_DIR` (beside the
wheelhouse by default), so a fresh data dir or a second worker finds it ready. Should the check
fail, the model runs on sentence-transformers as before (`TorchEncoder`), said once in the log.
The export's graph is optimized once, when it is made, and its weights lie in a file of their
own (WEIGHTS) that ONNX Runtime maps instead of reading and copying: a session starts in 30 ms
instead of 170 (docs/benchmarks.md).

An export is checked again, cheaply, each time it loads: its files are regular files, its
meta.json reads, and one fixed text (PROBE) embeds to the vector recorded when it passed its
check. One that fails (truncated, replaced, a FIFO, edited) is made again; where the cache
cannot be written, the model runs on torch for that process. Either way the learner gets the
vectors the export was checked to give, never a traceback, a hang or silently other vectors.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

# Bumped when the export's layout or its check changes: older exports are made again.
EXPORT_VERSION = 5  # 3: the PROBE vector; 4: optimized, weights in WEIGHTS; 5: INT8_GRAPH
# Embedded at each load and compared with the vector recorded at export (PROBE_COSINE): long
# enough that a shortened max_tokens truncates it, so an edited meta.json is caught too.
PROBE = (
    "Scaled dot-product attention divides the query-key scores by the square root of the key "
    "dimension, so that the softmax does not saturate when the vectors are long, and the "
    "gradients that flow back through it stay large enough for the model to keep learning."
)
PROBE_COSINE = 0.99999
META = "meta.json"  # written last: a folder with it holds a finished, checked export
GRAPH = "model.onnx"  # the optimized graph, which names WEIGHTS for its initializers
WEIGHTS = "model.data"  # the weights, mapped into memory by ONNX Runtime when a session starts
# The same graph with its weights quantized to int8 (`encoder_export.quantize`), whole in one
# file: what ingest embeds documents with (`load_document_encoder`). Queries stay fp32.
INT8_GRAPH = "model.int8.onnx"
REFUSED = "refused.json"  # the check failed: the model runs on torch without trying again
# An export of the same model that no command has loaded for this long (another EXPORT_VERSION,
# a model file changed, a checkout gone: about 110 MB each) is removed when a new one is made.
STALE_DAYS = 14
# The files of a sentence-transformers folder whose change means a new export.
MODEL_FILES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "model.safetensors",
    "pytorch_model.bin",
    "1_Pooling/config.json",
)


# The CPU flags (Linux /proc/cpuinfo) of native bf16 matrix arithmetic; without them torch
# emulates bf16, slower than fp32.
BF16_FLAGS = {"amx_bf16", "avx512_bf16"}

Engine = Literal["onnx", "torch"]
Precision = Literal["auto", "fp32"]  # torch's: "auto" is bf16 where the CPU has it natively


class Encoder(Protocol):
    """What retrieval, ingest and grading need of a sentence encoder."""

    max_tokens: int  # word pieces read, [CLS] and [SEP] included; beyond this it truncates
    dimension: int

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Unit vectors, shape (len(texts), dimension), float32, in the order given."""
        ...

    def count_tokens(self, texts: list[str], special: bool = False) -> list[int]:
        """Word pieces in each text, untruncated; `special` adds [CLS] and [SEP]."""
        ...


def native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies bf16 natively (BF16_FLAGS); False where it cannot be told.
    Read here, without torch, so that ingest knows before loading torch whether it pays."""
    try:
        with cpuinfo.open() as lines:
            flags = next((line for line in lines if line.startswith("flags")), "")
    except OSError:
        return False
    return bool(BF16_FLAGS & set(flags.split()))


def export_key(model_path: Path) -> str:
    """Which export belongs to the model at `model_path`: its resolved path and each model
    file's size and modification time (hashing the 90 MB of weights would cost 0.3 s of every
    cold start), and EXPORT_VERSION."""
    parts = [str(EXPORT_VERSION), str(model_path.resolve())]
    for name in MODEL_FILES:
        path = model_path / name
        if path.exists():
            stat = path.stat()
            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def export_folder(model_path: Path, cache_dir: Path) -> Path:
    """Where the export of the model at `model_path` lives (whether made yet or not)."""
    return cache_dir / f"{model_path.resolve().name}-{export_key(model_path)}"


def export_ready(model_path: Path, cache_dir: Path) -> bool:
    """Whether the model's export is made, checked and not refused: it loads in a fraction of
    a second, without torch."""
    folder = export_folder(model_path, cache_dir)
    return (folder / META).exists() and not (folder / REFUSED).exists()


class ExportDamaged(Exception):
    """An export on disk that cannot be used as it is: a file missing, not a regular file or
    unreadable, or vectors other than those it was checked to give. The message says which."""


def regular_file(path: Path) -> Path:
    """`path` when it is a regular file (a link is followed); ExportDamaged otherwise. A FIFO
    would block its reader, a device (/dev/zero) never end."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ExportDamaged(f"{path.name} cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(mode):
        raise ExportDamaged(f"{path.name} is not a regular file")
    return path


@dataclass(frozen=True)
class ExportMeta:
    """meta.json of an export: what the encoder needs, and the check it passed."""

    source: str  # the model folder exported
    max_tokens: int
    dimension: int
    min_cosine: float  # the lowest cosine to sentence-transformers' vectors on the check texts
    checked_texts: int
    probe: tuple[float, ...] = ()  # PROBE's vector once the export passed its check
    int8_min_cosine: float = 0.0  # INT8_GRAPH's lowest cosine to sentence-transformers'
    int8_probe: tuple[float, ...] = ()  # PROBE's vector by INT8_GRAPH; () where it failed

    @classmethod
    def read(cls, folder: Path) -> ExportMeta:
        """ExportDamaged unless meta.json holds exactly these fields, of sensible values."""
        try:
            fields = json.loads(regular_file(folder / META).read_text())
            if not isinstance(fields, dict):
                raise ValueError("not a JSON object")
            probes = {
                key: tuple(float(x) for x in fields.get(key, ())) for key in ("probe", "int8_probe")
            }
            meta = cls(**(fields | probes))
            if not (int(meta.max_tokens) > 2 and int(meta.dimension) > 0):
                raise ValueError("max_tokens or dimension out of range")
        except ExportDamaged:
            raise
        except (OSError, ValueError, TypeError) as exc:
            raise ExportDamaged(f"{META} cannot be read ({exc})") from exc
        return meta


def _max_seq_length(model: Path) -> int | None:
    """The model's own window in word pieces (its sentence_bert_config.json), or None where
    it cannot be read (the model moved since the export: the probe still checks)."""
    try:
        return int(json.loads((model / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class OnnxEncoder:
    """Tokenize with the model's fast tokenizer, run the exported graph (transformer, pooling
    and normalization in one), longest texts first in batches of like lengths (PAD_WASTE).
    `threads` (0 = ONNX Runtime's choice, one per core) bounds the cores one call takes.
    `int8` runs INT8_GRAPH instead of the fp32 graph."""

    def __init__(
        self, folder: Path, threads: int = 0, verify: bool = True, int8: bool = False
    ) -> None:
        """ExportDamaged when the export cannot be used as it is (see `ExportDamaged`);
        `verify=False` skips the PROBE comparison, for the export's own first check."""
        meta = ExportMeta.read(folder)
        self.max_tokens = meta.max_tokens
        self.dimension = meta.dimension
        self.int8 = int8
        try:
            self._load(folder, threads)
        except ExportDamaged:
            raise
        except Exception as exc:  # noqa: BLE001 - onnxruntime and tokenizers raise their own
            raise ExportDamaged(f"it does not load ({type(exc).__name__}: {exc})") from exc
        if verify:
            self._verify(meta)
            with contextlib.suppress(OSError):  # a read-only cache is used as it is
                os.utime(folder / META)  # in use: not stale (`prune_stale_exports`)

    def _verify(self, meta: ExportMeta) -> None:
        expected = _max_seq_length(Path(meta.source))
        if expected is not None and meta.max_tokens != expected:
            # PROBE is shorter than the model's window: a max_tokens raised above it would embed
            # it the same, and every longer text differently from the model (case: an edit).
            raise ExportDamaged(f"{META} reads {meta.max_tokens} word pieces, the model {expected}")
        probe = meta.int8_probe if self.int8 else meta.probe
        if len(probe) != self.dimension:
            raise ExportDamaged(f"{META} records no probe vector of {self.dimension} numbers")
        try:
            got = self.encode([PROBE], 1)[0]
        except Exception as exc:  # noqa: BLE001 - a shape that does not fit, from the graph
            raise ExportDamaged(f"it does not encode ({type(exc).__name__}: {exc})") from exc
        cosine = float(got @ np.asarray(probe, dtype=np.float32))
        if not cosine >= PROBE_COSINE:
            raise ExportDamaged(
                f"its vectors are not those it was checked with (cosine {cosine:.6f})"
            )

    def _load(self, folder: Path, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # Optimized when the export was made (`encoder_export.optimize`): not again at each start.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no notes on unused initializers
        # Its threads sleep between calls rather than spin: spinning kept the cores busy while
        # this process composed answers or searched BM25, and took them from the local model
        # and the other processes; a query's latency is the same (5.6 ms either way), and a
        # quick eval used 80 CPU-seconds instead of 95 in the same wall time (docs/benchmarks).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if not self.int8:  # INT8_GRAPH holds its weights
            regular_file(folder / WEIGHTS)  # ONNX Runtime would map a FIFO or a device too
        graph = regular_file(folder / (INT8_GRAPH if self.int8 else GRAPH))
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        tokenizer = regular_file(folder / "tokenizer.json").read_text()
        self.tokenizer = Tokenizer.from_str(tokenizer)
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.truncating = Tokenizer.from_str(tokenizer)
        self.truncating.enable_truncation(max_length=self.max_tokens)
        self.truncating.no_padding()
        self.pad_id = self.truncating.token_to_id("[PAD]") or 0

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        encodings = self.truncating.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for chosen in like_lengths(lengths[order], batch_size):
            rows = order[chosen]
            width = int(lengths[rows[0]])
            feeds = {
                "input_ids": np.full((len(rows), width), self.pad_id, dtype=np.int64),
                "attention_mask": np.zeros((len(rows), width), dtype=np.int64),
                "token_type_ids": np.zeros((len(rows), width), dtype=np.int64),
            }
            for row, i in enumerate(rows):
                used = len(encodings[i].ids)
                feeds["input_ids"][row, :used] = encodings[i].ids
                feeds["attention_mask"][row, :used] = encodings[i].attention_mask
                feeds["token_type_ids"][row, :used] = encodings[i].type_ids
            (vectors,) = self.session.run(
                None, {k: v for k, v in feeds.items() if k in self.inputs}
            )
            out[rows] = vectors
        return out

    def count_tokens(self, texts: list[str], special: bool = False) -> list[int]:
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=special)
        return [len(e.ids) for e in encodings]


# A batch is padded to its longest text, so a batch of short sentences holding one long one
# costs nearly as much as that many long ones. A batch stops growing where its padded size
# would pass PAD_WASTE times its tokens: on the 1,596 sentences a quick eval embeds (44 tokens
# at the median, 248 at most), 22.4 s instead of 27-29 s in batches of 64 (1.1: 23.7 s, 1.6:
# 27.1 s), with the same vectors (padding is masked out).
PAD_WASTE = 1.3


def like_lengths(lengths: np.ndarray, batch_size: int) -> list[slice]:
    """Consecutive batches of `lengths` (token counts, longest first), each of at most
    `batch_size` texts and at most PAD_WASTE times its tokens once padded to its first."""
    batches: list[slice] = []
    start = 0
    while start < len(lengths):
        end, tokens = start + 1, int(lengths[start])
        while end < len(lengths) and end - start < batch_size:
            tokens += int(lengths[end])
            if (end - start + 1) * int(lengths[start]) > PAD_WASTE * tokens:
                break
            end += 1
        batches.append(slice(start, end))
        start = end
    return batches


def load_encoder(
    model_path: Path,
    cache_dir: Path,
    threads: int = 0,
    engine: Engine = "onnx",
    precision: Precision = "auto",
) -> Encoder:
    """The encoder of the model at `model_path`. "onnx": its checked ONNX export, made now
    (torch, about 20 s, once per model and cache) if not there yet, or sentence-transformers
    where the export failed its check. "torch": sentence-transformers (ingest's throughput),
    in `precision` (`TorchEncoder`)."""
    folder = export_folder(model_path, cache_dir)
    if engine == "torch" or (folder / REFUSED).exists():
        from app.search.encoder_export import TorchEncoder

        return TorchEncoder(model_path, threads, precision)
    if not (folder / META).exists():
        print(
            f"Preparing the encoder for fast starts (once, about 20 s): {folder}",
            file=sys.stderr,
            flush=True,
        )
        return _made(model_path, folder, threads, precision)
    try:
        return OnnxEncoder(folder, threads)
    except ExportDamaged as exc:
        print(
            f"The encoder's export at {folder} is damaged ({exc}): making it again "
            "(once, about 20 s)",
            file=sys.stderr,
            flush=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
        return _made(model_path, folder, threads, precision)


def load_document_encoder(
    model_path: Path, cache_dir: Path, threads: int = 0, again: bool = True
) -> Encoder | None:
    """What ingest embeds documents with: the export's INT8_GRAPH (the export made now if need
    be), or None where there is none that passed its check (ingest then runs as it did before
    int8: fp32, on torch for a long ingest). A damaged one is said and made again, once.

    Why int8 for documents only: dynamic int8 quantization encodes about 1.8x the chunks per
    second of fp32 (51 against 27 on 128 1,000-character chunks, AVX-512 with VNNI; 1.77x on
    AVX2), and with documents in int8 and queries in fp32 retrieval held: golden MRR@10 0.9545
    against 0.9558, held-out 0.917 against 0.918 (docs/benchmarks.md). Queries stay fp32: they
    are one short text, and their vectors match the fp32 export's exactly."""
    folder = export_folder(model_path, cache_dir)
    if not export_ready(model_path, cache_dir) and not isinstance(
        load_encoder(model_path, cache_dir, threads),
        OnnxEncoder,  # makes the export
    ):
        return None  # refused, or the cache cannot hold one (said already)
    try:
        if not ExportMeta.read(folder).int8_probe:
            return None
        return OnnxEncoder(folder, threads, int8=True)
    except ExportDamaged as exc:
        print(
            f"The encoder's int8 graph at {folder} is damaged ({exc}): "
            + ("making the export again (once, about 20 s)" if again else "ingest runs in fp32"),
            file=sys.stderr,
            flush=True,
        )
        if not again:
            return None
        shutil.rmtree(folder, ignore_errors=True)
        return load_document_encoder(model_path, cache_dir, threads, again=False)


def prune_stale_exports(kept: Path, days: float = STALE_DAYS) -> list[Path]:
    """Removes the other exports of `kept`'s model in its cache that no command has loaded for
    `days` (a load touches its meta.json); returns them. One in use by another checkout is at
    worst made again there, said as damaged."""
    model_name = kept.name.rsplit("-", 1)[0]
    cutoff = time.time() - days * 86_400
    removed = []
    for other in kept.parent.glob(f"{glob.escape(model_name)}-*"):
        if other == kept or not other.is_dir() or other.is_symlink():
            continue
        marker = other / META if (other / META).exists() else other
        with contextlib.suppress(OSError):
            if marker.stat().st_mtime < cutoff:
                shutil.rmtree(other)
                removed.append(other)
    return removed


def _made(model_path: Path, folder: Path, threads: int, precision: Precision) -> Encoder:
    """The export made now (torch) and loaded; sentence-transformers where it failed its
    check, or where the cache cannot hold it (a read-only disk, a file where the folder
    goes), said once."""
    from app.search.encoder_export import ExportRefused
    from app.search.encoder_export import TorchEncoder
    from app.search.encoder_export import export

    try:
        export(model_path, folder)
        encoder = OnnxEncoder(folder, threads)
        prune_stale_exports(folder)
        return encoder
    except ExportRefused as exc:
        log.warning("the ONNX export of %s is not used: %s", model_path, exc)
    except (OSError, ExportDamaged) as exc:
        print(
            f"The encoder's export cannot be kept in {folder.parent} ({exc}): the model runs "
            "on torch for now (slower to start). Set TUTOR_ENCODER_CACHE_DIR to a folder "
            "you can write.",
            file=sys.stderr,
            flush=True,
        )
    return TorchEncoder(model_path, threads, precision)

"""The encoder runs from its ONNX export: the same vectors as sentence-transformers, made here
with no download, checked before use, and a cold query without torch."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.search import encoder_export
from app.search.encoder import INT8_GRAPH
from app.search.encoder import META
from app.search.encoder import PAD_WASTE
from app.search.encoder import REFUSED
from app.search.encoder import ExportDamaged
from app.search.encoder import OnnxEncoder
from app.search.encoder import export_folder
from app.search.encoder import like_lengths
from app.search.encoder import load_document_encoder
from app.search.encoder import load_encoder
from app.search.encoder import prune_stale_exports
from app.search.encoder_export import TorchEncoder
from app.search.vectors import Embedder
from app.search.vectors import embedding_model_path
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh export of the packaged model into an empty cache (about 20 s)."""
    model = embedding_model_path()
    folder = export_folder(model, tmp_path_factory.mktemp("encoders"))
    encoder_export.export(model, folder)
    return folder


@pytest.fixture(scope="module")
def torch_encoder() -> TorchEncoder:
    return TorchEncoder(embedding_model_path(), precision="fp32")


def passages() -> list[str]:
    """Texts unlike the export's own check: our notes' paragraphs, long and short."""
    notes = sorted((REPO / "corpus" / "notes").glob("*.md"))
    paragraphs = [p for path in notes[::5] for p in path.read_text().split("\n\n") if p.strip()]
    return paragraphs[:120]


def test_the_export_gives_sentence_transformers_vectors(
    exported: Path, torch_encoder: TorchEncoder
) -> None:
    meta = json.loads((exported / META).read_text())
    assert meta["min_cosine"] >= encoder_export.MIN_COSINE
    assert meta["max_tokens"] == torch_encoder.max_tokens == 256
    texts = passages()
    ours, theirs = OnnxEncoder(exported).encode(texts, 16), torch_encoder.encode(texts, 16)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert np.sum(ours * theirs, axis=1).min() >= 0.99999
    assert OnnxEncoder(exported).count_tokens(texts) == torch_encoder.count_tokens(texts)


def test_ingest_embeds_documents_with_the_int8_graph_close_to_fp32_and_without_torch(
    exported: Path, torch_encoder: TorchEncoder
) -> None:
    """The export carries an int8 graph (about 1.8x fp32's chunks per second), checked
    against sentence-transformers; ingest's embedder runs it (no torch imported), queries
    stay on the fp32 graph. What it costs retrieval is measured, not asserted here
    (docs/benchmarks.md: MRR@10 within 0.002 of fp32 documents on both splits)."""
    meta = json.loads((exported / META).read_text())
    assert meta["int8_min_cosine"] >= encoder_export.INT8_MIN_COSINE
    texts = passages()
    cosines = np.sum(
        OnnxEncoder(exported, int8=True).encode(texts, 16) * torch_encoder.encode(texts, 16),
        axis=1,
    )
    assert cosines.mean() >= 0.99 and cosines.min() >= 0.97, (cosines.mean(), cosines.min())

    probe = (
        "import sys; from pathlib import Path; from app.search.vectors import Embedder;"
        f"cache = Path({str(exported.parent)!r});"
        "e = Embedder(cache_dir=cache, engine='torch', precision='auto', for_ingest=True);"
        "e.embed(['Dropout zeroes random units while training.'] * 3);"
        "q = Embedder(cache_dir=cache);"
        "print(e.encoder.int8, q.encoder.int8, 'torch' in sys.modules)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert shown.stdout.strip() == "True False False", shown.stderr[-2000:]


def test_a_damaged_int8_graph_is_said_and_made_again_once(
    exported: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A damaged int8 graph is told, and the export made again (here the good export copied
    in stands for the 20-s export); damaged again, ingest runs in fp32, said so."""
    model = embedding_model_path()
    folder = export_folder(model, tmp_path)
    shutil.copytree(exported, folder)
    truncated(folder / INT8_GRAPH)
    with pytest.raises(ExportDamaged):
        OnnxEncoder(folder, int8=True)

    def export(model_path: Path, into: Path) -> None:
        shutil.copytree(exported, into)

    monkeypatch.setattr(encoder_export, "export", export)
    made = load_document_encoder(model, tmp_path)
    assert isinstance(made, OnnxEncoder) and made.int8
    assert "making the export again" in capsys.readouterr().err

    def damaged(model_path: Path, into: Path) -> None:
        export(model_path, into)
        truncated(into / INT8_GRAPH)

    monkeypatch.setattr(encoder_export, "export", damaged)
    truncated(folder / INT8_GRAPH)
    assert load_document_encoder(model, tmp_path) is None
    told = capsys.readouterr().err
    assert told.count("making the export again") == 1 and told.count("runs in fp32") == 1
    assert isinstance(load_encoder(model, tmp_path), OnnxEncoder)  # queries: the fp32 graph


def test_an_export_that_fails_its_check_is_refused_and_the_model_runs_on_torch(
    exported: Path, torch_encoder: TorchEncoder, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(encoder_export, "MIN_COSINE", 1.5)  # no vector can pass
    meta = encoder_export.ExportMeta.read(exported)
    with pytest.raises(encoder_export.ExportRefused, match="cosine"):
        encoder_export.check(torch_encoder.model, exported, meta)

    model = embedding_model_path()
    folder = export_folder(model, tmp_path)
    folder.mkdir()
    (folder / REFUSED).write_text(json.dumps({"reason": "a test"}))
    assert isinstance(load_encoder(model, tmp_path), TorchEncoder)  # and no export is tried


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def to_dev_zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def edited(field: str, value: object) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        path.write_text(json.dumps(json.loads(path.read_text()) | {field: value}))

    return edit


DAMAGES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "model truncated": ("model.onnx", truncated),
    "model a FIFO": ("model.onnx", fifo),
    "model a link to /dev/zero": ("model.onnx", to_dev_zero),
    "weights truncated": ("model.data", truncated),
    "weights a FIFO": ("model.data", fifo),
    "weights a link to /dev/zero": ("model.data", to_dev_zero),
    "weights missing": ("model.data", lambda p: p.unlink()),
    "tokenizer garbage": ("tokenizer.json", lambda p: p.write_text("not json")),
    "meta not JSON": (META, lambda p: p.write_text("{")),
    "meta with a field more": (META, edited("extra", 1)),
    "meta of another dimension": (META, edited("dimension", 128)),
    "meta reading 6 word pieces": (META, edited("max_tokens", 6)),
    "meta reading 512 word pieces": (META, edited("max_tokens", 512)),  # PROBE embeds the same
    "meta without its probe": (META, edited("probe", [])),
    "vectors not the recorded ones": (META, lambda p: None),  # made below
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_export_is_told_not_used(exported: Path, tmp_path: Path, damage: str) -> None:
    """Each way an export on disk can be damaged raises ExportDamaged, naming what is wrong,
    at once: no traceback of ONNX Runtime's, no hang on a FIFO, no other vectors in silence."""
    folder = tmp_path / exported.name
    shutil.copytree(exported, folder)
    name, damage_it = DAMAGES[damage]
    if damage == "vectors not the recorded ones":  # as altered weights would give
        meta = json.loads((folder / META).read_text())
        (folder / META).write_text(json.dumps(meta | {"probe": [0.0] * 383 + [1.0]}))
    else:
        damage_it(folder / name)
    with pytest.raises(ExportDamaged) as told:
        OnnxEncoder(folder)
    assert str(told.value), damage


def test_exports_no_command_loaded_for_two_weeks_are_removed_when_a_new_one_is_made(
    exported: Path, tmp_path: Path
) -> None:
    """About 110 MB an export, one more for each EXPORT_VERSION, model change or checkout: a
    load marks its export in use, and making a new one removes the stale ones of that model."""
    cache = tmp_path / "cache"
    shutil.copytree(exported, cache / "model-new")
    in_use = shutil.copytree(exported, cache / "model-in-use")
    stale = shutil.copytree(exported, cache / "model-stale")
    refused = cache / "model-refused"  # no meta.json: the folder's own time
    refused.mkdir()
    another = shutil.copytree(exported, cache / "other-model-old")
    weeks_ago = time.time() - 15 * 86_400
    for folder in (in_use, stale, refused, another):
        os.utime(folder / META if (folder / META).exists() else folder, (weeks_ago, weeks_ago))
    OnnxEncoder(in_use)  # loaded today
    removed = prune_stale_exports(cache / "model-new")
    assert sorted(p.name for p in removed) == ["model-refused", "model-stale"]
    assert sorted(p.name for p in cache.iterdir()) == [
        "model-in-use",
        "model-new",
        "other-model-old",
    ]


def test_a_damaged_export_is_made_again_and_a_cache_that_cannot_hold_one_runs_torch(
    exported: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """load_encoder meets a damaged export: it says so, sets it aside and makes it again
    (here the good export copied in stands for the 20-s export, whose own test is above).
    Where the cache cannot be written (a file where the folder goes), the model runs on torch
    and the learner is told how to give it a folder."""
    model = embedding_model_path()
    folder = export_folder(model, tmp_path / "cache")
    shutil.copytree(exported, folder)
    truncated(folder / "model.onnx")

    def export(model_path: Path, into: Path) -> None:
        shutil.copytree(exported, into)

    monkeypatch.setattr(encoder_export, "export", export)
    encoder = load_encoder(model, tmp_path / "cache")
    assert isinstance(encoder, OnnxEncoder)
    assert "is damaged (it does not load" in capsys.readouterr().err
    assert np.allclose(
        encoder.encode(["attention"], 1), OnnxEncoder(exported).encode(["attention"], 1)
    )

    monkeypatch.undo()  # the real export: it fails at once, before torch loads
    (tmp_path / "a-file").write_text("")
    assert isinstance(load_encoder(model, tmp_path / "a-file"), TorchEncoder)
    assert "Set TUTOR_ENCODER_CACHE_DIR" in capsys.readouterr().err


def test_a_cold_query_embeds_without_importing_torch(exported: Path) -> None:
    """What `tutor search` and `tutor ask` load to embed a question: ONNX Runtime and
    `tokenizers`, not torch or sentence-transformers (16 s of a cold start on two cores)."""
    probe = (
        "import sys; from pathlib import Path; from app.search.vectors import Embedder;"
        f"e = Embedder(cache_dir=Path({str(exported.parent)!r}));"
        "v = e.embed(['What is overfitting?']);"
        "print(v.shape, sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "(1, 384) []"


def test_a_bank_of_fixed_texts_is_embedded_once_per_model_and_read_back(
    exported: Path, tmp_path: Path
) -> None:
    """The off-topic check's 240 everyday questions cost a cold command a second to embed:
    they are embedded once, kept in the encoder cache by model and content, and read back."""
    bank = [f"How do I train my dog to do trick number {i}?" for i in range(12)]
    first = Embedder(cache_dir=exported.parent)
    made = first.embed_bank(bank)
    assert np.allclose(made, first.embed(bank))

    second = Embedder(cache_dir=exported.parent)
    embedded: list[str] = []
    embed = second.embed
    second.embed = lambda texts, batch_size=64: embedded.extend(texts) or embed(texts)
    assert np.array_equal(second.embed_bank(bank), made)
    assert embedded == [bank[0], bank[6], bank[11]]  # read back, three rows spot-checked
    other = bank + ["Which stocks should I buy?"]
    assert Embedder(cache_dir=exported.parent).embed_bank(other).shape == (13, 384)  # new content

    digest = hashlib.sha256("\n".join(bank).encode()).hexdigest()[:16]
    (kept,) = (exported.parent / "banks").glob(f"*-{digest}.npy")
    damaged = {
        "empty": b"",
        "a zip": b"PK\x03\x04" + b"\0" * 64,
    }
    for name, content in damaged.items():
        kept.write_bytes(content)
        assert np.allclose(Embedder(cache_dir=exported.parent).embed_bank(bank), made), name
    for name, planted in {
        "int8": made.astype(np.int8),
        "NaN": np.full_like(made, np.nan),
        "not unit": made * 1e30,
        "rows swapped": made[::-1].copy(),
    }.items():
        np.save(kept, planted)
        assert np.allclose(Embedder(cache_dir=exported.parent).embed_bank(bank), made), name
        assert np.array_equal(np.load(kept), Embedder(cache_dir=exported.parent).embed_bank(bank))
    kept.unlink()
    os.mkfifo(kept)  # a read would block
    assert np.allclose(Embedder(cache_dir=exported.parent).embed_bank(bank), made)
    kept.unlink()

    unwritable = tmp_path / "read-only"
    unwritable.mkdir()
    (unwritable / "banks").write_text("a file where the folder would go")
    quiet = Embedder(cache_dir=exported.parent)
    _ = quiet.encoder  # the export loaded; then only the bank's place is bad
    quiet.cache_dir = unwritable
    assert np.allclose(quiet.embed_bank(bank), made)  # embedded, not kept, no error


def test_ingest_encodes_in_bf16_where_the_cpu_has_it_and_the_vectors_stay_fp32s(
    torch_encoder: TorchEncoder, tmp_path: Path, monkeypatch
) -> None:
    """bf16 (torch autocast) where the CPU multiplies it natively: about 2.5x ingest's chunks
    per second, its vectors checked against fp32's before use; fp32 where it is not native."""
    flags = tmp_path / "cpuinfo"
    flags.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile\n")
    assert encoder_export.native_bf16(flags)
    flags.write_text("processor\t: 0\nflags\t\t: fpu sse avx2\n")
    assert not encoder_export.native_bf16(flags)
    assert not encoder_export.native_bf16(tmp_path / "absent")

    auto = TorchEncoder(embedding_model_path())
    assert auto.bf16 == encoder_export.native_bf16()
    texts = passages()[:40]  # long and short paragraphs of the notes
    cosines = np.sum(auto.encode(texts, 16) * torch_encoder.encode(texts, 16), axis=1)
    assert cosines.min() >= encoder_export.BF16_MIN_COSINE

    monkeypatch.setattr(encoder_export, "native_bf16", lambda: True)
    monkeypatch.setattr(encoder_export, "BF16_MIN_COSINE", 1.5)  # no vector can pass
    assert not TorchEncoder(embedding_model_path()).bf16  # refused: fp32


def test_a_batch_holds_texts_of_like_lengths_and_each_text_gets_its_own_vector(embedder) -> None:
    """A batch is padded to its longest text: short sentences are not batched with a long one
    (PAD_WASTE), and padding never changes a vector."""
    lengths = np.array([250, 240, 60, 44, 40, 12, 11, 10, 10, 9])
    batches = like_lengths(lengths, batch_size=3)
    assert [(b.start, b.stop) for b in batches] == [(0, 2), (2, 5), (5, 8), (8, 10)]
    for batch in batches:
        padded = (batch.stop - batch.start) * lengths[batch.start]
        assert padded <= PAD_WASTE * lengths[batch].sum() or batch.stop - batch.start == 1

    texts = ["Dropout is off at test time.", *passages()[:7], "eigenvalues", ""]
    together = embedder.encoder.encode(texts, 64)
    alone = np.vstack([embedder.encoder.encode([t], 1) for t in texts])
    assert np.abs(together - alone).max() < 1e-5

"""Ingest: incremental by content hash, safe to interrupt, and bad files never stop the rest."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from app.config import Settings
from app.ingest.pipeline import Ingestor
from app.ingest.sources import SourceError
from app.search.vectors import VectorStore
from tests.conftest import REPO
from tests.conftest import minimal_pdf
from tests.conftest import pdf_with_a_blank_page
from tests.conftest import tutor_process
from tests.conftest import write

NOTE = "---\ntitle: {title}\n---\n# {title}\n\n{body}\n"


def make_notes(folder: Path, count: int, words: int = 60) -> list[Path]:
    return [
        write(
            folder / f"topic-{i:03d}.md",
            NOTE.format(
                title=f"Topic {i}", body=" ".join(f"idea{i} concept{j}" for j in range(words))
            ),
        )
        for i in range(count)
    ]


def chunk_metadata(store: VectorStore) -> list[dict]:
    return store.collection.get(include=["metadatas"])["metadatas"]


def sources(store: VectorStore) -> Counter:
    return Counter(m["source"] for m in chunk_metadata(store))


def test_a_folder_goes_in_with_sources_relative_to_it(ingestor, tmp_path: Path) -> None:
    make_notes(tmp_path / "notes" / "sub", 2)
    summary = ingestor.run([str(tmp_path / "notes")])
    assert (summary.added, summary.skipped) == (2, [])
    assert set(sources(ingestor.store)) == {"sub/topic-000.md", "sub/topic-001.md"}
    meta = chunk_metadata(ingestor.store)[0]
    assert {"title", "heading", "hash", "kind", "root", "file"} <= meta.keys()
    assert meta["kind"] == "public" and meta["weeks"]  # tagged with the weeks it matches


def test_a_single_file_is_sourced_by_its_name(ingestor, tmp_path: Path) -> None:
    path = make_notes(tmp_path, 1)[0]
    ingestor.run([str(path)])
    assert set(sources(ingestor.store)) == {"topic-000.md"}


def test_the_whole_index_is_read_in_pages(ingestor, tmp_path: Path) -> None:
    make_notes(tmp_path / "n", 5)
    ingestor.run([str(tmp_path / "n")])
    everything = ingestor.store.all(include=["metadatas"], page=2)
    assert len(everything["ids"]) == len(set(everything["ids"])) == ingestor.store.count()
    assert len(everything["metadatas"]) == ingestor.store.count()


def test_unchanged_files_are_not_reembedded(ingestor, tmp_path: Path) -> None:
    make_notes(tmp_path / "n", 3)
    first = ingestor.run([str(tmp_path / "n")])
    second = ingestor.run([str(tmp_path / "n")])
    assert (second.added, second.changed, second.unchanged, second.chunks) == (0, 0, 3, 0)
    assert ingestor.store.count() == first.index_chunks


def test_a_changed_file_has_its_old_chunks_replaced(ingestor, tmp_path: Path) -> None:
    paths = make_notes(tmp_path / "n", 2)
    ingestor.run([str(tmp_path / "n")])
    paths[0].write_text(NOTE.format(title="Rewritten", body="completely new words about pooling"))
    summary = ingestor.run([str(tmp_path / "n")])
    assert (summary.changed, summary.unchanged) == (1, 1)
    texts = ingestor.store.collection.get(where={"file": "topic-000.md"})["documents"]
    assert len(texts) == 1 and "pooling" in texts[0]


def test_a_deleted_file_has_its_chunks_removed(ingestor, tmp_path: Path) -> None:
    paths = make_notes(tmp_path / "n", 2)
    ingestor.run([str(tmp_path / "n")])
    paths[1].unlink()
    summary = ingestor.run([str(tmp_path / "n")])
    assert summary.removed == 1
    assert set(sources(ingestor.store)) == {"topic-000.md"}


def test_rebuild_starts_clean(ingestor, tmp_path: Path) -> None:
    make_notes(tmp_path / "a", 2)
    make_notes(tmp_path / "b", 1)
    ingestor.run([str(tmp_path / "a")])
    summary = ingestor.run([str(tmp_path / "b")], rebuild=True)
    assert summary.added == 1 and set(sources(ingestor.store)) == {"topic-000.md"}
    assert {m["root"] for m in chunk_metadata(ingestor.store)} == {str(tmp_path / "b")}


def test_each_bad_file_is_skipped_by_name_and_the_rest_goes_in(
    settings, embedder, tmp_path: Path
) -> None:
    limited = settings.model_copy(update={"ingest_max_file_mb": 1.0})  # the limit is a setting
    ingestor = Ingestor(limited, embedder=embedder)
    folder = tmp_path / "mixed"
    make_notes(folder, 2)
    write(folder / "broken.pdf", b"%PDF-1.4 not really")
    write(folder / "good.pdf", minimal_pdf("Convolutions share weights across positions"))
    write(folder / "photo.md", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(folder / "empty.md", b"")
    write(folder / "huge.txt", "word " * 300_000)  # 1.4 MB
    summary = ingestor.run([str(folder)])
    skipped = {s.source: s.reason for s in summary.skipped}
    assert set(skipped) == {"broken.pdf", "photo.md", "empty.md", "huge.txt"}
    assert "PDF" in skipped["broken.pdf"] and "binary" in skipped["photo.md"]
    assert "empty" in skipped["empty.md"] and "over the 1 MB limit" in skipped["huge.txt"]
    assert summary.added == 3
    assert "good.pdf" in sources(ingestor.store)


def test_a_missing_path_is_a_usage_error_before_anything_changes(ingestor, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        ingestor.run([str(tmp_path / "nope")])
    with pytest.raises(SourceError, match="no user 'no-such-user-here'"):
        ingestor.run(["~no-such-user-here/notes"])


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        },
    )


def test_a_git_repository_is_shallow_cloned_and_kept_up_to_date(ingestor, tmp_path: Path) -> None:
    repo = tmp_path / "course"
    make_notes(repo / "lectures", 2)
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-qm", "notes", cwd=repo)
    url = f"file://{repo}"
    summary = ingestor.run([url])
    assert summary.added == 2
    assert set(sources(ingestor.store)) == {"lectures/topic-000.md", "lectures/topic-001.md"}
    assert {m["root"] for m in chunk_metadata(ingestor.store)} == {url}
    (repo / "lectures" / "topic-001.md").unlink()
    _git("commit", "-qam", "drop one", cwd=repo)
    assert ingestor.run([url]).removed == 1


def test_a_git_url_that_fails_is_skipped_and_the_rest_goes_in(ingestor, tmp_path: Path) -> None:
    make_notes(tmp_path / "n", 1)
    summary = ingestor.run([f"file://{tmp_path}/missing-repo.git", str(tmp_path / "n")])
    assert summary.added == 1
    assert len(summary.skipped) == 1 and "git failed" in summary.skipped[0].reason


def test_the_bundled_corpus_becomes_weeks_capstones_and_notes(corpus_index, corpus_dir) -> None:
    """The session's own ingest of the bundled corpus (tests/conftest.py), looked at."""
    assert corpus_index.summary.skipped == []
    store = VectorStore(Settings(data_dir=corpus_dir))
    found = sources(store)
    assert {f"curriculum/week-{w:02d}" for w in range(1, 49)} <= set(found)
    assert {f"curriculum/capstone-q{q}" for q in range(1, 5)} <= set(found)
    assert {f"curriculum/month-{m}" for m in range(13, 19)} <= set(found)
    assert {"curriculum/resources", "notes/w18-attention.md"} <= set(found)
    week = store.collection.get(where={"source": "curriculum/week-18"})["metadatas"][0]
    assert (week["week"], week["month"], week["quarter"], week["phase"], week["kind"]) == (
        18,
        5,
        2,
        2,
        "curriculum",
    )
    note = store.collection.get(where={"source": "notes/w18-attention.md"})["metadatas"][0]
    assert note["week"] == 18 and note["kind"] == "note"
    rl = store.collection.get(where={"source": "notes/m13-reinforcement-learning.md"})
    assert rl["metadatas"][0]["weeks"] == list(range(49, 61))


def test_cli_ingest_json_summary_and_exit_codes(data_dir: Path, tmp_path: Path) -> None:
    make_notes(tmp_path / "n", 2)
    env = {"TUTOR_DATA_DIR": str(data_dir)}
    ok = tutor_process("ingest", str(tmp_path / "n"), "--json", env=env)
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)
    assert summary["added"] == 2 and summary["chunks"] > 0 and summary["chunks_per_s"] > 0
    write(tmp_path / "n" / "bad.md", b"\x00\x01binary")
    partial = tutor_process("ingest", str(tmp_path / "n"), env=env)
    assert partial.returncode == 1
    assert "1 skipped" in partial.stdout and "bad.md: binary" in partial.stderr
    usage = tutor_process("ingest", str(tmp_path / "does-not-exist"), env=env)
    assert usage.returncode == 2 and "no such file or folder" in usage.stderr


def test_cli_ingest_names_each_skipped_file_and_warning_in_plain_output(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "n"
    make_notes(folder, 1)
    write(
        folder / "[red]photo.md", b"\x89PNG\r\n\x1a\n\x00\x00"
    )  # a name rich would read as markup
    write(folder / "slides.pdf", pdf_with_a_blank_page("Dropout zeroes random units"))
    write(
        folder / "cours.txt",
        (
            "Les réseaux de neurones apprennent des représentations; la "
            "rétropropagation calcule le gradient."
        ).encode("cp1252"),
    )
    result = tutor_process(
        "ingest", str(folder), env={"TUTOR_DATA_DIR": str(data_dir), "COLUMNS": "300"}
    )
    assert result.returncode == 1, result.stderr
    assert "3 added, 0 changed, 0 unchanged, 0 removed, 1 skipped, 2 warnings" in result.stdout
    lines = result.stderr.splitlines()
    assert "  skipped [red]photo.md: binary content, not text (wrong file extension?)" in lines
    assert any(
        line.startswith("  warning slides.pdf: page 2 of 2 has no text layer")
        and "ocrmypdf" in line
        for line in lines
    )
    assert any(
        line.startswith("  warning cours.txt: read as cp125")  # cp1250 or cp1252
        and "a guess from its bytes" in line
        and "save the file as UTF-8" in line
        for line in lines
    )


TORCH_LOADED = """
import runpy, sys
sys.argv = ["tutor", "ingest", sys.argv[1], "--json"]
try:
    runpy.run_module("app.cli", run_name="__main__")
except SystemExit as exit:
    print(f"exit {exit.code}; torch {'torch' in sys.modules}", file=sys.stderr)
"""


def test_a_small_ingest_encodes_on_the_onnx_export_without_importing_torch(
    data_dir: Path, tmp_path: Path
) -> None:
    """`tutor ingest` of a few notes starts encoding at once: torch (7-14 s of CPU to import)
    loads only for a call of TORCH_FROM chunks or more."""
    make_notes(tmp_path / "n", 3)
    done = subprocess.run(
        [sys.executable, "-c", TORCH_LOADED, str(tmp_path / "n")],
        cwd=REPO,
        env={**os.environ, "TUTOR_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "exit 0; torch False" in done.stderr, done.stderr[-2000:]
    assert json.loads(done.stdout)["added"] == 3


@pytest.mark.slow
def test_a_large_batch_loads_torch_and_its_vectors_are_the_exports(embedder, monkeypatch) -> None:
    """Torch loads where it pays: once 256 new texts have come where it computes bf16 (about
    2.5x the export's rate), 1,000 in fp32 (where it keeps the export's pace, or 1.3x it),
    counted over the ingest's calls (it embeds 512 chunks at a time)."""
    from app.search import vectors
    from app.search.encoder_export import TorchEncoder

    monkeypatch.setattr(vectors, "native_bf16", lambda: True)  # as on a CPU with AMX
    assert vectors.Embedder(engine="torch", precision="auto", for_ingest=True).torch_from == 256
    assert vectors.Embedder(engine="torch", precision="fp32", for_ingest=True).torch_from == 1000
    monkeypatch.setattr(vectors, "native_bf16", lambda: False)
    assert vectors.Embedder(engine="torch", precision="auto", for_ingest=True).torch_from == 1000

    texts = [f"dropout zeroes random unit {i} while training" for i in range(4)]
    monkeypatch.setattr(vectors, "TORCH_FROM", {"bf16": 3, "fp32": 3})
    ingesting = vectors.Embedder(engine="torch", precision="fp32", for_ingest=True)
    first = ingesting.embed(texts[:2])
    assert "encoder" not in vars(ingesting), "two texts: the export, torch not loaded"
    then = ingesting.embed(texts[2:3])
    assert isinstance(vars(ingesting).get("encoder"), TorchEncoder), "the third loads torch"
    again = ingesting.embed(texts[:1])  # seen before: from the embedder's cache
    exported = embedder.embed(texts)
    assert np.sum(np.vstack([first, then]) * exported[:3], axis=1).min() > 0.9999
    assert np.array_equal(again, first[:1])
    chosen = vectors.Embedder(engine="torch", precision="fp32")  # TUTOR_ENCODER_ENGINE=torch
    chosen.embed(texts[:1])
    assert isinstance(vars(chosen).get("encoder"), TorchEncoder), "asked for torch: torch"


@pytest.mark.slow
def test_an_ingest_killed_midway_leaves_no_duplicates_and_the_next_run_completes(
    data_dir: Path, tmp_path: Path, embedder
) -> None:
    folder = tmp_path / "many"
    make_notes(folder, 40, words=150)  # several batches of embedding work
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(folder)],
        cwd=REPO,
        env={**os.environ, "TUTOR_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def files_recorded() -> int:
        try:
            with sqlite3.connect(f"file:{data_dir / 'tutor.db'}?mode=ro", uri=True) as db:
                return db.execute("SELECT count(*) FROM ingest_files").fetchone()[0]
        except sqlite3.OperationalError:  # the ingest has not created the manifest yet
            return 0

    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and files_recorded() == 0:
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    settings = Settings(data_dir=data_dir)
    # resumed with the session's encoder (the same model): torch loads once, in the killed run
    resumed = Ingestor(settings, embedder=embedder).run([str(folder)])
    store = VectorStore(settings)
    metas = chunk_metadata(store)
    keys = Counter((m["file"], m["chunk"]) for m in metas)
    assert max(keys.values()) == 1, "duplicate chunks after an interrupted ingest"
    assert {m["file"] for m in metas} == {p.name for p in folder.iterdir()}
    with sqlite3.connect(data_dir / "tutor.db") as db:
        states = db.execute(
            "SELECT state, count(*), sum(chunks) FROM ingest_files GROUP BY state"
        ).fetchall()
    assert states == [("done", 40, len(metas))]
    assert resumed.unchanged + resumed.added + resumed.changed == 40


@pytest.mark.slow
def test_ingest_and_search_against_a_chroma_server(tmp_path: Path, embedder, chroma_server) -> None:
    from app.search.lexical import LexicalIndex
    from app.search.retrieval import Retriever

    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server.url)
    folder = tmp_path / "n"
    write(
        folder / "pooling.md",
        NOTE.format(
            title="Pooling", body="Max pooling keeps the largest activation in each window."
        ),
    )
    make_notes(folder, 2)
    summary = Ingestor(settings, embedder=embedder).run([str(folder)])
    assert summary.added == 3
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went to the embedded store
    store = VectorStore(settings)
    retriever = Retriever(store, embedder, LexicalIndex(store, settings.data_dir))
    hits = retriever.search("which pooling keeps the largest value?", k=1)
    assert hits[0].source == "pooling.md"


# -- one file's failure costs that file only ------------------------------------------------------

POISON = "POISON"


def _raise_on_poison(original, marker=POISON):
    def patched(value, *args, **kwargs):
        if marker in str(value) or (isinstance(value, bytes) and marker.encode() in value):
            raise RuntimeError("something nobody planned for\non two lines")
        return original(value, *args, **kwargs)

    return patched


def _poison_stage(stage: str, monkeypatch: pytest.MonkeyPatch, ingestor: Ingestor) -> None:
    import app.ingest.loaders
    import app.ingest.pipeline
    from app.ingest.week_tagging import WeekTagger

    if stage == "reading":
        monkeypatch.setattr(
            app.ingest.loaders, "decode", _raise_on_poison(app.ingest.loaders.decode)
        )
    elif stage == "front matter":
        monkeypatch.setattr(
            app.ingest.loaders,
            "split_front_matter",
            _raise_on_poison(app.ingest.loaders.split_front_matter),
        )
    elif stage == "chunking":
        monkeypatch.setattr(
            app.ingest.pipeline,
            "chunk_markdown",
            _raise_on_poison(app.ingest.pipeline.chunk_markdown),
        )
    elif stage == "embedding":
        embed = ingestor.embedder.embed
        monkeypatch.setattr(
            ingestor.embedder, "embed", lambda texts, **kw: _raise_on_poison(embed)(texts, **kw)
        )
    else:  # week tagging: the second document tagged (files go in name order) fails
        calls, original = [], WeekTagger.weeks_for

        def weeks_for(self, vectors):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("something nobody planned for")
            return original(self, vectors)

        monkeypatch.setattr(WeekTagger, "weeks_for", weeks_for)


@pytest.mark.parametrize(
    "stage, named",
    [
        ("reading", "reading"),
        ("front matter", "reading"),
        ("chunking", "chunking"),
        ("embedding", "embedding"),
        ("week tagging", "week tagging"),
    ],
)
def test_an_unexpected_error_in_any_step_costs_only_its_file(
    ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str, named: str
) -> None:
    folder = tmp_path / "n"
    write(folder / "a.md", "# Pooling\n\nMax pooling keeps the largest value.\n")
    write(folder / "b-poison.md", f"# Poisoned\n\n{POISON} in the text of this note.\n")
    write(folder / "c.md", "# Dropout\n\nDropout zeroes activations at random.\n")
    _ = ingestor.tagger  # built before the fault goes in: the tagger embeds week topics
    _poison_stage(stage, monkeypatch, ingestor)
    summary = ingestor.run([str(folder)])
    assert [s.source for s in summary.skipped] == ["b-poison.md"]
    reason = summary.skipped[0].reason
    assert reason.startswith(f"{named} failed (RuntimeError: something nobody planned for")
    assert "\n" not in reason
    assert summary.added == 2 and set(sources(ingestor.store)) == {"a.md", "c.md"}


# -- one document, one identity --------------------------------------------------------------------


def _layout(tmp_path: Path) -> Path:
    notes = tmp_path / "notes"
    make_notes(notes, 1)
    make_notes(notes / "sub", 2)
    return notes


def test_overlapping_roots_store_each_file_once(ingestor, tmp_path: Path) -> None:
    notes = _layout(tmp_path)
    ingestor.run([str(notes / "sub"), str(notes), str(notes / "sub" / "topic-000.md")])
    keys = Counter((m["root"], m["file"], m["chunk"]) for m in chunk_metadata(ingestor.store))
    assert max(keys.values()) == 1
    assert set(sources(ingestor.store)) == {"topic-000.md", "sub/topic-000.md", "sub/topic-001.md"}
    assert {m["root"] for m in chunk_metadata(ingestor.store)} == {str(notes)}


def test_reingesting_a_sub_folder_or_a_relative_path_changes_nothing(
    ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = _layout(tmp_path)
    first = ingestor.run([str(notes)])
    monkeypatch.chdir(tmp_path)
    for value in ["notes/sub", "notes/sub/topic-001.md", "./notes/../notes"]:
        again = ingestor.run([value])
        assert (again.added, again.changed, again.removed, again.skipped) == (0, 0, 0, []), value
    assert ingestor.store.count() == first.index_chunks
    assert set(sources(ingestor.store)) == {"topic-000.md", "sub/topic-000.md", "sub/topic-001.md"}


def test_a_folder_ingested_before_its_parent_is_absorbed_not_duplicated(
    ingestor, tmp_path: Path
) -> None:
    notes = _layout(tmp_path)
    ingestor.run([str(notes / "sub")])
    ingestor.run([str(notes)])
    assert sources(ingestor.store).keys() == {
        "topic-000.md",
        "sub/topic-000.md",
        "sub/topic-001.md",
    }
    assert {m["root"] for m in chunk_metadata(ingestor.store)} == {str(notes)}


def test_symlinks_inside_are_one_file_outside_are_skipped_unread_and_loops_end(
    ingestor, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 1)
    secret = write(tmp_path / "private" / "diary.md", "# Diary\n\nmy bank pin is 1234\n")
    (notes / "alias.md").symlink_to(notes / "topic-000.md")
    (notes / "diary.md").symlink_to(secret)
    (notes / "private").symlink_to(secret.parent, target_is_directory=True)
    (notes / "loop").symlink_to(notes, target_is_directory=True)
    summary = ingestor.run([str(notes)])
    assert set(sources(ingestor.store)) == {"topic-000.md"}
    assert {s.source: "outside the ingested folder" in s.reason for s in summary.skipped} == {
        "diary.md": True,
        "private": True,
    }
    assert all("pin" not in t for t in ingestor.store.collection.get()["documents"])


# -- edits cost what they change -------------------------------------------------------------------


def test_a_one_line_edit_reembeds_only_the_chunks_it_changed(
    ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sections = [
        f"## Part {i}\n\n" + f"Point {i} of the lecture is worth a paragraph. " * 25
        for i in range(8)
    ]
    path = write(tmp_path / "n" / "long.md", "# Lecture\n\n" + "\n\n".join(sections) + "\n")
    first = ingestor.run([str(tmp_path / "n")])
    before = ingestor.store.collection.get(include=["embeddings", "metadatas"])
    embedded: list[str] = []
    embed = ingestor.embedder.embed
    monkeypatch.setattr(
        ingestor.embedder,
        "embed",
        lambda texts, **kw: (embedded.extend(texts), embed(texts, **kw))[1],
    )
    path.write_text(path.read_text().replace("Point 3 of the lecture", "Point 3 of the talk", 1))
    second = ingestor.run([str(tmp_path / "n")])
    assert first.chunks >= 8 and (second.changed, second.chunks) == (1, first.chunks)
    assert len(embedded) == 1 and "Point 3 of the talk" in embedded[0]
    assert second.reused == first.chunks - 1
    after = ingestor.store.collection.get(include=["embeddings", "metadatas"])
    old = {m["content"]: v for m, v in zip(before["metadatas"], before["embeddings"])}
    kept = [
        (old[m["content"]], v)
        for m, v in zip(after["metadatas"], after["embeddings"])
        if m["content"] in old
    ]
    assert len(kept) == first.chunks - 1 and all(np.allclose(a, b, atol=1e-6) for a, b in kept)


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://ada:s3cret@example.org/notes.git", "https://example.org/notes.git"),
        ("https://ghp_token@example.org/notes.git", "https://example.org/notes.git"),
        ("ssh://git:pw@example.org/notes.git", "ssh://git@example.org/notes.git"),
        ("ssh://git@example.org/notes.git", "ssh://git@example.org/notes.git"),
        ("git@example.org:ada/notes.git", "git@example.org:ada/notes.git"),
        ("https://example.org/a@b/notes.git", "https://example.org/a@b/notes.git"),
    ],
)
def test_credentials_are_taken_out_of_git_urls_before_they_are_stored_or_shown(url, shown) -> None:
    from app.ingest.sources import redact

    assert redact(url) == shown

"""`tutor search`: the index answers questions with the passages that explain them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Settings
from app.retrieval import search, week_boosted
from app.store import Hit
from ingest.pipeline import CORPUS_DIR, Ingestor
from tests.conftest import REPO


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory, embedder) -> Path:
    """The bundled corpus, ingested once for this module."""
    data_dir = tmp_path_factory.mktemp("corpus-index")
    Ingestor(Settings(data_dir=data_dir), embedder=embedder).run([str(CORPUS_DIR)])
    return data_dir


def _hit(source: str, score: float, weeks: list[int]) -> Hit:
    return Hit(id=source, text="", metadata={"source": source, "weeks": weeks}, score=score)


def test_the_learners_week_lifts_close_matches_but_not_weak_ones() -> None:
    hits = [_hit("other", 0.50, [3]), _hit("mine", 0.47, [18]), _hit("weak", 0.20, [18])]
    ranked = [hit.metadata["source"] for hit, _ in week_boosted(hits, week=18)]
    assert ranked == ["mine", "other", "weak"]
    assert [h.metadata["source"] for h, _ in week_boosted(hits, week=None)] == ["other", "mine", "weak"]


def test_why_divide_by_sqrt_dk_finds_the_week_18_note_first(corpus_dir: Path, embedder) -> None:
    from app.store import Store

    hits = search(Store(Settings(data_dir=corpus_dir)), embedder,
                  "why divide by the square root of d_k", k=5, week=18)
    assert hits[0].source == "notes/w18-attention.md"
    assert hits[0].week == 18 and "d_k" in hits[0].text


def test_search_json_follows_the_contract(corpus_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "search", "Adam bias correction", "--k", "3", "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env={**os.environ, "TUTOR_DATA_DIR": str(corpus_dir)},
    )
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert len(hits) == 3
    assert set(hits[0]) == {"source", "title", "heading", "week", "score", "text"}
    assert hits[0]["source"] == "notes/w06-optimization.md"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_searching_an_empty_index_says_to_ingest_first(data_dir: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "app.cli", "search", "anything"],
                          capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, "TUTOR_DATA_DIR": str(data_dir)})
    assert proc.returncode == 1 and "run `tutor ingest` first" in proc.stderr


def test_search_rejects_a_week_outside_the_plan(data_dir: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "app.cli", "search", "x", "--week", "99"],
                          capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, "TUTOR_DATA_DIR": str(data_dir)})
    assert proc.returncode == 2 and "valid weeks are 1-72" in proc.stderr


@pytest.mark.slow
def test_public_notes_answer_a_question_about_lstm_gates(public_notes: Path, tmp_path: Path,
                                                          embedder) -> None:
    from app.store import Store

    settings = Settings(data_dir=tmp_path / "data")
    summary = Ingestor(settings, embedder=embedder).run([str(public_notes / "cs231n")])
    assert summary.added > 20
    hits = search(Store(settings), embedder, "how do the gates of an LSTM control its cell state?", k=3)
    assert "rnn.md" in [hit.source for hit in hits]
    rnn = Store(settings).collection.get(where={"source": "rnn.md"})["metadatas"][0]
    assert set(rnn["weeks"]) & {9, 17}  # tagged with the RNN / LSTM weeks of the plan

"""`tutor search`: the index answers questions with the passages that explain them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.config import Settings
from app.ingest.pipeline import Ingestor
from app.search.lexical import LexicalIndex
from app.search.retrieval import Candidates
from app.search.retrieval import Filters
from app.search.retrieval import Fusion
from app.search.retrieval import Retriever
from app.search.retrieval import fuse
from app.search.retrieval import reciprocal_rank_fusion
from app.search.retrieval import sentence_units
from app.search.retrieval import week_boosted
from app.search.vectors import Hit
from tests.conftest import tutor
from tests.conftest import tutor_process


def retriever_for(data_dir: Path, embedder) -> Retriever:
    from app.search.retrieval import prerequisites_by_week
    from app.search.vectors import VectorStore

    store = VectorStore(Settings(data_dir=data_dir))
    return Retriever(store, embedder, LexicalIndex(store, data_dir), prerequisites_by_week())


def ranked(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda item: -scores[item])


def test_rrf_hand_worked_example() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)
    assert ranked(fused) == ["a", "c", "b"]


def test_agreement_between_rankers_beats_one_rankers_top_spot() -> None:
    fused = reciprocal_rank_fusion([["solo", "both"], ["both"]])
    assert ranked(fused) == ["both", "solo"]


def test_a_rankers_weight_scales_its_votes() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "a"]], k=60, weights=[2.0, 1.0])
    assert fused["a"] == pytest.approx(2 / 61 + 1 / 62)
    assert ranked(fused) == ["a", "b"]


def candidates(
    dense: list[str],
    lexical: list[str],
    weeks: dict[str, list[int]] | None = None,
    sentence: dict[str, float] | None = None,
) -> Candidates:
    hits = {
        i: Hit(i, f"text of {i}", {"source": i, "weeks": (weeks or {}).get(i, [])}, 0.0)
        for i in dense + lexical
    }
    return Candidates(dense, lexical, hits, sentence=sentence or {})


def test_fusion_without_a_sentence_vote_is_plain_rrf_then_the_week_boost() -> None:
    found = candidates(["a", "b"], ["b", "c"], weeks={"c": [18]})
    assert fuse(found, None, [], Fusion()) == reciprocal_rank_fusion([["a", "b"], ["b", "c"]])
    boosted = fuse(found, 18, [], Fusion(week=2.0))
    assert boosted["c"] == pytest.approx(2 / 62)


def test_a_passage_whose_one_sentence_answers_climbs_the_head() -> None:
    """Two rankers agree on "broad"; "pointed" holds the sentence closest to the question."""
    found = candidates(
        ["broad", "pointed"], ["broad", "pointed"], sentence={"broad": 0.41, "pointed": 0.83}
    )
    assert ranked(fuse(found, None, [], Fusion())) == ["broad", "pointed"]
    assert ranked(fuse(found, None, [], Fusion(sentence=3.0))) == ["pointed", "broad"]


def test_sentence_units_skip_code_lines_headings_and_fragments() -> None:
    text = (
        "### Scaled attention\n\nThe dot products grow with the dimension d_k. So the softmax "
        "saturates unless we divide by its square root.\n\n```python\nx = q @ k.T\n```"
    )
    assert sentence_units(text) == [
        "The dot products grow with the dimension d_k.",
        "So the softmax saturates unless we divide by its square root.",
    ]


def test_the_learners_week_lifts_close_matches_and_prerequisites_a_little() -> None:
    scores = {"other": 1.00, "mine": 0.90, "prereq": 0.95, "weak": 0.50}
    weeks = {"other": [3], "mine": [18], "prereq": [17], "weak": [18]}
    boosted = week_boosted(scores, weeks, week=18, prerequisites=[17])
    assert ranked(boosted) == ["mine", "prereq", "other", "weak"]
    assert ranked(week_boosted(scores, weeks, week=None)) == ["other", "prereq", "mine", "weak"]


@pytest.mark.parametrize(
    "meta, filters, allowed",
    [
        ({"source": "notes/w18.md", "weeks": [18]}, Filters(source_prefix="notes/"), True),
        ({"source": "cs231n/rnn.md", "weeks": [9]}, Filters(source_prefix="notes/"), False),
        ({"source": "x", "weeks": [20, 15]}, Filters(weeks=(14, 16)), True),
        ({"source": "x", "weeks": [20]}, Filters(weeks=(14, 16)), False),
        ({"source": "x", "weeks": [25, 30]}, Filters(no_spoilers_after=18), False),
        ({"source": "x", "weeks": [25, 12]}, Filters(no_spoilers_after=18), True),
        ({"source": "curriculum/resources"}, Filters(no_spoilers_after=18), True),
    ],
)
def test_filters(meta, filters, allowed) -> None:
    assert filters.allows(meta) is allowed


def test_why_divide_by_sqrt_dk_finds_the_week_18_note_first(corpus_dir: Path, embedder) -> None:
    hits = retriever_for(corpus_dir, embedder).search(
        "why divide by the square root of d_k", k=5, week=18
    )
    assert hits[0].source == "notes/w18-attention.md"
    assert hits[0].week == 18 and "d_k" in hits[0].text


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_ranker_finds_adam_bias_correction(corpus_dir: Path, embedder, mode) -> None:
    hits = retriever_for(corpus_dir, embedder).search("Adam bias correction", k=3, mode=mode)
    assert "notes/w06-optimization.md" in [h.source for h in hits]


def test_no_spoilers_leaves_out_later_weeks(corpus_dir: Path, embedder) -> None:
    retriever = retriever_for(corpus_dir, embedder)
    query = "RLHF reward model and PPO"
    assert any(min(h.weeks or [0]) > 10 for h in retriever.search(query, k=5, week=10))
    safe = retriever.search(query, k=5, week=10, filters=Filters(no_spoilers_after=10))
    assert safe and all(min(h.weeks or [0]) <= 10 for h in safe)


def test_dense_candidates_are_the_exact_nearest_neighbours(corpus_dir: Path, embedder) -> None:
    """Approximate search made the candidates differ between runs on the same index."""
    import numpy as np

    from app.search.retrieval import CANDIDATES
    from app.search.vectors import VectorStore
    from evals.datasets import load_dataset

    store = VectorStore(Settings(data_dir=corpus_dir))
    everything = store.all(include=["embeddings"])
    ids, matrix = np.array(everything["ids"]), np.array(everything["embeddings"])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    for vector in embedder.embed([item.question for item in load_dataset()]):
        exact = ids[np.argsort(-(matrix @ (vector / np.linalg.norm(vector))))[:CANDIDATES]]
        assert {h.id for h in store.query(vector, CANDIDATES)} == set(exact)


def test_an_index_built_with_chromas_defaults_is_brought_up_to_ours_once(
    data_dir: Path, monkeypatch
) -> None:
    """Chroma's default search breadth (100) and write-ahead threshold (1,000) are changed to
    ours on the first open, and never written again: a write on every open met "database is
    locked" now and then."""
    import chromadb
    from chromadb.api.models.Collection import Collection

    from app.search.vectors import SEARCH_EF
    from app.search.vectors import SYNC_THRESHOLD
    from app.search.vectors import VectorStore

    settings = Settings(data_dir=data_dir)
    settings.chroma_dir.mkdir(parents=True)
    chromadb.PersistentClient(path=str(settings.chroma_dir)).create_collection(
        settings.collection, configuration={"hnsw": {"space": "cosine"}}
    )
    writes: list[object] = []
    modify = Collection.modify
    monkeypatch.setattr(Collection, "modify", lambda *a, **k: writes.append(k) or modify(*a, **k))
    hnsw = VectorStore(settings).collection.configuration["hnsw"]
    assert (hnsw["ef_search"], hnsw["sync_threshold"]) == (SEARCH_EF, SYNC_THRESHOLD)
    assert len(writes) == 1
    VectorStore(settings)
    VectorStore(Settings(data_dir=data_dir / "new"))
    assert len(writes) == 1, "opened again, and a new index: nothing written"


def test_a_new_index_is_opened_by_one_process_at_a_time(data_dir: Path) -> None:
    """Chroma makes its tables on a new folder's first open; a second process opening it at
    that moment failed on "table collections already exists" (`tutor serve --workers 2` on a
    new data dir, one worker's /health "degraded"). An open waits for one under way."""
    import threading

    from app.search.lock import opening
    from app.search.vectors import VectorStore

    settings = Settings(data_dir=data_dir)
    settings.chroma_dir.mkdir(parents=True)
    opened = threading.Event()
    with opening(settings.chroma_dir):  # another process making the tables
        waiting = threading.Thread(target=lambda: (VectorStore(settings), opened.set()))
        waiting.start()
        assert not opened.wait(1.0)
    waiting.join(60)
    assert opened.is_set() and VectorStore(settings).count() == 0


def test_search_json_follows_the_contract(corpus_dir: Path) -> None:
    proc = tutor_process(
        "search",
        "Adam bias correction",
        "--k",
        "3",
        "--json",
        env={"TUTOR_DATA_DIR": str(corpus_dir)},
    )
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert len(hits) == 3
    assert set(hits[0]) == {"source", "title", "heading", "week", "score", "text"}
    assert hits[0]["source"] == "notes/w06-optimization.md"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_searching_an_empty_index_says_to_ingest_first(data_dir: Path) -> None:
    proc = tutor_process("search", "anything", env={"TUTOR_DATA_DIR": str(data_dir)})
    assert proc.returncode == 1 and "run `tutor ingest` first" in proc.stderr


def test_search_rejects_a_week_outside_the_plan(data_dir: Path) -> None:
    proc = tutor_process("search", "x", "--week", "99", env={"TUTOR_DATA_DIR": str(data_dir)})
    assert proc.returncode == 2 and "valid weeks are 1-72" in proc.stderr


@pytest.mark.slow
def test_public_notes_answer_a_question_about_lstm_gates(
    public_notes: Path, tmp_path: Path, embedder
) -> None:
    from app.search.vectors import VectorStore

    # the RNN notes among the neighbours that share its vocabulary: every other note of the
    # folder that names LSTMs, and attention (a tenth of the folder, so the test takes
    # seconds, not the minutes the whole folder takes to embed)
    folder = tmp_path / "cs231n"
    folder.mkdir()
    for name in (
        "rnn.md",
        "attention.md",
        "transformers.md",
        "pixelrnn.md",
        "generative-models.md",
    ):
        shutil.copy(public_notes / "cs231n" / name, folder / name)
    settings = Settings(data_dir=tmp_path / "data")
    summary = Ingestor(settings, embedder=embedder).run([str(folder)])
    assert summary.added == 5 and not summary.skipped
    hits = retriever_for(settings.data_dir, embedder).search(
        "how do the gates of an LSTM control its cell state?", k=3
    )
    assert "rnn.md" in [hit.source for hit in hits]
    rnn = VectorStore(settings).collection.get(where={"source": "rnn.md"})["metadatas"][0]
    assert set(rnn["weeks"]) & {9, 17}  # tagged with the RNN / LSTM weeks of the plan


def test_a_short_text_is_embedded_once_a_process_and_a_long_one_each_time(
    embedder, monkeypatch
) -> None:
    """Sentences and questions come back (a week's units, its quiz candidates): the encoder
    runs on each once; chunks being ingested are long and seen once, so they are not kept."""
    import uuid

    import numpy as np

    encoded: list[list[str]] = []
    encode = embedder.encoder.encode
    monkeypatch.setattr(
        embedder.encoder,
        "encode",
        lambda texts, batch_size: (encoded.append(list(texts)), encode(texts, batch_size))[1],
    )
    short, long = f"Attention weighs values {uuid.uuid4()}.", f"A chunk {uuid.uuid4()}. " * 100
    first = embedder.embed([short, long])
    again = embedder.embed([long, short, short])
    assert encoded == [[short, long], [long]]
    assert again.shape == (3, first.shape[1])
    np.testing.assert_allclose(again[1], first[0])
    np.testing.assert_allclose(again[2], first[0])
    np.testing.assert_allclose(again[0], first[1], atol=1e-6)


@pytest.mark.parametrize("query", ["", "   ", "x" * 2001])
def test_an_empty_or_overlong_search_is_a_usage_error(tmp_path, query) -> None:
    """As the API's GET /search?q= says (422): a blank query found week 46 first."""
    shown = tutor(tmp_path, "search", query, "--json")
    assert shown.returncode == 2 and "1-2,000 characters" in shown.stderr, shown

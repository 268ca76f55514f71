"""BM25 derived from the chunks in Chroma: rebuilt when the collection is marked changed (by
any process), cached in the data dir under the collection's version, never half-swapped."""

from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pytest

from app.search.lexical import ANALYZER
from app.search.lexical import LexicalIndex
from app.search.lexical import lexical_dir
from app.search.vectors import VectorStore


def add(store: VectorStore, start: int, count: int) -> None:
    ids = [f"c{i}" for i in range(start, start + count)]
    texts = [f"pooling layer {i} keeps the largest activation" for i in range(start, start + count)]
    vectors = np.eye(count, 8, dtype=np.float32) + 0.01
    store.add(ids, vectors, texts, [{"source": f"s{i}.md", "heading": "Pooling"} for i in ids])


def test_a_changed_collection_is_picked_up_by_a_running_reader(settings) -> None:
    store = VectorStore(settings)
    add(store, 0, 2)
    index = LexicalIndex(store, settings.data_dir)
    assert len(index.search("largest pooling", 10)) == 2
    add(store, 2, 5)
    assert len(index.search("largest pooling", 10)) == 2  # not marked yet: ingest is writing
    store.mark_changed()
    assert len(index.search("largest pooling", 10)) == 7
    assert index.search("transformer", 10) == []  # no shared term, no hit


def test_searches_during_rebuilds_never_see_a_mismatched_index(settings) -> None:
    store = VectorStore(settings)
    add(store, 0, 2)
    index = LexicalIndex(store, settings.data_dir)
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                index.search("largest pooling", 40)
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for round_ in range(8):
        add(store, 2 + round_ * 6, 6)
        store.mark_changed()
    done.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(index.search("largest pooling", 100)) == store.count()


def test_a_new_reader_loads_the_cached_index_of_the_same_version(settings) -> None:
    store = VectorStore(settings)
    add(store, 0, 3)
    first = LexicalIndex(store, settings.data_dir).search("largest pooling", 10)
    cache = lexical_dir(settings.data_dir)
    assert json.loads((cache / "stamp.json").read_text()) == {
        "version": store.version(),
        "analyzer": ANALYZER,
    }
    built_at = (cache / "ids.json").stat().st_mtime_ns
    assert LexicalIndex(store, settings.data_dir).search("largest pooling", 10) == first
    assert (cache / "ids.json").stat().st_mtime_ns == built_at  # loaded, not rebuilt
    store.mark_changed()
    assert LexicalIndex(store, settings.data_dir).search("largest pooling", 10) == first
    assert json.loads((cache / "stamp.json").read_text()) == {
        "version": store.version(),
        "analyzer": ANALYZER,
    }


@pytest.mark.parametrize(
    "damage",
    [
        lambda cache: (cache / "ids.json").write_text("not json"),
        lambda cache: [
            p.write_bytes(b"\0garbage") for p in cache.iterdir() if p.name != "stamp.json"
        ],
        lambda cache: (cache / "stamp.json").write_text(
            '{"chunks": 3}'
        ),  # an older version's cache
        lambda cache: shutil.rmtree(cache),
    ],
)
def test_a_damaged_or_missing_cache_is_rebuilt_from_the_chunks(settings, damage) -> None:
    store = VectorStore(settings)
    add(store, 0, 3)
    LexicalIndex(store, settings.data_dir).search("largest pooling", 10)
    damage(lexical_dir(settings.data_dir))
    assert len(LexicalIndex(store, settings.data_dir).search("largest pooling", 10)) == 3


def test_a_collection_replaced_by_another_process_is_followed(settings) -> None:
    """A `--rebuild` elsewhere deletes the collection and makes a new one: a reader follows
    to the new one rather than failing on the old."""
    store, elsewhere = VectorStore(settings), VectorStore(settings)
    add(store, 0, 3)
    index = LexicalIndex(store)
    assert len(index.search("largest pooling", 10)) == 3
    elsewhere.delete_all()
    add(elsewhere, 10, 2)
    elsewhere.mark_changed()
    found = index.search("largest pooling", 10)
    assert sorted(i for i, _ in found) == ["c10", "c11"]
    assert [h.id for h in store.get(["c10"])] == ["c10"]


def _index_texts(settings, texts: list[str]) -> LexicalIndex:
    store = VectorStore(settings)
    vectors = np.eye(len(texts), 8, dtype=np.float32) + 0.01
    store.add(
        [f"t{i}" for i in range(len(texts))],
        vectors,
        texts,
        [{"source": f"t{i}.md", "heading": ""} for i in range(len(texts))],
    )
    return LexicalIndex(store, settings.data_dir)


@pytest.mark.parametrize(
    ("texts", "searches"),
    [
        pytest.param(
            ["注意力机制让模型关注输入中最相关的部分。", "卷积神经网络用滤波器提取图像特征。"],
            {"注意力": ["t0"], "什么是卷积": ["t1", ...]},
            id="Chinese, by a word inside a sentence",
        ),
        pytest.param(
            [
                "勾配降下法は損失関数を最小化するために重みを更新します。",
                "ドロップアウトは過学習を防ぐための正則化手法です。",
            ],
            {"過学習": ["t1"], "勾配降下法とは": ["t0", ...]},
            id="Japanese, by a word inside a sentence",
        ),
        pytest.param(
            ["Set max_seq_length before calling model.encode.", "Call getItemCount on the loader."],
            {"max_seq_length": ["t0"], "max length": ["t0"], "item count": ["t1"]},
            id="code identifiers, whole and by their parts",
        ),
        pytest.param(
            ["Forgetting model.eval() leaves dropout on at inference.", "Train the model well."],
            {"What does model.eval() change?": ["t0", ...]},
            id="dotted names, whole",
        ),
    ],
)
def test_text_is_found_by_the_words_a_reader_would_search_for(
    settings, texts: list[str], searches: dict[str, list[object]]
) -> None:
    """`searches`: each query's hits, in order; `...` ends a list that may go on."""
    index = _index_texts(settings, texts)
    for query, expected in searches.items():
        found = [i for i, _ in index.search(query, 5)]
        if expected and expected[-1] is Ellipsis:
            found, expected = found[: len(expected) - 1], expected[:-1]
        assert found == expected, query

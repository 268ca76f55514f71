"""BM25 beside Chroma: rebuilt by ingest, reloaded by readers, never half-swapped."""

from __future__ import annotations

import threading

import numpy as np

from app.lexical import LexicalIndex, rebuild
from app.store import Store


def add(store: Store, start: int, count: int) -> None:
    ids = [f"c{i}" for i in range(start, start + count)]
    texts = [f"pooling layer {i} keeps the largest activation" for i in range(start, start + count)]
    vectors = np.eye(count, 8, dtype=np.float32) + 0.01
    store.add(ids, vectors, texts, [{"source": f"s{i}.md", "heading": "Pooling"} for i in ids])


def test_a_rebuilt_index_is_picked_up_by_a_running_reader(settings) -> None:
    store = Store(settings)
    add(store, 0, 2)
    rebuild(store, settings.data_dir)
    index = LexicalIndex(settings.data_dir)
    assert len(index.search("largest pooling", 10)) == 2
    add(store, 2, 5)
    rebuild(store, settings.data_dir)
    assert len(index.search("largest pooling", 10)) == 7
    assert index.search("transformer", 10) == []  # no shared term, no hit


def test_searches_during_rebuilds_never_see_a_mismatched_index(settings) -> None:
    store = Store(settings)
    add(store, 0, 2)
    rebuild(store, settings.data_dir)
    index = LexicalIndex(settings.data_dir)
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
        rebuild(store, settings.data_dir)
    done.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(index.search("largest pooling", 100)) == store.count()

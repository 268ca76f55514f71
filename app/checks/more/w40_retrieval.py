"""Week 40: the two steps of a RAG pipeline's retrieval, fixed-size chunking with overlap and
top-k vector search by cosine similarity.

Texts are prefixes of a run of distinct letters ("abcdef..."), so that a chunk's letters say
where it starts and a shrunk example reads at a glance. Document vectors are drawn from a few
distinct rows, some repeated (exact ties, which go to the lower index) and otherwise at least
1e-6 apart in cosine similarity, so that every correct way of computing it ranks them alike.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from app.checks.hints import Hint
from app.checks.properties import Check
from app.checks.properties import Diagnosis
from app.checks.properties import Learner
from app.checks.properties import Mismatch
from app.checks.properties import Property
from app.checks.properties import WrongInterface
from app.checks.properties import array
from app.checks.properties import matrices
from app.checks.properties import show
from app.checks.references import w40_retrieval as ref

LETTERS = string.ascii_lowercase + string.ascii_uppercase
DOC_SCALES = (0.1, 0.5, 3.0, 10.0)

Chunking = tuple[str, int, int]  # text, size, overlap
# query (d,), documents (n, d), k, the query's scale factor, each document's scale factor (n,)
Search = tuple[np.ndarray, np.ndarray, int, float, np.ndarray]

CHUNK_STARTS = Hint(
    "Chunk i starts at i * (size - overlap) and holds the next `size` characters; stop after "
    "the first chunk that reaches the end of the text (only that one may be shorter).",
    40,
    "chunking",
    "starting at tokens 0",
)
CHUNK_OVERLAP = Hint(
    "Step by size - overlap, not by size: each chunk then begins with the last `overlap` "
    "characters of the one before.",
    40,
    "chunking",
    "Overlap keeps sentences",
)
CHUNK_COUNT = Hint(
    "A text of L characters gives max(1, ceil((L - overlap) / (size - overlap))) chunks: the "
    "last one reaches the end of the text, and none comes after it.",
    40,
    "chunking",
    "the number of chunks is",
)
COSINE = Hint(
    "Score each document by cosine similarity, q.v / (|q| |v|), and return the indices of the "
    "k highest, most similar first, a tie going to the lower index (a stable sort of -scores).",
    40,
    "embeddings and vector search",
    "most similar to the query vector",
)
SCALE_FREE = Hint(
    "Divide the query and each document vector by its norm before the dot product: a longer "
    "vector must not score higher.",
    40,
    "Check yourself",
    "independent of vector length",
)


@st.composite
def chunkings(draw: st.DrawFn) -> Chunking:
    """A text of 1-30 distinct letters, a chunk size of 1-8 and an overlap below it."""
    size = draw(st.integers(1, 8))
    return LETTERS[: draw(st.integers(1, 30))], size, draw(st.integers(0, size - 1))


def _cosines(query: np.ndarray, docs: np.ndarray) -> np.ndarray:
    return (docs @ query) / (np.linalg.norm(docs, axis=1) * np.linalg.norm(query))


@st.composite
def searches(draw: st.DrawFn, repeats: bool, rescaled: bool) -> Search:
    """A query (d,) and 2-5 document vectors (n, d), d = 2-3, entries in [-1, 1] in steps of
    0.01, and k; with `repeats` the documents are drawn from fewer distinct rows (so some are
    equal); with `rescaled` a scale factor for the query and one for each document."""
    d = draw(st.integers(2, 3))
    query = draw(matrices(st.just(1), st.just(d), -1.0, 1.0))[0]
    rows = draw(matrices(st.integers(2, 5), st.just(d), -1.0, 1.0))
    n = len(rows)
    if repeats:
        picks = draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n))
        docs = rows[picks]
    else:
        docs = rows
    assume(np.linalg.norm(query) > 0 and (np.linalg.norm(rows, axis=1) > 0).all())
    # equal rows tie exactly, but only while they are not rescaled differently
    scores = _cosines(query, np.unique(docs, axis=0) if repeats else docs)
    assume(len(scores) < 2 or np.diff(np.sort(scores)).min() > 1e-6)
    k = draw(st.integers(1, n))
    if not rescaled:
        return query, docs, k, 1.0, np.ones(n)
    factors = st.sampled_from(DOC_SCALES)
    return query, docs, k, draw(factors), np.array(draw(st.lists(factors, min_size=n, max_size=n)))


def describe_chunking(example: Chunking) -> str:
    text, size, overlap = example
    return f"chunk({text!r}, size={size}, overlap={overlap})"


def describe_search(example: Search) -> str:
    query, docs, k, query_scale, doc_scales = example
    text = f"query_vec={show(query)}, doc_vecs={show(docs)}, k={k}"
    if query_scale != 1.0 or (doc_scales != 1.0).any():
        text += f"; then the query times {query_scale} and the documents times {show(doc_scales)}"
    return text


# What the common bugs return ---------------------------------------------------------------------


def _pieces(text: str, size: int, starts: range) -> list[str]:
    return [text[s : s + size] for s in starts]


def _no_overlap(example: Chunking, got: np.ndarray) -> bool:
    text, size, overlap = example
    return overlap > 0 and got.tolist() == _pieces(text, size, range(0, len(text), size))


def _extra_tail(example: Chunking, got: np.ndarray) -> bool:
    """Starts at every multiple of the step below len(text): after the chunk that reaches the
    end come chunks that lie inside it."""
    text, size, overlap = example
    return got.tolist() == _pieces(text, size, range(0, len(text), size - overlap))


def _dropped_tail(example: Chunking, got: np.ndarray) -> bool:
    """Only full chunks: the characters after the last full one are lost."""
    text, size, overlap = example
    return got.tolist() == _pieces(text, size, range(0, len(text) - size + 1, size - overlap))


CHUNK_DIAGNOSES = (
    Diagnosis(
        "no overlap",
        "Your chunks follow each other with nothing shared: you stepped by size. Step by "
        "size - overlap, so that each chunk repeats the last `overlap` characters of the one "
        "before.",
        _no_overlap,
        CHUNK_OVERLAP,
    ),
    Diagnosis(
        "extra tail chunks",
        "After the chunk that reaches the end of the text you return more, shorter chunks that "
        "lie inside it (range(0, len(text), step) goes too far). Stop after the first chunk "
        "whose start + size >= len(text).",
        _extra_tail,
        CHUNK_COUNT,
    ),
    Diagnosis(
        "dropped tail",
        "Your chunks stop before the end of the text: you kept only full-size chunks. Keep "
        "going until a chunk reaches the end; that last one may be shorter than size.",
        _dropped_tail,
        CHUNK_COUNT,
    ),
)


def _ranking(scores: np.ndarray, k: int) -> np.ndarray:
    """The k highest scores' indices, most similar first, ties to the lower index."""
    return np.argsort(-scores, kind="stable")[:k]


def _scaled(example: Search) -> tuple[np.ndarray, np.ndarray]:
    query, docs, _, query_scale, doc_scales = example
    return query * query_scale, docs * doc_scales[:, None]


def _dot_product(example: Search, got: np.ndarray) -> bool:
    query, docs = _scaled(example)
    return np.array_equal(got, _ranking(docs @ query, example[2]))


def _ascending(example: Search, got: np.ndarray) -> bool:
    query, docs = _scaled(example)
    return np.array_equal(got, _ranking(-_cosines(query, docs), example[2]))


def _ties_to_higher(example: Search, got: np.ndarray) -> bool:
    query, docs = _scaled(example)
    k = example[2]
    scores = _cosines(query, docs)
    reversed_ties = np.argsort(scores, kind="stable")[::-1][:k]
    return np.array_equal(got, reversed_ties) and not np.array_equal(got, _ranking(scores, k))


SEARCH_DIAGNOSES = (
    Diagnosis(
        "dot product",
        "Your ranking follows the raw dot product q.v, so longer document vectors win: "
        "divide by the norms (cosine similarity) before ranking.",
        _dot_product,
        SCALE_FREE,
    ),
    Diagnosis(
        "least similar first",
        "You return the least similar documents: sort the scores in decreasing order, e.g. "
        "np.argsort(-scores, kind='stable')[:k].",
        _ascending,
    ),
    Diagnosis(
        "ties to the higher index",
        "Equal scores come out highest index first (np.argsort(scores)[::-1] reverses the "
        "tie order too): sort -scores with a stable sort so that a tie goes to the lower index.",
        _ties_to_higher,
    ),
)


# Properties -------------------------------------------------------------------------------------


def _chunks(learner: Learner, example: Chunking) -> list[str]:
    got: Any = learner("chunk", *example)
    if not isinstance(got, list) or not all(isinstance(c, str) for c in got):
        raise WrongInterface(f"{describe_chunking(example)} should return a list of strings")
    return got


def chunks_match(learner: Learner, example: Chunking) -> None:
    got = _chunks(learner, example)
    expected = ref.chunk(*example)
    if got != expected:
        raise Mismatch(f"the chunks are {got!r}, expected {expected!r}", got=np.array(got, str))


def chunks_rebuild_text(learner: Learner, example: Chunking) -> None:
    text, size, overlap = example
    got = _chunks(learner, example)
    wrong = np.array(got, str)
    if not got or any(len(c) != size for c in got[:-1]) or not 0 < len(got[-1]) <= size:
        raise Mismatch(
            f"the chunks are {got!r}: every chunk but the last should have {size} characters, "
            "the last 1 to size",
            got=wrong,
        )
    for before, after in zip(got, got[1:]):
        shared = before[len(before) - overlap :] if overlap else ""
        if after[:overlap] != shared or len(after) <= overlap:
            raise Mismatch(
                f"chunks {before!r} and {after!r} should share exactly {overlap} "
                f"character(s), the second then adding new ones",
                got=wrong,
            )
    rebuilt = got[0] + "".join(c[overlap:] for c in got[1:])
    if rebuilt != text:
        raise Mismatch(
            f"the chunks {got!r}, their overlaps removed, give {rebuilt!r}, not the text",
            got=wrong,
        )


def _top_k(learner: Learner, query: np.ndarray, docs: np.ndarray, k: int) -> np.ndarray:
    got = array(learner("top_k", query, docs, k), (k,), f"top_k(..., k={k})")
    if not np.array_equal(got, np.round(got)):
        raise WrongInterface(f"top_k should return k indices (integers), got {show(got)}")
    return got


def top_k_matches(learner: Learner, example: Search) -> None:
    query, docs, k, _, _ = example
    got = _top_k(learner, query, docs, k)
    expected = np.array(ref.top_k(query, docs, k))
    if not np.array_equal(got, expected):
        raise Mismatch(
            f"top_k returned {show(got.astype(int))}, expected {show(expected)} (cosine "
            f"similarities {show(_cosines(query, docs))})",
            got=got,
        )


def top_k_scale_free(learner: Learner, example: Search) -> None:
    query, docs, k, _, _ = example
    plain = _top_k(learner, query, docs, k)
    got = _top_k(learner, *_scaled(example), k)
    if not np.array_equal(got, plain):
        raise Mismatch(
            f"top_k returned {show(plain.astype(int))}, but {show(got.astype(int))} once the "
            "vectors were rescaled (same directions, same cosine similarities)",
            got=got,
        )


CHECK = Check(
    40,
    "retrieval",
    "Chunking with overlap and top-k cosine retrieval",
    ("chunk", "top_k"),
    "chunk(text: str, size: int, overlap: int) -> list[str]: text non-empty, size >= 1, "
    "0 <= overlap < size; chunk i is text[s:s + size] with s = i * (size - overlap); stop "
    "after the first chunk that reaches the end (s + size >= len(text)), so only the last may "
    "be shorter and there are max(1, ceil((len(text) - overlap) / (size - overlap))) chunks. "
    "top_k(query_vec, doc_vecs, k) -> list of k int indices: query_vec (d,), doc_vecs (n, d), "
    "non-zero vectors, 1 <= k <= n; the documents with the highest cosine similarity to the "
    "query, most similar first, equal similarities in increasing index order.",
    (
        Property(
            "chunks start size - overlap apart and the last reaches the end of the text",
            chunkings(),
            chunks_match,
            CHUNK_STARTS,
            describe_chunking,
            CHUNK_DIAGNOSES,
        ),
        Property(
            "chunks rebuild the text, consecutive chunks sharing exactly `overlap` characters",
            chunkings(),
            chunks_rebuild_text,
            CHUNK_OVERLAP,
            describe_chunking,
            CHUNK_DIAGNOSES,
        ),
        Property(
            "top_k returns the k most cosine-similar documents, ties to the lower index",
            searches(repeats=True, rescaled=False),
            top_k_matches,
            COSINE,
            describe_search,
            SEARCH_DIAGNOSES,
        ),
        Property(
            "top_k does not change when the vectors are rescaled",
            searches(repeats=False, rescaled=True),
            top_k_scale_free,
            SCALE_FREE,
            describe_search,
            SEARCH_DIAGNOSES,
        ),
    ),
    reference=Path(ref.__file__),
)

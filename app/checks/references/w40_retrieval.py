"""Week 40 reference: fixed-size character chunking with overlap, and top-k retrieval by
cosine similarity (the two steps of a RAG pipeline's index and query phases).

Conventions: `chunk` cuts `text` (non-empty) into pieces of `size` characters whose starts are
step = size - overlap apart (0 <= overlap < size): 0, step, 2 * step, ...; it stops after the
first chunk that reaches the end of the text (start + size >= len(text)), so only the last
chunk may be shorter than `size`, and there are max(1, ceil((len(text) - overlap) / step))
chunks. `top_k` ranks documents by cosine similarity with the query, highest first, a tie
going to the lower index; vectors are non-zero.
"""

from __future__ import annotations

import numpy as np


def chunk(text: str, size: int, overlap: int) -> list[str]:
    """text (non-empty), size >= 1, 0 <= overlap < size -> list of chunks: text[s : s + size]
    for s = 0, size - overlap, 2 * (size - overlap), ..., up to the first chunk that reaches
    the end of the text. Consecutive chunks share exactly `overlap` characters."""
    step = size - overlap
    chunks = []
    start = 0
    while True:
        chunks.append(text[start : start + size])
        if start + size >= len(text):
            return chunks
        start += step


def top_k(query_vec: np.ndarray, doc_vecs: np.ndarray, k: int) -> list[int]:
    """query_vec (d,), doc_vecs (n, d), 1 <= k <= n -> the indices (k,) of the k documents
    with the highest cosine similarity q.v / (|q| |v|), most similar first; equal
    similarities are ordered by lower index first (a stable sort)."""
    q = query_vec / np.linalg.norm(query_vec)
    docs = doc_vecs / np.linalg.norm(doc_vecs, axis=1, keepdims=True)
    scores = docs @ q
    return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]

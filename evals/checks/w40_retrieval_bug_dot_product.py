# week 40 retrieval: fail "rescaled" [dot product] (ranks by the raw dot product: longer vectors win)
import numpy as np


def chunk(text, size, overlap):
    chunks, start = [], 0
    while True:
        chunks.append(text[start : start + size])
        if start + size >= len(text):
            return chunks
        start += size - overlap


def top_k(query_vec, doc_vecs, k):
    return np.argsort(-(doc_vecs @ query_vec), kind="stable")[:k]

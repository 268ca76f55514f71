# week 40 retrieval: fail "sharing exactly" [no overlap] (chunks step by size: neighbours share nothing)
import numpy as np


def chunk(text, size, overlap):
    return [text[start : start + size] for start in range(0, len(text), size)]


def top_k(query_vec, doc_vecs, k):
    q = query_vec / np.linalg.norm(query_vec)
    docs = doc_vecs / np.linalg.norm(doc_vecs, axis=1, keepdims=True)
    return np.argsort(-(docs @ q), kind="stable")[:k]

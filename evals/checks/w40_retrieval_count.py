# week 40 retrieval: pass (chunk count from the notes' ceil((L - o) / (s - o)); cosine as dot / norms, np.lexsort)
import math

import numpy as np


def chunk(text, size, overlap):
    step = size - overlap
    n = max(1, math.ceil((len(text) - overlap) / step))
    return [text[i * step : i * step + size] for i in range(n)]


def top_k(query_vec, doc_vecs, k):
    scores = doc_vecs @ query_vec / (np.linalg.norm(doc_vecs, axis=1) * np.linalg.norm(query_vec))
    order = np.lexsort((np.arange(len(scores)), -scores))  # by -score, then by index
    return order[:k]

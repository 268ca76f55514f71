# week 40 retrieval: pass (chunk starts from range(0, max(len - overlap, 1), step); cosine in Python loops, sorted by (-score, index))
import math


def chunk(text, size, overlap):
    step = size - overlap
    return [text[start : start + size] for start in range(0, max(len(text) - overlap, 1), step)]


def top_k(query_vec, doc_vecs, k):
    q_norm = math.sqrt(sum(x * x for x in query_vec))
    scores = []
    for doc in doc_vecs:
        dot = sum(a * b for a, b in zip(query_vec, doc))
        scores.append(dot / (q_norm * math.sqrt(sum(x * x for x in doc))))
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]

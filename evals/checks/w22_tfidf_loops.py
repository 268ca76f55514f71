# week 22 tfidf: pass (pure-Python loops with Counter and math.log, idf 0 for a term in no document)
import math
from collections import Counter

import numpy as np


def tfidf(docs, vocab):
    counts = [Counter(doc) for doc in docs]
    n = len(docs)
    out = np.zeros((n, len(vocab)))
    for j, term in enumerate(vocab):
        df = sum(1 for c in counts if term in c)
        idf = math.log(n / df) if df else 0.0
        for i, c in enumerate(counts):
            out[i, j] = c[term] * idf
    return out

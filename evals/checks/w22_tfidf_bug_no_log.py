# week 22 tfidf: fail "a term in every document gets weight 0" [no log] (idf = N / df without the log)
import numpy as np


def tfidf(docs, vocab):
    tf = np.array([[doc.count(t) for t in vocab] for doc in docs], dtype=float)
    df = (tf > 0).sum(axis=0)
    idf = np.where(df > 0, len(docs) / np.maximum(df, 1), 0.0)
    return tf * idf

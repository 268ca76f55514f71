"""Week 22 reference: TF-IDF weights of a collection of tokenised documents.

Formula (the notes', no smoothing, no normalisation): tfidf(t, d) = tf(t, d) * ln(N / df(t)),
with tf(t, d) the raw count of term t in document d, N the number of documents and df(t) the
number of documents that contain t at least once. A vocabulary term that no document contains
gets weight 0; tokens outside the vocabulary are ignored.
"""

from __future__ import annotations

import numpy as np


def tfidf(docs, vocab):
    """docs: list of N token lists; vocab: V distinct terms -> weights (N, V) float, row i
    for docs[i], column j for vocab[j]."""
    index = {term: j for j, term in enumerate(vocab)}
    tf = np.zeros((len(docs), len(vocab)))
    for i, doc in enumerate(docs):
        for token in doc:
            if token in index:
                tf[i, index[token]] += 1
    df = (tf > 0).sum(axis=0)
    idf = np.log(len(docs) / np.maximum(df, 1))  # df = 0 only where tf is 0 anyway
    return tf * idf

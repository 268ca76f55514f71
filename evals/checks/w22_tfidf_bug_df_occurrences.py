# week 22 tfidf: fail "weights are count * ln(N / df)" [df counts occurrences] (df sums every occurrence of the term instead of counting the documents that contain it)
import numpy as np


def tfidf(docs, vocab):
    tf = np.array([[doc.count(t) for t in vocab] for doc in docs], dtype=float)
    df = tf.sum(axis=0)
    idf = np.log(len(docs) / np.where(df > 0, df, 1))
    return tf * idf

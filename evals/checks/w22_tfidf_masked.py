# week 22 tfidf: pass (vectorised: counts with np.add.at, idf = log N - log df computed only where df > 0 through where=)
import numpy as np


def tfidf(docs, vocab):
    index = {t: j for j, t in enumerate(vocab)}
    tf = np.zeros((len(docs), len(vocab)))
    rows = [i for i, doc in enumerate(docs) for t in doc if t in index]
    cols = [index[t] for doc in docs for t in doc if t in index]
    np.add.at(tf, (rows, cols), 1.0)
    df = np.count_nonzero(tf, axis=0)
    log_df = np.log(df, out=np.zeros(len(vocab)), where=df > 0)
    idf = np.where(df > 0, np.log(len(docs)) - log_df, 0.0)
    return tf * idf

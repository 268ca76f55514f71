# week 1 pca: fail "explained variances" [ascending order] (eigh's ascending order kept)
import numpy as np


def pca(X, k):
    Xc = X - X.mean(axis=0)
    vals, vecs = np.linalg.eigh(np.cov(Xc.T).reshape(X.shape[1], X.shape[1]))
    return vecs[:, :k].T, vals[:k]

# week 1 pca: fail "data is centred first" [not centred] (PCA without centring)
import numpy as np


def pca(X, k):
    vals, vecs = np.linalg.eigh(X.T @ X / (len(X) - 1))
    order = np.argsort(vals)[::-1][:k]
    return vecs[:, order].T, vals[order]

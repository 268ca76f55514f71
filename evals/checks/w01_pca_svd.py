# week 1 pca: pass (a learner's PCA through the SVD of the centred data)
import numpy as np


def pca(X, k):
    Xc = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    return vt[:k], (s[:k] ** 2) / (X.shape[0] - 1)

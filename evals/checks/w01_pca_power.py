# week 1 pca: pass (covariance by hand, eig, divides by n instead of n-1)
import numpy as np


def pca(X, k):
    mu = np.mean(X, axis=0)
    C = (X - mu).T @ (X - mu) / len(X)
    vals, vecs = np.linalg.eig(C)
    idx = np.argsort(-vals.real)[:k]
    return vecs.real[:, idx].T, vals.real[idx]

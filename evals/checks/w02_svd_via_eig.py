# week 2 svd: pass (through the eigendecomposition of A^T A, U from A V / sigma)
import numpy as np


def svd(A):
    m, n = A.shape
    if m < n:
        U, S, Vt = svd(A.T)
        return Vt.T, S, U.T
    vals, V = np.linalg.eigh(A.T @ A)
    order = np.argsort(vals)[::-1]
    vals, V = np.clip(vals[order], 0, None), V[:, order]
    S = np.sqrt(vals)
    U = np.zeros((m, n))
    for i in range(n):
        if S[i] > 1e-10 * max(1.0, S[0]):
            U[:, i] = A @ V[:, i] / S[i]
    # complete U's columns for zero singular values (orthonormal to the rest)
    Q, _ = np.linalg.qr(np.hstack([U, np.eye(m)]))
    for i in range(n):
        if not S[i] > 1e-10 * max(1.0, S[0]):
            U[:, i] = Q[:, i]
    return U, S, V.T

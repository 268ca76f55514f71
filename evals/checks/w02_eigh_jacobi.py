# week 2 eigh: pass (Jacobi rotations)
import numpy as np


def eigh(A, tol=1e-12, sweeps=100):
    A = np.array(A, dtype=float)
    n = len(A)
    V = np.eye(n)
    for _ in range(sweeps):
        off = np.sqrt((np.tril(A, -1) ** 2).sum())
        if off < tol:
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                if abs(A[p, q]) < 1e-300:
                    continue
                theta = (A[q, q] - A[p, p]) / (2 * A[p, q])
                t = np.sign(theta) / (abs(theta) + np.sqrt(theta**2 + 1)) if theta != 0 else 1.0
                c = 1 / np.sqrt(t**2 + 1)
                s = t * c
                J = np.eye(n)
                J[p, p] = J[q, q] = c
                J[p, q], J[q, p] = s, -s
                A = J.T @ A @ J
                V = V @ J
    return np.diag(A).copy(), V

# week 2 svd: fail "rebuilds A" [V for Vt] (returns V instead of Vt)
import numpy as np


def svd(A):
    U, S, Vt = np.linalg.svd(A, full_matrices=False)
    return U, S, Vt.T if Vt.shape[0] == Vt.shape[1] else Vt

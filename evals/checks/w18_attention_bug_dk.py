# week 18 attention: fail "sqrt(d_k)" [extra scale] (scores scaled by d_k instead of sqrt(d_k))
import numpy as np


def attention(Q, K, V, mask=None):
    s = Q @ K.T / Q.shape[1]
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    e = np.exp(s - s.max(1, keepdims=True))
    w = e / e.sum(1, keepdims=True)
    return w @ V, w

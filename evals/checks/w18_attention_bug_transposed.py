# week 18 attention: fail "returns what the check expects" [transposed output] (weights returned key-major, (m, n))
import numpy as np


def attention(Q, K, V, mask=None):
    scores = K @ Q.T / np.sqrt(Q.shape[-1])  # one row per key
    if mask is not None:
        scores = np.where(mask.T, scores, -np.inf)
    scores = scores - scores.max(axis=0, keepdims=True)
    weights = np.exp(scores) / np.exp(scores).sum(axis=0, keepdims=True)
    return weights.T @ V, weights

# week 25 transformer_parts: pass (explicit loops over positions, pairs and tokens, math.sin/cos)
import math

import numpy as np


def positional_encoding(T, d):
    pe = np.zeros((T, d))
    for pos in range(T):
        for i in range(0, d, 2):
            angle = pos / 10000 ** (i / d)
            pe[pos, i] = math.sin(angle)
            if i + 1 < d:
                pe[pos, i + 1] = math.cos(angle)
    return pe


def layer_norm(x, gamma, beta, eps):
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty_like(flat)
    for t, token in enumerate(flat):
        mean = sum(token) / len(token)
        var = sum((v - mean) ** 2 for v in token) / len(token)
        out[t] = gamma * (token - mean) / math.sqrt(var + eps) + beta
    return out.reshape(x.shape)


def causal_mask(T):
    mask = np.zeros((T, T), dtype=bool)
    for i in range(T):
        for j in range(i + 1):
            mask[i, j] = True
    return mask

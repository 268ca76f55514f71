# week 25 transformer_parts: fail "mean 0 and variance 1" [wrong axis] (statistics over axis 0, the batch: batch norm, not layer norm)
import numpy as np


def positional_encoding(T, d):
    pos = np.arange(T)[:, None]
    i = np.arange(d)[None, :] // 2
    angles = pos / 10000 ** (2 * i / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))


def layer_norm(x, gamma, beta, eps):
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta


def causal_mask(T):
    return np.tril(np.ones((T, T), dtype=bool))

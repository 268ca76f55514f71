# week 25 transformer_parts: fail "causal mask" [future allowed] (np.triu: each position may attend to itself and the future)
import numpy as np


def positional_encoding(T, d):
    pos = np.arange(T)[:, None]
    i = np.arange(d)[None, :] // 2
    angles = pos / 10000 ** (2 * i / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))


def layer_norm(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(x.var(axis=-1, keepdims=True) + eps) + beta


def causal_mask(T):
    return np.triu(np.ones((T, T), dtype=bool))

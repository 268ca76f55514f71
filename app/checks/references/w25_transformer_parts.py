"""Week 25 reference: the parts of a GPT block around attention - sinusoidal positional
encodings, layer normalization and the causal mask.

Conventions: positions are rows, features are columns. Positional encodings follow "Attention
Is All You Need": column 2i holds sin(pos / 10000^(2i/d)) and column 2i+1 holds
cos(pos / 10000^(2i/d)) (sin on even columns, cos on odd, base 10000). The causal mask holds
booleans, True where a position may attend, as in the week 18 attention check.
"""

from __future__ import annotations

import numpy as np


def positional_encoding(T, d):
    """T positions, model width d -> PE (T, d) float: PE[pos, 2i] = sin(pos / 10000^(2i/d)),
    PE[pos, 2i+1] = cos(pos / 10000^(2i/d)); for odd d the last column is a sine."""
    pos = np.arange(T)[:, None]
    pair = np.arange(d)[None, :] // 2  # i, the frequency index of each column
    angles = pos / 10000 ** (2 * pair / d)
    return np.where(np.arange(d) % 2 == 0, np.sin(angles), np.cos(angles))


def layer_norm(x, gamma, beta, eps):
    """x (..., d), e.g. (T, d) or (B, T, d); gamma, beta (d,); eps > 0 -> y, same shape as x:
    each token's features (the last axis) normalised by their own mean and biased variance
    (divide by d), y = gamma * (x - mean) / sqrt(var + eps) + beta."""
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def causal_mask(T):
    """T -> mask (T, T) bool: mask[i, j] is True where position i may attend to position j,
    i.e. j <= i (itself and earlier positions: the diagonal and the lower triangle)."""
    return np.tril(np.ones((T, T), dtype=bool))

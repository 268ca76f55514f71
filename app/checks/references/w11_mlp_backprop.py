"""Week 11 reference: backpropagation by hand through a two-layer network.

The network (the notes', row-major: one example a row): H = X @ W1 + b1, A = ReLU(H),
S = A @ W2 + b2, and the loss is the mean softmax cross-entropy of the scores S against the
integer labels y, L = -(1/N) sum_i log softmax(S_i)[y_i]. The ReLU's derivative at 0 is taken
as 0 (the mask is H > 0).
"""

from __future__ import annotations

import numpy as np


def mlp_backprop(
    X: np.ndarray,
    y: np.ndarray,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X (N, D), y (N,) integer classes in 0..C-1, W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)
    -> (loss, dW1 (D, H), db1 (H,), dW2 (H, C), db2 (C,)): the mean cross-entropy and its
    gradient with respect to each parameter, each of its parameter's shape."""
    N = len(X)
    H = X @ W1 + b1
    A = np.maximum(H, 0)
    S = A @ W2 + b2
    shifted = S - S.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N)
    labels = y.astype(int)
    loss = float(-log_P[rows, labels].mean())
    dS = np.exp(log_P)
    dS[rows, labels] -= 1
    dS /= N
    dW2, db2 = A.T @ dS, dS.sum(axis=0)
    dH = (dS @ W2.T) * (H > 0)
    dW1, db1 = X.T @ dH, dH.sum(axis=0)
    return loss, dW1, db1, dW2, db2

"""Week 43 reference: the fast gradient sign method (FGSM), given the input gradient or
computing it for binary logistic regression.

Conventions: x_adv = clip(x + epsilon * sign(grad), clip_min, clip_max) elementwise, with
sign(0) = 0 (np.sign), so no feature moves by more than epsilon. The logistic model scores
p = sigmoid(x @ w + b) and its loss is the binary cross-entropy
J = -(y log p + (1 - y) log(1 - p)), whose gradient with respect to the input row x is
(p - y) * w (the mean over a batch only rescales it, which the sign ignores).
"""

from __future__ import annotations

import numpy as np


def fgsm(
    x: np.ndarray,
    grad: np.ndarray,
    epsilon: float,
    clip_min: float = 0.0,
    clip_max: float = 1.0,
) -> np.ndarray:
    """x: the clean input, grad: the loss's gradient with respect to x (same shape),
    epsilon >= 0: the L-infinity budget -> x_adv (x's shape) =
    clip(x + epsilon * sign(grad), clip_min, clip_max)."""
    return np.clip(x + epsilon * np.sign(grad), clip_min, clip_max)


def fgsm_logistic(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, epsilon: float
) -> np.ndarray:
    """x (n, d) inputs in [0, 1], y (n,) labels 0 or 1, w (d,), b: a logistic regression
    p = sigmoid(x @ w + b) -> x_adv (n, d): FGSM on each row with the input gradient of its
    binary cross-entropy, (p - y) * w, clipped to [0, 1]."""
    p = 1 / (1 + np.exp(-(x @ w + b)))
    grad = (p - y)[:, None] * w[None, :]
    return fgsm(x, grad, epsilon)

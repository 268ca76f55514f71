"""Week 17 reference: one forward step of an LSTM cell.

Conventions (the notes'): single vectors, no batch axis; one weight matrix W (4H, H + D)
acting on the concatenation [h; x] (previous hidden state first), one bias b (4H,), and the
4H pre-activations split into four blocks of H in the order forget f, input i, output o,
candidate g:

    f, i, o = sigmoid(z_f), sigmoid(z_i), sigmoid(z_o),  g = tanh(z_g),
    c_next = f * c + i * g,  h_next = o * tanh(c_next).
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z)), elementwise, without overflow for large |z|."""
    return np.exp(-np.logaddexp(0.0, -z))


def lstm_cell(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, W: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """x (D,), h = h_{t-1} (H,), c = c_{t-1} (H,), W (4H, H + D), b (4H,) -> (h_next (H,),
    c_next (H,)); W's rows and b's entries are the blocks f, i, o, g in that order, and W's
    first H columns multiply h, the last D multiply x."""
    z = W @ np.concatenate([h, x]) + b
    z_f, z_i, z_o, z_g = np.split(z, 4)
    c_next = sigmoid(z_f) * c + sigmoid(z_i) * np.tanh(z_g)
    return sigmoid(z_o) * np.tanh(c_next), c_next

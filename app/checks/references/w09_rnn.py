"""Week 9 reference: one step of a vanilla (Elman) RNN and backpropagation through time.

Conventions (the notes'): column-vector weights acting on single vectors, no batch axis:
h_t = tanh(Wx @ x_t + Wh @ h_{t-1} + b), with x_t (D,), h_t (H,), Wx (H, D), Wh (H, H),
b (H,). BPTT takes the loss's gradient with respect to every hidden state h_1..h_T as given
(`dhs`, from whatever reads the states: an output layer, a classifier) and returns the
gradients of that loss with respect to the shared weights and the initial state.
"""

from __future__ import annotations

import numpy as np


def rnn_step(
    x: np.ndarray, h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """x (D,), h = h_{t-1} (H,), Wx (H, D), Wh (H, H), b (H,) -> h_t (H,) =
    tanh(Wx @ x + Wh @ h + b)."""
    return np.tanh(Wx @ x + Wh @ h + b)


def rnn_bptt(
    xs: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    dhs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """xs (T, D): the inputs x_1..x_T, one per row; h0 (H,); dhs (T, H): dhs[t] is the
    gradient that the loss sends to h_{t+1}, the state after reading xs[t], directly (not
    counting what flows back from later steps). Runs the forward pass, then returns
    (dWx (H, D), dWh (H, H), db (H,), dh0 (H,)): the gradients of the loss, summed over all
    time steps."""
    hs = [h0]
    for x in xs:
        hs.append(rnn_step(x, hs[-1], Wx, Wh, b))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)  # what flows back into hs[t + 1] from the next step
    for t in reversed(range(len(xs))):
        da = (1 - hs[t + 1] ** 2) * (dhs[t] + dh_next)  # through tanh: a_t's gradient
        dWx += np.outer(da, xs[t])
        dWh += np.outer(da, hs[t])  # the previous state, the one this step read
        db += da
        dh_next = Wh.T @ da
    return dWx, dWh, db, dh_next

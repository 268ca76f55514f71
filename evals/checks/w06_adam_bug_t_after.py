# week 6 adam: fail "moves each weight by lr" [off-by-one step] (t incremented after the bias correction, so it starts at 0)
import numpy as np


def adam(w, g, state, lr, beta1, beta2, eps):
    if state is None:
        state = {"m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}
    state["m"] = beta1 * state["m"] + (1 - beta1) * g
    state["v"] = beta2 * state["v"] + (1 - beta2) * g**2
    with np.errstate(divide="ignore", invalid="ignore"):
        m_hat = state["m"] / (1 - beta1 ** state["t"])
        v_hat = state["v"] / (1 - beta2 ** state["t"])
    state["t"] += 1
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), state

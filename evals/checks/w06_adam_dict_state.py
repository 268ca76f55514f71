# week 6 adam: pass (state in a dict, eps inside the square root's neighbourhood)
import numpy as np


def adam(w, g, state, lr, beta1, beta2, eps):
    s = state or {"m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}
    s = dict(s, t=s["t"] + 1)
    s["m"] = beta1 * s["m"] + (1 - beta1) * g
    s["v"] = beta2 * s["v"] + (1 - beta2) * g**2
    step = lr * np.sqrt(1 - beta2 ** s["t"]) / (1 - beta1 ** s["t"])
    return w - step * s["m"] / (np.sqrt(s["v"]) + eps * np.sqrt(1 - beta2 ** s["t"])), s

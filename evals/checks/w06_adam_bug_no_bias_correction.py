# week 6 adam: fail "bias correction" [no bias correction] (Adam without bias correction)
import numpy as np


def adam(w, g, state, lr, beta1, beta2, eps):
    m, v = state if state is not None else (np.zeros_like(w), np.zeros_like(w))
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * m / (np.sqrt(v) + eps), (m, v)

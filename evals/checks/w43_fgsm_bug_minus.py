# week 43 fgsm: fail "against its gradient" [against the gradient] (steps down the loss: x - epsilon * sign(grad))
import numpy as np


def fgsm(x, grad, epsilon, clip_min=0.0, clip_max=1.0):
    return np.clip(x - epsilon * np.sign(grad), clip_min, clip_max)


def fgsm_logistic(x, y, w, b, epsilon):
    p = 1 / (1 + np.exp(-(x @ w + b)))
    return fgsm(x, (p - y)[:, None] * w, epsilon)

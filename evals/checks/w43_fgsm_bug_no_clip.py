# week 43 fgsm: fail "stays in [clip_min, clip_max]" [no clipping] (x + epsilon * sign(grad) is never clipped)
import numpy as np


def fgsm(x, grad, epsilon, clip_min=0.0, clip_max=1.0):
    return x + epsilon * np.sign(grad)


def fgsm_logistic(x, y, w, b, epsilon):
    p = 1 / (1 + np.exp(-(x @ w + b)))
    return fgsm(x, (p - y)[:, None] * w, epsilon)

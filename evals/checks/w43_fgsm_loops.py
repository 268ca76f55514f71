# week 43 fgsm: pass (element by element with a hand-written sign and min/max; logistic gradient row by row with math.exp)
import math

import numpy as np


def fgsm(x, grad, epsilon, clip_min=0.0, clip_max=1.0):
    x_adv = np.array(x, dtype=float)
    for index, g in np.ndenumerate(grad):
        direction = 1.0 if g > 0 else (-1.0 if g < 0 else 0.0)
        x_adv[index] = min(clip_max, max(clip_min, x[index] + epsilon * direction))
    return x_adv


def fgsm_logistic(x, y, w, b, epsilon):
    grad = np.zeros_like(x, dtype=float)
    for i, row in enumerate(x):
        z = sum(row[j] * w[j] for j in range(len(w))) + b
        p = 1 / (1 + math.exp(-z))
        for j in range(len(w)):
            grad[i, j] = (p - y[i]) * w[j]
    return fgsm(x, grad, epsilon)

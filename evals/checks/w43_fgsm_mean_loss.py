# week 43 fgsm: pass (np.where for the sign, np.minimum/np.maximum; gradient of the batch-mean loss with a tanh sigmoid)
import numpy as np


def fgsm(x, grad, epsilon, clip_min=0.0, clip_max=1.0):
    direction = np.where(grad > 0, 1.0, np.where(grad < 0, -1.0, 0.0))
    return np.minimum(np.maximum(x + epsilon * direction, clip_min), clip_max)


def fgsm_logistic(x, y, w, b, epsilon):
    p = 0.5 * (1 + np.tanh((x @ w + b) / 2))  # sigmoid
    grad = np.outer(p - y, w) / len(x)  # the mean loss over the batch: same signs
    return fgsm(x, grad, epsilon)

# week 28 lora: pass (forms Delta W = scale * B @ A once and reuses it; forward through the merged weight)
import numpy as np


def delta_w(A, B, alpha, r):
    return (alpha / r) * np.einsum("ok,ki->oi", B, A)


def lora_forward(x, W, A, B, alpha, r):
    return x @ (W + delta_w(A, B, alpha, r)).T


def lora_merge(W, A, B, alpha, r):
    return W + delta_w(A, B, alpha, r)

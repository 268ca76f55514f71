# week 28 lora: pass (loops over rows through the rank-r bottleneck; merge by summing rank-one outer products)
import numpy as np


def lora_forward(x, W, A, B, alpha, r):
    scale = alpha / r
    out = []
    for row in x:
        low = A @ row  # (r,)
        out.append(W @ row + scale * (B @ low))
    return np.array(out)


def lora_merge(W, A, B, alpha, r):
    merged = W.astype(float).copy()
    for k in range(r):
        merged += (alpha / r) * np.outer(B[:, k], A[k])
    return merged

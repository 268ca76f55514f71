# week 26 sampling: fail "top-p" [nucleus off by one] (top-p keeps one token too many)
import numpy as np


def apply_temperature(logits, temperature):
    z = logits / temperature
    z = z - z.max()
    return np.exp(z) / np.exp(z).sum()


def top_k(probs, k):
    keep = np.argsort(probs)[::-1][:k]
    out = np.zeros_like(probs)
    out[keep] = probs[keep]
    return out / out.sum()


def top_p(probs, p):
    order = np.argsort(probs)[::-1]
    cum = np.cumsum(probs[order])
    n = int((cum < p).sum()) + 2
    out = np.zeros_like(probs)
    out[order[:n]] = probs[order[:n]]
    return out / out.sum()

# week 26 sampling: pass (a loop that accumulates until p is reached; argpartition for top-k)
import numpy as np


def apply_temperature(logits, temperature):
    z = logits / temperature
    z = z - z.max()
    return np.exp(z) / np.exp(z).sum()


def top_k(probs, k):
    keep = np.argpartition(-probs, k - 1)[:k]
    out = np.zeros_like(probs)
    out[keep] = probs[keep]
    return out / out.sum()


def top_p(probs, p):
    out, total = np.zeros_like(probs), 0.0
    for i in np.argsort(-probs):
        out[i] = probs[i]
        total += probs[i]
        if total >= p:
            break
    return out / out.sum()

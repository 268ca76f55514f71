# week 13 softmax: pass (log-sum-exp formulation)
import numpy as np


def softmax(logits):
    m = logits.max(axis=-1, keepdims=True)
    return np.exp(logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True)))


def cross_entropy(logits, targets):
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return float(np.mean(lse - logits[np.arange(len(logits)), targets.astype(int)]))

# week 13 softmax: fail "stable for large logits" [overflow] (softmax without max subtraction)
import numpy as np


def softmax(logits):
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(logits, targets):
    p = softmax(logits)
    return float(-np.mean(np.log(p[np.arange(len(p)), targets.astype(int)])))

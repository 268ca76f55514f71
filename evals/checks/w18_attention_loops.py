# week 18 attention: pass (one query at a time, masking with a large negative number)
import math

import numpy as np


def attention(Q, K, V, mask=None):
    d_k = Q.shape[1]
    weights = np.zeros((len(Q), len(K)))
    for i, q in enumerate(Q):
        s = K @ q / math.sqrt(d_k)
        if mask is not None:
            s = np.where(mask[i], s, -1e30)
        e = np.exp(s - s.max())
        weights[i] = e / e.sum()
    return weights @ V, weights

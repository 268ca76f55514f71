# week 11 mlp_backprop: pass (one example at a time, per-example outer products, averaged)
import numpy as np


def mlp_backprop(X, y, W1, b1, W2, b2):
    N = len(X)
    loss = 0.0
    dW1, db1 = np.zeros_like(W1), np.zeros_like(b1)
    dW2, db2 = np.zeros_like(W2), np.zeros_like(b2)
    for x, label in zip(X, y):
        h = x @ W1 + b1
        a = np.where(h > 0, h, 0.0)
        s = a @ W2 + b2
        m = s.max()
        log_norm = m + np.log(np.sum(np.exp(s - m)))
        loss += (log_norm - s[int(label)]) / N
        ds = np.exp(s - log_norm)
        ds[int(label)] -= 1.0
        dW2 += np.outer(a, ds) / N
        db2 += ds / N
        dh = np.array([W2[k] @ ds if h[k] > 0 else 0.0 for k in range(len(h))])
        dW1 += np.outer(x, dh) / N
        db1 += dh / N
    return loss, dW1, db1, dW2, db2

# week 9 rnn: pass (pre-activations kept, 1 - tanh(a)**2, weight gradients summed after the loop)
import numpy as np


def rnn_step(x, h, Wx, Wh, b):
    return np.tanh(Wx @ x + Wh @ h + b)


def rnn_bptt(xs, h0, Wx, Wh, b, dhs):
    T = len(xs)
    a = np.zeros((T, len(h0)))
    h = np.zeros((T + 1, len(h0)))
    h[0] = h0
    for t in range(T):
        a[t] = Wx @ xs[t] + Wh @ h[t] + b
        h[t + 1] = np.tanh(a[t])
    da = np.zeros_like(a)
    carried = np.zeros(len(h0))
    for t in range(T - 1, -1, -1):
        da[t] = (dhs[t] + carried) * (1 - np.tanh(a[t]) ** 2)
        carried = Wh.T @ da[t]
    return da.T @ xs, da.T @ h[:-1], da.sum(axis=0), carried

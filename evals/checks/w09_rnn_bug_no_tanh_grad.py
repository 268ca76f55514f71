# week 9 rnn: fail "BPTT gradients match" [missing tanh derivative] (no tanh derivative 1 - h**2)
import numpy as np


def rnn_step(x, h, Wx, Wh, b):
    return np.tanh(Wx @ x + Wh @ h + b)


def rnn_bptt(xs, h0, Wx, Wh, b, dhs):
    hs = [h0]
    for x in xs:
        hs.append(rnn_step(x, hs[-1], Wx, Wh, b))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(len(xs))):
        da = dhs[t] + dh_next
        dWx += np.outer(da, xs[t])
        dWh += np.outer(da, hs[t])
        db += da
        dh_next = Wh.T @ da
    return dWx, dWh, db, dh_next

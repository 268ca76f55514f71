# week 9 rnn: fail "BPTT gradients match" [gradient overwritten] (dWx, dWh, db assigned, not +=)
import numpy as np


def rnn_step(x, h, Wx, Wh, b):
    return np.tanh(Wx @ x + Wh @ h + b)


def rnn_bptt(xs, h0, Wx, Wh, b, dhs):
    hs = [h0]
    for x in xs:
        hs.append(rnn_step(x, hs[-1], Wx, Wh, b))
    dh_next = np.zeros_like(h0)
    for t in reversed(range(len(xs))):
        da = (1 - hs[t + 1] ** 2) * (dhs[t] + dh_next)
        dWx = np.outer(da, xs[t])
        dWh = np.outer(da, hs[t])
        db = da
        dh_next = Wh.T @ da
    return dWx, dWh, db, dh_next

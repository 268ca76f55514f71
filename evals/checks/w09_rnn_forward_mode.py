# week 9 rnn: pass (forward mode: real-time recurrent learning carries dh_t/dtheta forward)
import numpy as np


def rnn_step(x, h, Wx, Wh, b):
    pre = Wx @ x + Wh @ h + b
    return (np.exp(2 * pre) - 1) / (np.exp(2 * pre) + 1)


def rnn_bptt(xs, h0, Wx, Wh, b, dhs):
    H, D = Wx.shape
    sizes = [H * D, H * H, H, H]  # theta = (Wx, Wh, b, h0), flattened
    P = sum(sizes)
    J = np.zeros((H, P))  # dh_t / dtheta
    J[:, P - H :] = np.eye(H)  # h_0 depends on h0 only
    h = h0
    grad = np.zeros(P)
    for x, dh in zip(xs, dhs):
        h_new = rnn_step(x, h, Wx, Wh, b)
        local = np.zeros((H, P))  # da_t / dtheta holding h_{t-1} fixed
        for i in range(H):
            local[i, i * D : (i + 1) * D] = x
            local[i, H * D + i * H : H * D + (i + 1) * H] = h
            local[i, H * D + H * H + i] = 1.0
        J = (1 - h_new**2)[:, None] * (local + Wh @ J)
        grad += dh @ J
        h = h_new
    dWx = grad[: H * D].reshape(H, D)
    dWh = grad[H * D : H * D + H * H].reshape(H, H)
    db = grad[H * D + H * H : H * D + H * H + H]
    dh0 = grad[P - H :]
    return dWx, dWh, db, dh0

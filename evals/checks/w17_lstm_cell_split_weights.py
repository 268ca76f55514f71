# week 17 lstm_cell: pass (W split into h and x columns, one gate at a time, sigmoid via tanh)
import numpy as np


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def lstm_cell(x, h, c, W, b):
    H = len(h)
    W_h, W_x = W[:, :H], W[:, H:]

    def block(k):
        rows = slice(k * H, (k + 1) * H)
        return W_h[rows] @ h + W_x[rows] @ x + b[rows]

    forget = sigmoid(block(0))
    write = sigmoid(block(1))
    show = sigmoid(block(2))
    candidate = np.tanh(block(3))
    c_next = forget * c + write * candidate
    return show * np.tanh(c_next), c_next

# week 17 lstm_cell: fail "order f, i, o, g" [gate order] (blocks read in PyTorch's i, f, g, o)
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_cell(x, h, c, W, b):
    z = W @ np.concatenate([h, x]) + b
    i, f, g, o = np.split(z, 4)
    c_next = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_next), c_next

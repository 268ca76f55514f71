# week 17 lstm_cell: fail "sigmoid gates" [tanh gate] (tanh for the forget gate)
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_cell(x, h, c, W, b):
    z = W @ np.concatenate([h, x]) + b
    f, i, o, g = np.split(z, 4)
    c_next = np.tanh(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_next), c_next

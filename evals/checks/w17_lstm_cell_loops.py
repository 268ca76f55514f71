# week 17 lstm_cell: pass (plain Python loops over units with math.exp, lists turned into arrays)
import math

import numpy as np


def lstm_cell(x, h, c, W, b):
    H = len(h)
    v = list(h) + list(x)
    z = [sum(W[r][k] * v[k] for k in range(len(v))) + b[r] for r in range(4 * H)]
    h_next, c_next = [], []
    for u in range(H):
        f = 1 / (1 + math.exp(-z[u]))
        i = 1 / (1 + math.exp(-z[H + u]))
        o = 1 / (1 + math.exp(-z[2 * H + u]))
        g = math.tanh(z[3 * H + u])
        c_u = f * c[u] + i * g
        c_next.append(c_u)
        h_next.append(o * math.tanh(c_u))
    return np.array(h_next), np.array(c_next)

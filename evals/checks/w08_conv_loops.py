# week 8 conv2d: pass (explicit loops over a zero-padded copy)
import numpy as np


def conv2d(x, kernel, stride=1, padding=0):
    H, W = x.shape
    kh, kw = kernel.shape
    p = np.zeros((H + 2 * padding, W + 2 * padding))
    p[padding : padding + H, padding : padding + W] = x
    oh = (H + 2 * padding - kh) // stride + 1
    ow = (W + 2 * padding - kw) // stride + 1
    y = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    y[i, j] += p[i * stride + a, j * stride + b] * kernel[a, b]
    return y

# week 42 quantization: fail "clipped" [no clipping] (codes never clipped to [-128, 127])
import numpy as np


def quantize(x, x_min=None, x_max=None):
    lo = x.min() if x_min is None else x_min
    hi = x.max() if x_max is None else x_max
    scale = (hi - lo) / 255 if hi > lo else 1.0
    zero_point = -128 - int(np.round(lo / scale))
    return np.round(x / scale) + zero_point, scale, zero_point


def dequantize(q, scale, zero_point):
    return scale * (q - zero_point)

# week 42 quantization: fail "/ 255" [256 levels] (scale divides the range by 256, the number of int8 codes)
import numpy as np


def quantize(x, x_min=None, x_max=None):
    lo = x.min() if x_min is None else x_min
    hi = x.max() if x_max is None else x_max
    scale = (hi - lo) / 256 if hi > lo else 1.0
    zero_point = -128 - int(np.round(lo / scale))
    q = np.clip(np.round(x / scale) + zero_point, -128, 127)
    return q.astype(np.int8), scale, zero_point


def dequantize(q, scale, zero_point):
    return scale * (q.astype(float) - zero_point)

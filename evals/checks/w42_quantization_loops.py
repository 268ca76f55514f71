# week 42 quantization: pass (Python loops with round() and min/max clamping, int32 codes)
import numpy as np


def quantize(x, x_min=None, x_max=None):
    values = [float(v) for v in np.ravel(x)]
    lo = min(values) if x_min is None else x_min
    hi = max(values) if x_max is None else x_max
    scale = (hi - lo) / 255 if hi != lo else 1.0
    zero_point = -128 - round(lo / scale)
    codes = [max(-128, min(127, round(v / scale) + zero_point)) for v in values]
    return np.array(codes, dtype=np.int32).reshape(np.shape(x)), scale, zero_point


def dequantize(q, scale, zero_point):
    return np.array([scale * (int(c) - zero_point) for c in np.ravel(q)]).reshape(np.shape(q))

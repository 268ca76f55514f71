# week 42 quantization: pass (rounds x / scale + zero_point in one np.rint, codes as uint8 + offset internally)
import numpy as np


def quantize(x, x_min=None, x_max=None):
    lo = x.min() if x_min is None else x_min
    hi = x.max() if x_max is None else x_max
    scale = float(hi - lo) / 255.0 if hi > lo else 1.0
    zero_point = int(-128 - np.rint(lo / scale))
    unsigned = np.clip(np.rint(x / scale + zero_point) + 128, 0, 255).astype(np.uint8)
    return (unsigned.astype(np.int16) - 128).astype(np.int8), scale, zero_point


def dequantize(q, scale, zero_point):
    return (q.astype(np.float64) - zero_point) * scale

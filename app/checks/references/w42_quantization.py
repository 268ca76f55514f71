"""Week 42 reference: asymmetric (affine) per-tensor int8 quantization and dequantization.

Conventions: the integer range is [-128, 127] (255 steps). From the calibrated range
[x_min, x_max] (by default the array's own minimum and maximum):
scale = (x_max - x_min) / 255, or 1.0 when x_max == x_min; zero_point = -128 -
round(x_min / scale), an integer (it may fall outside [-128, 127]: the range is not widened to
include 0), so that x_min maps to -128; q = clip(round(x / scale) + zero_point, -128, 127),
with round half to even (np.round, Python's round). Dequantization is
x_hat = scale * (q - zero_point). Within the range |x_hat - x| <= scale / 2.
"""

from __future__ import annotations

import numpy as np

Q_MIN, Q_MAX = -128, 127


def quantize(
    x: np.ndarray, x_min: float | None = None, x_max: float | None = None
) -> tuple[np.ndarray, float, int]:
    """x: a float array of any shape; x_min, x_max: the calibrated range (None: x.min() and
    x.max()) -> (q, scale, zero_point): q an int8 array of x's shape, scale > 0 a float,
    zero_point an int. Values outside [x_min, x_max] are clipped to -128 or 127."""
    x = np.asarray(x, dtype=np.float64)
    low = float(x.min()) if x_min is None else float(x_min)
    high = float(x.max()) if x_max is None else float(x_max)
    scale = (high - low) / (Q_MAX - Q_MIN) if high > low else 1.0
    zero_point = Q_MIN - int(np.round(low / scale))
    q = np.clip(np.round(x / scale) + zero_point, Q_MIN, Q_MAX)
    return q.astype(np.int8), scale, zero_point


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """q an integer array (any shape), scale, zero_point as quantize returns them ->
    x_hat = scale * (q - zero_point), a float array of q's shape (computed in float, so int8
    codes do not overflow)."""
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)

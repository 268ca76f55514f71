"""Week 42: asymmetric (affine) per-tensor int8 quantization and dequantization.

Tensors are a few rows of entries in steps of 0.01, quantized over their own range or over a
calibrated range [x_min, x_max] that some entries fall outside (where clipping shows). Where
the result is compared with the reference, inputs whose x / scale lies within 1e-6 of a
half-integer are left out: there the rounding mode (half to even or half up) and the order of
the floating-point operations decide the code, and either is right.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from app.checks.hints import Hint
from app.checks.properties import Check
from app.checks.properties import Diagnosis
from app.checks.properties import Learner
from app.checks.properties import Mismatch
from app.checks.properties import Property
from app.checks.properties import WrongInterface
from app.checks.properties import array
from app.checks.properties import close
from app.checks.properties import matrices
from app.checks.properties import parts
from app.checks.properties import show
from app.checks.references import w42_quantization as ref

Q_MIN, Q_MAX = ref.Q_MIN, ref.Q_MAX

Quantizing = tuple[np.ndarray, float | None, float | None]  # x, x_min, x_max (None: x's own)
Codes = tuple[np.ndarray, float, int]  # q, scale, zero_point
Quantized = tuple[np.ndarray, float, float]  # the learner's q, scale, zero_point

RANGE = Hint(
    "scale = (x_max - x_min) / 255 (the int8 range [-128, 127] has 255 steps) and zero_point "
    "= -128 - round(x_min / scale), an integer, so that x_min maps to -128.",
    42,
    "quantization",
    "From an observed range",
)
CLAMP = Hint(
    "Clip round(x / scale) + zero_point to [-128, 127]: values outside the calibrated range "
    "go to the nearest end of the int8 range.",
    42,
    "quantization",
    "the integer range",
)
ROUND_TRIP = Hint(
    "q = clip(round(x / scale) + zero_point, -128, 127) and x_hat = scale * (q - zero_point): "
    "rounding to the nearest code moves a value in the range by at most half a step.",
    42,
    "quantization",
    "\\approx 1.004",
)
DEQUANTIZE = Hint(
    "x_hat = scale * (q - zero_point): subtract the zero point, then multiply by the scale "
    "(in floats, so int8 codes do not overflow).",
    42,
    "Check yourself",
    "(30 - 10)",
)


def _tensors() -> st.SearchStrategy[np.ndarray]:
    return matrices(st.integers(1, 3), st.integers(1, 4))


@st.composite
def own_range(draw: st.DrawFn) -> Quantizing:
    """A tensor (1-3, 1-4), entries in [-5, 5], quantized over its own range."""
    return draw(_tensors()), None, None


@st.composite
def calibrated(draw: st.DrawFn) -> Quantizing:
    """A tensor (1-3, 1-4), entries in [-5, 5], and a calibrated range [x_min, x_max] inside
    [-3, 3], steps of 0.01, that some entries may fall outside."""
    low, high = sorted(draw(st.lists(st.integers(-300, 300), min_size=2, max_size=2, unique=True)))
    return draw(_tensors()), low / 100, high / 100


@st.composite
def codes(draw: st.DrawFn) -> Codes:
    """Codes q (1-3, 1-4) in [-128, 127], a scale in (0, 0.5] and a zero point in
    [-200, 200]."""
    q = draw(matrices(st.integers(1, 3), st.integers(1, 4), -1.28, 1.27)) * 100
    return (
        np.round(q).astype(np.int64),
        draw(st.integers(1, 50)) / 100,
        draw(st.integers(-200, 200)),
    )


def describe_quantizing(example: Quantizing) -> str:
    x, x_min, x_max = example
    if x_min is None:
        return f"quantize({show(x)})"
    return f"quantize({show(x)}, x_min={x_min}, x_max={x_max})"


def describe_codes(example: Codes) -> str:
    q, scale, zero_point = example
    return f"dequantize({show(q)}, scale={scale}, zero_point={zero_point})"


def _range(example: Quantizing) -> tuple[float, float]:
    x, x_min, x_max = example
    return (
        float(x.min()) if x_min is None else x_min,
        float(x.max()) if x_max is None else x_max,
    )


def _packed(q: np.ndarray, scale: float, zero_point: float) -> np.ndarray:
    """The learner's result as one array (what a diagnosis reads): q's entries, then scale
    and zero_point."""
    return np.concatenate([q.ravel(), [scale, zero_point]])


def _unpacked(got: np.ndarray) -> Quantized:
    return got[:-2], float(got[-2]), float(got[-1])


# What the common bugs return ---------------------------------------------------------------------


def _levels_256(example: Quantizing, got: np.ndarray) -> bool:
    low, high = _range(example)
    return high > low and bool(np.isclose(_unpacked(got)[1], (high - low) / 256, rtol=1e-9))


def _zero_point_sign(example: Quantizing, got: np.ndarray) -> bool:
    """zero_point = round(x_min / scale) - 128 (x_min / scale added, not subtracted), or the
    right one negated."""
    low, high = _range(example)
    scale = (high - low) / 255 if high > low else 1.0
    shift = round(low / scale)
    zero_point = _unpacked(got)[2]
    return zero_point != Q_MIN - shift and zero_point in (shift - 128, shift + 128)


def _no_clipping(example: Quantizing, got: np.ndarray) -> bool:
    q, scale, zero_point = _unpacked(got)
    unclipped = np.round(example[0].ravel() / scale) + zero_point
    return bool(((unclipped < Q_MIN) | (unclipped > Q_MAX)).any() and np.array_equal(q, unclipped))


def _real_zero_point(example: Quantizing, got: np.ndarray) -> bool:
    low, high = _range(example)
    scale = (high - low) / 255 if high > low else 1.0
    zero_point = _unpacked(got)[2]
    return zero_point != round(zero_point) and bool(np.isclose(zero_point, Q_MIN - low / scale))


QUANTIZE_DIAGNOSES = (
    Diagnosis(
        "256 levels",
        "Your scale is (x_max - x_min) / 256: the int8 range [-128, 127] holds 256 codes but "
        "only 255 steps between them, so x_max lands past 127. Divide the range by 255.",
        _levels_256,
        RANGE,
    ),
    Diagnosis(
        "zero point sign",
        "Your zero point has round(x_min / scale) with the wrong sign, so x_min does not map "
        "to -128: use zero_point = -128 - round(x_min / scale) and q = round(x / scale) + "
        "zero_point.",
        _zero_point_sign,
        RANGE,
    ),
    Diagnosis(
        "no clipping",
        "Your codes leave [-128, 127] for values outside the calibrated range: clip "
        "round(x / scale) + zero_point to [-128, 127] (np.clip) before storing it as int8.",
        _no_clipping,
        CLAMP,
    ),
    Diagnosis(
        "zero point not rounded",
        "Your zero point is not an integer: round it, zero_point = -128 - round(x_min / scale), "
        "so that real zero has an exact integer code.",
        _real_zero_point,
        RANGE,
    ),
)


# Properties -------------------------------------------------------------------------------------


def _quantize(learner: Learner, example: Quantizing) -> Quantized:
    x, x_min, x_max = example
    kwargs = {} if x_min is None else {"x_min": x_min, "x_max": x_max}
    what = describe_quantizing(example)
    q, scale, zero_point = parts(learner("quantize", x, **kwargs), 3, what)
    q = array(q, x.shape, f"q of {what}")
    if not all(isinstance(v, (int, float)) for v in (scale, zero_point)):
        raise WrongInterface(f"{what} should return scale and zero_point as numbers")
    got = _packed(q, scale, zero_point)
    if not np.isfinite(got[-2:]).all() or scale <= 0:
        raise Mismatch(
            f"{what} gave scale {show(float(scale))} and zero_point {show(float(zero_point))}: "
            "the scale must be positive (1.0 when x_max == x_min, never 0)",
            got=got,
        )
    return q, float(scale), float(zero_point)


def _away_from_halves(example: Quantizing) -> None:
    """Leave out inputs where a rounding mode or operation order can change a code."""
    low, high = _range(example)
    scale = (high - low) / 255 if high > low else 1.0
    ratios = np.append(example[0].ravel(), low) / scale
    assume((np.abs(ratios - np.floor(ratios) - 0.5) > 1e-6).all())


def _compare(example: Quantizing, result: Quantized) -> None:
    """Mismatch unless the learner's (q, scale, zero_point) is the reference's."""
    q, scale, zero_point = result
    got = _packed(q, scale, zero_point)
    expected_q, expected_scale, expected_zero_point = ref.quantize(*example)
    if not np.isclose(scale, expected_scale, rtol=1e-9) or zero_point != expected_zero_point:
        low, high = _range(example)
        raise Mismatch(
            f"scale is {scale:.6g} and zero_point {show(zero_point)}, expected "
            f"{expected_scale:.6g} and {expected_zero_point} (the range is [{low}, {high}])",
            got=got,
        )
    if not np.array_equal(q, expected_q):
        raise Mismatch(f"q is {show(q)}, expected {show(expected_q.astype(int))}", got=got)


def quantize_matches(learner: Learner, example: Quantizing) -> None:
    _away_from_halves(example)
    _compare(example, _quantize(learner, example))


def quantize_clips(learner: Learner, example: Quantizing) -> None:
    _away_from_halves(example)
    q, scale, zero_point = _quantize(learner, example)
    if not np.array_equal(q, np.round(q)) or q.min() < Q_MIN or q.max() > Q_MAX:
        raise Mismatch(
            f"q is {show(q)}: every code should be an integer in [-128, 127]",
            got=_packed(q, scale, zero_point),
        )
    _compare(example, (q, scale, zero_point))


def _number(value: float) -> float | int:
    """An integral value as an int (as quantize gave it), any other as the float."""
    return int(value) if value == round(value) else value


def round_trip(learner: Learner, example: Quantizing) -> None:
    x = example[0]
    q, scale, zero_point = _quantize(learner, example)
    x_hat = array(
        learner("dequantize", np.round(q).astype(np.int64), scale, _number(zero_point)),
        x.shape,
        "dequantize(*quantize(x))",
    )
    errors = np.abs(x_hat - x)
    worst = int(errors.argmax())
    if errors.flat[worst] > scale / 2 + 1e-9:
        raise Mismatch(
            f"dequantize(*quantize(x)) turns {x.flat[worst]} into {x_hat.flat[worst]:.6g}, off "
            f"by {errors.flat[worst]:.4g}: with scale {scale:.4g} no value in the range "
            f"should move by more than scale / 2 = {scale / 2:.4g}",
            got=_packed(q, scale, zero_point),
        )


def dequantize_matches(learner: Learner, example: Codes) -> None:
    q = example[0]
    got = array(learner("dequantize", *example), q.shape, describe_codes(example))
    close(got, ref.dequantize(*example), describe_codes(example))


def _zero_point_added(example: Codes, got: np.ndarray) -> bool:
    q, scale, zero_point = example
    return zero_point != 0 and bool(np.allclose(got, scale * (q + zero_point)))


DEQUANTIZE_DIAGNOSES = (
    Diagnosis(
        "zero point added",
        "Your values are scale * (q + zero_point): subtract the zero point, x_hat = scale * "
        "(q - zero_point), undoing the + zero_point of quantize.",
        _zero_point_added,
    ),
)


CHECK = Check(
    42,
    "quantization",
    "Asymmetric int8 quantization and dequantization",
    ("quantize", "dequantize"),
    "quantize(x, x_min=None, x_max=None) -> (q, scale, zero_point): per-tensor affine int8 "
    "quantization of a float array x of any shape over the calibrated range [x_min, x_max] "
    "(None: x.min() and x.max()); scale = (x_max - x_min) / 255, or 1.0 when x_max == x_min; "
    "zero_point = -128 - round(x_min / scale), an int (not widened to include 0, so it may "
    "fall outside [-128, 127]); q = clip(round(x / scale) + zero_point, -128, 127) as an "
    "int8 array of x's shape, round half to even (np.round). dequantize(q, scale, zero_point) "
    "-> x_hat = scale * (q - zero_point), a float array of q's shape (q may be any integer "
    "dtype).",
    (
        Property(
            "scale = (max - min) / 255 and the zero point maps min to -128",
            own_range(),
            quantize_matches,
            RANGE,
            describe_quantizing,
            QUANTIZE_DIAGNOSES,
        ),
        Property(
            "dequantize(*quantize(x)) is within scale / 2 of x",
            own_range(),
            round_trip,
            ROUND_TRIP,
            describe_quantizing,
            QUANTIZE_DIAGNOSES,
        ),
        Property(
            "codes outside the calibrated range are clipped to [-128, 127]",
            calibrated(),
            quantize_clips,
            CLAMP,
            describe_quantizing,
            QUANTIZE_DIAGNOSES,
        ),
        Property(
            "dequantize(q, scale, zero_point) = scale * (q - zero_point)",
            codes(),
            dequantize_matches,
            DEQUANTIZE,
            describe_codes,
            DEQUANTIZE_DIAGNOSES,
        ),
    ),
    reference=Path(ref.__file__),
)

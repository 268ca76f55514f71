"""Week 43: the fast gradient sign method (FGSM), given the input gradient or computing it for
a binary logistic regression.

Inputs are a few rows of pixel-like values in steps of 0.01 inside the clip range (so clipping
matters near its ends), gradients and weights in steps of 0.01 (some exactly 0, whose sign is
0), and budgets epsilon of 0.01-0.3.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from app.checks.hints import Hint
from app.checks.properties import Check
from app.checks.properties import Diagnosis
from app.checks.properties import Learner
from app.checks.properties import Mismatch
from app.checks.properties import Property
from app.checks.properties import array
from app.checks.properties import close
from app.checks.properties import matrices
from app.checks.properties import show
from app.checks.references import w43_fgsm as ref

CLIP_RANGES = ((0.0, 1.0), (-1.0, 1.0))

Attack = tuple[np.ndarray, np.ndarray, float, float, float]  # x, grad, epsilon, clip range
Logistic = tuple[np.ndarray, np.ndarray, np.ndarray, float, float]  # x, y, w, b, epsilon

FGSM_STEP = Hint(
    "Move every feature by epsilon in the direction of the sign of the loss's input gradient: "
    "x + epsilon * np.sign(grad) (up the loss, not down), then clip.",
    43,
    "FGSM",
    "in the direction of the sign of the gradient",
)
FGSM_CLIP = Hint(
    "Clip x + epsilon * sign(grad) to [clip_min, clip_max] (np.clip) so that the adversarial "
    "input stays a valid input.",
    43,
    "FGSM",
    "the clip keeps pixel values valid",
)
BUDGET = Hint(
    "Each feature moves by epsilon (or less, where the clip stops it, or 0 where the gradient "
    "is 0), always in the direction of its gradient's sign.",
    43,
    "adversarial examples",
    "no single feature moves by more than",
)
INPUT_GRADIENT = Hint(
    "With p = sigmoid(x @ w + b), the binary cross-entropy's gradient with respect to the input "
    "row x is (p - y) * w: differentiate with respect to x, not the weights, then take its sign.",
    43,
    "FGSM",
    "differentiating with respect to",
)
P_MINUS_Y = Hint(
    "The loss's gradient with respect to the logit is p - y, so the input gradient is "
    "(p - y) * w: its sign depends on the label, not only on w.",
    6,
    "Check yourself",
    "$p - y$",
)


def _epsilons() -> st.SearchStrategy[float]:
    return st.integers(1, 30).map(lambda e: e / 100)


@st.composite
def attacks(draw: st.DrawFn, clip_ranges: tuple[tuple[float, float], ...]) -> Attack:
    """x (1-3, 1-3) inside a clip range drawn from `clip_ranges`, grad of its shape in
    [-1, 1], epsilon in [0.01, 0.3]."""
    low, high = draw(st.sampled_from(clip_ranges))
    x = draw(matrices(st.integers(1, 3), st.integers(1, 3), low, high))
    grad = draw(matrices(st.just(x.shape[0]), st.just(x.shape[1]), -1.0, 1.0))
    return x, grad, draw(_epsilons()), low, high


@st.composite
def logistic_attacks(draw: st.DrawFn) -> Logistic:
    """x (2-3, 1-3) in [0, 1], labels y (n,) with both classes (y[0] = 0, y[1] = 1: a step
    that ignores the label is then told apart from one against the gradient), weights w (d,)
    and bias b in [-2, 2], epsilon in [0.01, 0.3]."""
    x = draw(matrices(st.integers(2, 3), st.integers(1, 3), 0.0, 1.0))
    n, d = x.shape
    y = np.array([0, 1, *draw(st.lists(st.integers(0, 1), min_size=n - 2, max_size=n - 2))], float)
    w = draw(matrices(st.just(1), st.just(d), -2.0, 2.0))[0]
    b = draw(st.integers(-200, 200)) / 100
    return x, y, w, b, draw(_epsilons())


def describe_attack(example: Attack) -> str:
    x, grad, epsilon, low, high = example
    clip = "" if (low, high) == (0.0, 1.0) else f", clip_min={low}, clip_max={high}"
    return f"fgsm(x={show(x)}, grad={show(grad)}, epsilon={epsilon}{clip})"


def describe_logistic(example: Logistic) -> str:
    x, y, w, b, epsilon = example
    return f"fgsm_logistic(x={show(x)}, y={show(y)}, w={show(w)}, b={b}, epsilon={epsilon})"


def _input_gradient(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """(p - y) * w for each row: the binary cross-entropy's gradient with respect to x."""
    p = 1 / (1 + np.exp(-(x @ w + b)))
    return (p - y)[:, None] * w[None, :]


def _bce(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Each row's binary cross-entropy, -log sigmoid(z) for y = 1 and -log(1 - sigmoid(z))
    for y = 0, z = x @ w + b (computed stably)."""
    z = x @ w + b
    return np.logaddexp(0.0, np.where(y == 1, -z, z))


# What the common bugs return ---------------------------------------------------------------------

Unpack = Callable[[Any], Attack]  # an example as (x, grad, epsilon, clip_min, clip_max)


def _as_attack(example: Attack) -> Attack:
    return example


def _as_logistic(example: Logistic) -> Attack:
    x, y, w, b, epsilon = example
    return x, _input_gradient(x, y, w, b), epsilon, 0.0, 1.0


def _diagnoses(unpack: Unpack, hint: Hint) -> tuple[Diagnosis, ...]:
    """The common FGSM bugs, for examples that `unpack` turns into (x, grad, epsilon,
    clip_min, clip_max); `hint` is the notes' sentence on the gradient's direction."""

    def against(example: Any, got: np.ndarray) -> bool:
        x, grad, epsilon, low, high = unpack(example)
        descent = np.clip(x - epsilon * np.sign(grad), low, high)
        return bool((grad != 0).any() and np.allclose(got, descent))

    def raw_gradient(example: Any, got: np.ndarray) -> bool:
        x, grad, epsilon, low, high = unpack(example)
        return bool(np.allclose(got, np.clip(x + epsilon * grad, low, high)))

    def unclipped(example: Any, got: np.ndarray) -> bool:
        x, grad, epsilon, low, high = unpack(example)
        stepped = x + epsilon * np.sign(grad)
        return bool(((stepped < low) | (stepped > high)).any() and np.allclose(got, stepped))

    return (
        Diagnosis(
            "against the gradient",
            "Your step goes down the loss: x - epsilon * sign(grad) is a step of gradient "
            "descent. An attack increases the loss: add epsilon * sign(grad).",
            against,
            hint,
        ),
        Diagnosis(
            "gradient, not its sign",
            "Your step is epsilon * grad, so features move by epsilon times the gradient's "
            "size: take np.sign(grad), so that every feature moves by exactly epsilon.",
            raw_gradient,
            FGSM_STEP,
        ),
        Diagnosis(
            "no clipping",
            "Your adversarial values leave the valid range: clip x + epsilon * sign(grad) to "
            "[clip_min, clip_max] (np.clip).",
            unclipped,
            FGSM_CLIP,
        ),
    )


def _label_ignored(example: Logistic, got: np.ndarray) -> bool:
    x, _, w, _, epsilon = example
    return bool(np.allclose(got, np.clip(x + epsilon * np.sign(w), 0, 1)))


FGSM_DIAGNOSES = _diagnoses(_as_attack, FGSM_STEP)
LOGISTIC_DIAGNOSES = (
    *_diagnoses(_as_logistic, INPUT_GRADIENT),
    Diagnosis(
        "label ignored",
        "Every row moves along sign(w), whatever its label: that raises the score, which "
        "raises the loss only where y = 0. The input gradient is (p - y) * w: where y = 1 it "
        "points along -w.",
        _label_ignored,
        P_MINUS_Y,
    ),
)


# Properties -------------------------------------------------------------------------------------


def _fgsm(learner: Learner, example: Attack, defaults: bool) -> np.ndarray:
    x, grad, epsilon, low, high = example
    kwargs = {} if defaults else {"clip_min": low, "clip_max": high}
    return array(learner("fgsm", x, grad, epsilon, **kwargs), x.shape, "x_adv")


def fgsm_matches(learner: Learner, example: Attack) -> None:
    got = _fgsm(learner, example, defaults=True)
    close(got, ref.fgsm(*example), "x_adv")


def fgsm_budget(learner: Learner, example: Attack) -> None:
    x, grad, epsilon, low, high = example
    got = _fgsm(learner, example, defaults=False)
    step = got - x
    if (np.abs(step) > epsilon + 1e-9).any():
        raise Mismatch(
            f"x_adv - x is {show(step)}: some feature moved by more than epsilon = {epsilon}",
            got=got,
        )
    if (got < low - 1e-9).any() or (got > high + 1e-9).any():
        raise Mismatch(f"x_adv is {show(got)}, outside [{low}, {high}]", got=got)
    if (step * grad < -1e-12).any():
        raise Mismatch(
            f"x_adv - x is {show(step)}: some feature moved against the sign of its gradient",
            got=got,
        )


def _fgsm_logistic(learner: Learner, example: Logistic) -> np.ndarray:
    x = example[0]
    return array(learner("fgsm_logistic", *example), x.shape, "x_adv")


def logistic_matches(learner: Learner, example: Logistic) -> None:
    close(_fgsm_logistic(learner, example), ref.fgsm_logistic(*example), "x_adv")


def logistic_raises_loss(learner: Learner, example: Logistic) -> None:
    x, y, w, b, _ = example
    got = _fgsm_logistic(learner, example)
    before, after = _bce(x, y, w, b), _bce(got, y, w, b)
    row = int((after - before).argmin())
    if after[row] < before[row] - 1e-12:
        raise Mismatch(
            f"the attack lowered the binary cross-entropy of row {row} from "
            f"{before[row]:.8g} to {after[row]:.8g} (x_adv is {show(got)})",
            got=got,
        )


CHECK = Check(
    43,
    "fgsm",
    "Fast gradient sign method (FGSM)",
    ("fgsm", "fgsm_logistic"),
    "fgsm(x, grad, epsilon, clip_min=0.0, clip_max=1.0) -> x_adv = np.clip(x + epsilon * "
    "np.sign(grad), clip_min, clip_max): x and grad float arrays of one shape (grad is the "
    "loss's gradient with respect to x), sign(0) = 0, x_adv of x's shape. "
    "fgsm_logistic(x, y, w, b, epsilon) -> x_adv (n, d): x (n, d) in [0, 1], y (n,) labels 0 "
    "or 1, w (d,), b a float; with p = sigmoid(x @ w + b) and the binary cross-entropy "
    "-(y log p + (1 - y) log(1 - p)), whose gradient with respect to row x is (p - y) * w, "
    "x_adv = fgsm(x, (p - y) * w, epsilon) with the clip range [0, 1].",
    (
        Property(
            "x_adv = clip(x + epsilon * sign(grad), 0, 1)",
            attacks(CLIP_RANGES[:1]),
            fgsm_matches,
            FGSM_STEP,
            describe_attack,
            FGSM_DIAGNOSES,
        ),
        Property(
            "no feature moves by more than epsilon or against its gradient, and x_adv stays "
            "in [clip_min, clip_max]",
            attacks(CLIP_RANGES),
            fgsm_budget,
            BUDGET,
            describe_attack,
            FGSM_DIAGNOSES,
        ),
        Property(
            "fgsm_logistic steps along the sign of (p - y) * w",
            logistic_attacks(),
            logistic_matches,
            INPUT_GRADIENT,
            describe_logistic,
            LOGISTIC_DIAGNOSES,
        ),
        Property(
            "fgsm_logistic never lowers the binary cross-entropy",
            logistic_attacks(),
            logistic_raises_loss,
            INPUT_GRADIENT,
            describe_logistic,
            LOGISTIC_DIAGNOSES,
        ),
    ),
    reference=Path(ref.__file__),
)

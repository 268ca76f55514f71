"""Week 11: backpropagation by hand through a two-layer network (affine-ReLU-affine, mean
softmax cross-entropy), from scratch.

The learner's loss and gradients are compared with the reference's, and tested on two laws of
any correct backward pass: a hidden unit that is off (negative) for every example passes no
gradient, and the mean's 1/N makes a batch holding every example twice give the same loss and
gradients as the batch itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import assume
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
from app.checks.properties import parts
from app.checks.properties import show
from app.checks.references import w11_mlp_backprop as ref

Network = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Candidates = list[list[np.ndarray]]  # for each returned value, what a bug may return for it
NAMES = ("X", "y", "W1", "b1", "W2", "b2")
RESULTS = ("loss", "dW1", "db1", "dW2", "db2")
# Compared to 1e-3 (absolute and relative): the bugs are off by far more on most inputs, and a
# failure shrinks to one whose difference shows in three decimals.
TOLERANCE = 1e-3
# A diagnosis recomputes its bug exactly: a learner with that bug matches it to rounding.
FIT = 1e-6

LOSS = Hint(
    "The loss is the mean over the N examples of -log softmax(S)[y]; take the softmax of each "
    "row of scores S = ReLU(X @ W1 + b1) @ W2 + b2, stably (subtract the row's max).",
    11,
    "Backpropagation for a two-layer network",
    "the one-hot label matrix",
)
CHAIN = Hint(
    "Go back one layer at a time: dS = (P - Y) / N, dW2 = A.T @ dS, db2 = dS.sum(axis=0), "
    "dH = (dS @ W2.T) * (H > 0), dW1 = X.T @ dH, db1 = dH.sum(axis=0).",
    11,
    "Backpropagation for a two-layer network",
    "dW_2 = A^{\\top} dS",
)
RELU_MASK = Hint(
    "The ReLU passes gradient only where its input was positive: multiply dS @ W2.T by the "
    "0/1 mask (H > 0).",
    11,
    "Backpropagation for a two-layer network",
    "dH = (dS @ W2.T) * (H > 0)",
)
NOT_H = Hint(
    "Multiply by the mask (H > 0), not by H or ReLU(H): the ReLU's slope is 1 or 0.",
    11,
    "Backpropagation for a two-layer network",
    "multiplying by $H$ itself",
)
MEAN = Hint(
    "The loss is a mean over the batch, so its gradient carries the 1/N: dS = (P - Y) / N.",
    11,
    "Backpropagation for a two-layer network",
    "Dropping the $1/N$",
)
SHAPES = Hint(
    "A gradient has its parameter's shape: dW1 = X.T @ dH is (D, H), dW2 = A.T @ dS is (H, C).",
    11,
    "Backpropagation for a two-layer network",
    "Matching shapes",
)
DEAD_UNIT = Hint(
    "A unit whose ReLU input is negative for every example has slope 0 everywhere, so its "
    "weights and bias get zero gradient.",
    11,
    "Gradients and Jacobians",
    "For elementwise ReLU",
)


@st.composite
def networks(draw: st.DrawFn, dead_unit: bool = False) -> Network:
    """X (N, D) in [-2, 2], y (N,) classes, W1 (D, H), b1 (H,), W2 (H, C), b2 (C,) in
    [-1, 1], with N in 2..3, D in 1..2, H in 1..3, C in 2..3. The entries are drawn first at
    the largest sizes (the weights as one row: few arrays to shrink) and cut to the sizes
    drawn after them, so that a failure shrinks to a smaller network as well as to small
    numbers, and quickly. With `dead_unit`, one hidden unit's bias is set low enough that its
    pre-activation is below -0.5 for every example. No pre-activation is within 1e-6 of 0
    (where the ReLU has no slope)."""
    X = draw(matrices(st.just(3), st.just(2), -2, 2))
    weights = draw(matrices(st.just(1), st.just(6 + 9 + 3 + 3), -1, 1))[0]
    W1, W2 = weights[:6].reshape(2, 3), weights[6:15].reshape(3, 3)
    b1, b2 = weights[15:18], weights[18:]
    labels = np.array(draw(st.lists(st.integers(0, 2), min_size=3, max_size=3)))
    n, d = draw(st.integers(2, 3)), draw(st.integers(1, 2))
    h, c = draw(st.integers(1, 3)), draw(st.integers(2, 3))
    X, W1, b1 = X[:n, :d], W1[:d, :h], b1[:h].copy()
    if dead_unit:
        j = draw(st.integers(0, h - 1))
        b1[j] = -np.ceil(100 * (X @ W1[:, j]).max() + 50) / 100
    assume(np.abs(X @ W1 + b1).min() > 1e-6)
    return X, labels[:n] % c, W1, b1, W2[:h, :c], b2[:c]


def _describe(example: Network) -> str:
    """The example as keyword arguments the learner can paste into a call."""
    return ", ".join(f"{name}={show(value)}" for name, value in zip(NAMES, example, strict=True))


def _backward(example: Network, mask: str = "relu", mean: bool = True) -> list[np.ndarray]:
    """[loss, dW1, db1, dW2, db2] as the notes' backward pass gives them, or as a bug does:
    `mask` "none" (no ReLU mask), "H" or "A" (multiplied by the pre-activation or the
    activation instead of the 0/1 mask); `mean=False` drops the 1/N."""
    X, y, W1, b1, W2, b2 = example
    N = len(X)
    H = X @ W1 + b1
    A = np.maximum(H, 0)
    S = A @ W2 + b2
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    Y = np.eye(W2.shape[1])[y.astype(int)]
    loss = float(-np.log((P * Y).sum(axis=1)).mean())
    dS = (P - Y) / (N if mean else 1)
    back = dS @ W2.T
    dH = {"relu": back * (H > 0), "none": back, "H": back * H, "A": back * A}[mask]
    return [np.array(loss), X.T @ dH, dH.sum(axis=0), A.T @ dS, dS.sum(axis=0)]


def _flat(results: list[np.ndarray]) -> np.ndarray:
    """The loss and the four gradients end to end: what a failing property hands its
    diagnoses."""
    return np.concatenate([np.ravel(r) for r in results])


def _fits(
    bug: Callable[[Network], Candidates], batch: Callable[[Network], Network] = lambda e: e
) -> Callable[[Any, np.ndarray], bool]:
    """A diagnosis's test on the input `batch(example)` (the batch the property ran on):
    `bug` gives, for the loss and each gradient, what the bug may return. `got` (all five,
    flattened) fits when each is right or one the bug gives, and at least one is the bug's
    and wrong; a single gradient of the wrong shape (the property's `array` refused it) fits
    when one the bug gives has its shape and values."""

    def fits(example: Network, got: np.ndarray) -> bool:
        example = batch(example)
        correct = _backward(example)
        candidates = bug(example)
        if got.ndim != 1 or got.size != sum(r.size for r in correct):
            return any(
                c.shape == got.shape
                and np.allclose(got, c, atol=FIT)
                and not (c.shape == right.shape and np.allclose(c, right, atol=FIT))
                for options, right in zip(candidates, correct, strict=True)
                for c in options
            )
        buggy = False
        sizes = np.cumsum([r.size for r in correct])[:-1]
        for mine, right, options in zip(np.split(got, sizes), correct, candidates, strict=True):
            mine = mine.reshape(right.shape)
            if any(c.shape == right.shape and np.allclose(mine, c, atol=FIT) for c in options):
                buggy = buggy or not np.allclose(mine, right, atol=FIT)
            elif not np.allclose(mine, right, atol=FIT):
                return False
        return buggy

    return fits


def _masked(*masks: str) -> Callable[[Network], Candidates]:
    """dW1 and db1 through a wrong ReLU derivative (see `_backward`); the rest right."""

    def candidates(example: Network) -> Candidates:
        right, wrong = _backward(example), [_backward(example, mask) for mask in masks]
        return [[right[k]] + ([w[k] for w in wrong] if k in (1, 2) else []) for k in range(5)]

    return candidates


def _summed(example: Network) -> Candidates:
    """Every gradient N times too large (no 1/N); the loss a mean or a sum."""
    right, wrong = _backward(example), _backward(example, mean=False)
    return [[right[0], wrong[0] * len(example[0])]] + [[w] for w in wrong[1:]]


def _transposed(example: Network) -> Candidates:
    """A weight gradient transposed; the rest right."""
    right = _backward(example)
    return [[r, r.T] if k in (1, 3) else [r] for k, r in enumerate(right)]


def _twice(example: Network) -> Network:
    """The batch with every example twice (the input of the 1/N law)."""
    X, y, *weights = example
    return (np.vstack([X, X]), np.concatenate([y, y]), *weights)  # type: ignore[return-value]


def diagnoses(batch: Callable[[Network], Network] = lambda e: e) -> tuple[Diagnosis, ...]:
    """The backward pass's common bugs, on the input `batch(example)`."""
    return (
        Diagnosis(
            "missing ReLU mask",
            "Your dW1 and db1 are what the backward pass gives with no ReLU derivative: the "
            "gradient went through the ReLU unchanged. Multiply it by the 0/1 mask of the "
            "units that were on: dH = (dS @ W2.T) * (H > 0).",
            _fits(_masked("none"), batch),
            RELU_MASK,
        ),
        Diagnosis(
            "multiplied by H",
            "Your dW1 and db1 multiply the gradient by the ReLU's input (or output) itself. "
            "The ReLU's slope is 1 where H > 0 and 0 elsewhere: dH = (dS @ W2.T) * (H > 0).",
            _fits(_masked("H", "A"), batch),
            NOT_H,
        ),
        Diagnosis(
            "missing 1/N",
            "Your gradients are N times too large (N the number of examples): the loss is a "
            "mean, so divide by N: dS = (P - Y) / N.",
            _fits(_summed, batch),
            MEAN,
        ),
        Diagnosis(
            "transposed weight gradient",
            "Your weight gradient is the transpose of the right one. Each gradient has its "
            "parameter's shape: dW1 = X.T @ dH is (D, H) like W1, dW2 = A.T @ dS is (H, C) "
            "like W2.",
            _fits(_transposed, batch),
            SHAPES,
        ),
    )


def _run(learner: Learner, example: Network) -> dict[str, np.ndarray]:
    _, _, W1, b1, W2, b2 = example
    result = parts(learner("mlp_backprop", *example), 5, "mlp_backprop")
    shapes = ((), W1.shape, b1.shape, W2.shape, b2.shape)
    return {
        name: array(value, shape, name)
        for name, value, shape in zip(RESULTS, result, shapes, strict=True)
    }


def _compare(got: dict[str, np.ndarray], expected: dict[str, np.ndarray], what: str) -> None:
    """`close` on each gradient from the output back (dW2, db2, dW1, db1); a Mismatch carries
    the loss and all four gradients (see `_fits`)."""
    for name in ("dW2", "db2", "dW1", "db1"):
        try:
            close(got[name], expected[name], f"{name}{what}", TOLERANCE, TOLERANCE)
        except Mismatch as exc:
            raise Mismatch(str(exc), got=_flat([got[n] for n in RESULTS])) from None


def loss_matches(learner: Learner, example: Network) -> None:
    loss = _run(learner, example)["loss"]
    close(loss, np.array(ref.mlp_backprop(*example)[0]), "loss", TOLERANCE, TOLERANCE)


def gradients_match(learner: Learner, example: Network) -> None:
    expected = {n: np.asarray(v) for n, v in zip(RESULTS, ref.mlp_backprop(*example), strict=True)}
    _compare(_run(learner, example), expected, "")


def dead_unit_no_gradient(learner: Learner, example: Network) -> None:
    X, _, W1, b1, _, _ = example
    got = _run(learner, example)
    j = int(np.argmax((X @ W1 + b1 < 0).all(axis=0)))  # the unit the strategy switched off
    entries = {
        f"dW1[:, {j}]": got["dW1"][:, j],
        f"db1[{j}]": got["db1"][j],
        f"dW2[{j}]": got["dW2"][j],
    }
    for label, value in entries.items():
        if not np.allclose(value, 0, atol=TOLERANCE):
            raise Mismatch(
                f"hidden unit {j} is off (H[:, {j}] < 0) for every example, yet {label} is "
                f"{show(value)}, expected 0",
                got=_flat([got[n] for n in RESULTS]),
            )


def batch_twice(learner: Learner, example: Network) -> None:
    once, twice = _run(learner, example), _run(learner, _twice(example))
    what = " with every example twice (expected: as with each once)"
    try:
        close(twice["loss"], once["loss"], f"the loss{what}", TOLERANCE, TOLERANCE)
    except Mismatch as exc:
        raise Mismatch(str(exc), got=_flat([twice[n] for n in RESULTS])) from None
    _compare(twice, once, what)


CHECK = Check(
    11,
    "mlp_backprop",
    "Backpropagation through a two-layer network",
    ("mlp_backprop",),
    "mlp_backprop(X, y, W1, b1, W2, b2) -> (loss, dW1, db1, dW2, db2): X (N, D) one example "
    "a row, y (N,) integer classes in 0..C-1, W1 (D, H), b1 (H,), W2 (H, C), b2 (C,); the "
    "network is S = ReLU(X @ W1 + b1) @ W2 + b2 and loss (a float) the mean softmax "
    "cross-entropy of S's rows against y; each gradient has its parameter's shape.",
    (
        Property(
            "the loss is the mean softmax cross-entropy",
            networks(),
            loss_matches,
            LOSS,
            _describe,
            (
                Diagnosis(
                    "summed loss",
                    "Your loss is N times the mean (N the number of examples): average "
                    "-log softmax(S)[y] over the batch instead of summing it.",
                    lambda example, got: np.allclose(
                        got, len(example[0]) * ref.mlp_backprop(*example)[0], atol=FIT
                    ),
                    MEAN,
                ),
                *diagnoses(),  # the first property is the one to fail on a wrong shape
            ),
        ),
        Property(
            "gradients match the backward pass",
            networks(),
            gradients_match,
            CHAIN,
            _describe,
            diagnoses(),
        ),
        Property(
            "a hidden unit that is off for every example gets no gradient",
            networks(dead_unit=True),
            dead_unit_no_gradient,
            DEAD_UNIT,
            _describe,
            diagnoses(),
        ),
        Property(
            "a batch with every example twice gives the same loss and gradients (the 1/N)",
            networks(),
            batch_twice,
            MEAN,
            _describe,
            diagnoses(_twice),
        ),
    ),
    reference=Path(ref.__file__),
)

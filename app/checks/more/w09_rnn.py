"""Week 9: a vanilla RNN step and backpropagation through time (BPTT), from scratch.

The learner's `rnn_step` is compared with tanh(Wx x + Wh h + b); `rnn_bptt` with the
reference's gradients over a few steps, and with central differences of the loss whose
gradients on the hidden states are the given `dhs` (L = sum_t dhs[t] . h_{t+1}), a law of
any correct BPTT. Weights are drawn in [-1, 1] so that tanh does not saturate and every
step's gradient counts; sequences have one input feature (D = 1), which keeps shrinking quick.
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
from app.checks.properties import parts
from app.checks.properties import show
from app.checks.references import w09_rnn as ref

Step = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x, h, Wx, Wh, b
Sequence = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
GRADIENTS = ("dWx", "dWh", "db", "dh0")
# Results are compared to 1e-3 (absolute and relative): any bug here is off by far more on
# most inputs, and a failure shrinks to one whose difference shows in three decimals.
TOLERANCE = 1e-3
# A diagnosis recomputes its bug exactly: a learner with that bug matches it to rounding.
FIT = 1e-6

RECURRENCE = Hint(
    "One step is h_next = np.tanh(Wx @ x + Wh @ h + b): input weights times the input, "
    "hidden weights times the previous state, plus the bias, through tanh.",
    9,
    "Vanilla RNN recurrence",
    "h = np.tanh(Wxh @ x + Whh @ h + bh)",
)
BPTT = Hint(
    "Run the forward pass keeping every h_t, then go back from the last step: dh = dhs[t] + "
    "what came back from step t+1, da = (1 - h_t**2) * dh; add np.outer(da, x_t) to dWx, "
    "np.outer(da, h_{t-1}) to dWh and da to db; send Wh.T @ da back to h_{t-1}.",
    9,
    "Backpropagation through time",
    "unrolled over the sequence",
)
TANH_GRAD = Hint(
    "Multiply each hidden state's gradient by tanh's derivative, 1 - h_t**2, before it "
    "reaches the weights, the bias and the previous state.",
    9,
    "Backpropagation through time",
    "derivative of tanh",
)
ACCUMULATE = Hint(
    "The weights are shared by every step: add each step's contribution to dWx, dWh and "
    "db (+=), do not assign it.",
    9,
    "Backpropagation through time",
    "overwriting instead of accumulating",
)
PREVIOUS_STATE = Hint(
    "W_hh multiplies h_{t-1} in step t, so step t adds np.outer(da_t, h_{t-1}) to dWh.",
    9,
    "Backpropagation through time",
    "pre-activation",
)
THROUGH_TIME = Hint(
    "A hidden state's gradient is its own dhs[t] plus Wh.T @ da from the step after it; "
    "carry that back through the loop, and return the last one as dh0.",
    9,
    "Backpropagation through time",
    "passed back from step",
)
FINITE_DIFFERENCES = Hint(
    "Compare each gradient entry with (L(w + h) - L(w - h)) / 2h for a small h.",
    11,
    "Backpropagation for a two-layer network",
    "Verify with central differences",
)


@st.composite
def step_inputs(draw: st.DrawFn) -> Step:
    """One step: x (D,), h (H,), Wx (H, D), Wh (H, H), b (H,), D and H in 1..3; x, Wx, Wh in
    [-2, 2] so that the pre-activation often leaves [-1, 1] (where a missing tanh shows), h
    and b in [-1, 1]. Drawn as two rows at the largest sizes and cut to the sizes drawn after
    them: a failure shrinks to fewer units as well as to small numbers, and quickly."""
    wide = draw(matrices(st.just(1), st.just(3 + 9 + 9), -2, 2))[0]
    narrow = draw(matrices(st.just(1), st.just(3 + 3), -1, 1))[0]
    d, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x, Wx, Wh = wide[:3], wide[3:12].reshape(3, 3), wide[12:].reshape(3, 3)
    return x[:d], narrow[:n], Wx[:n, :d], Wh[:n, :n], narrow[3 : 3 + n]


@st.composite
def sequences(draw: st.DrawFn, steps: tuple[int, int]) -> Sequence:
    """xs (T, D), h0 (H,), Wx (H, D), Wh (H, H), b (H,), dhs (T, H), with T in `steps`, D = 1
    and H in 1..2, entries in [-1, 1] (tanh seldom saturates). Drawn as one row at the largest
    sizes and cut to the sizes drawn after it: a failure shrinks to fewer steps and units as
    well as to small numbers, and quickly (each entry more is many more shrinking steps)."""
    t = steps[1]
    row = draw(matrices(st.just(1), st.just(t + 2 * t + 2 + 2 + 4 + 2), -1, 1))[0]
    xs, dhs, h0, Wx, Wh, b = np.split(row, np.cumsum([t, 2 * t, 2, 2, 4]))
    xs, dhs, Wx, Wh = xs.reshape(t, 1), dhs.reshape(t, 2), Wx.reshape(2, 1), Wh.reshape(2, 2)
    t, n = draw(st.integers(*steps)), draw(st.integers(1, 2))
    return xs[:t], h0[:n], Wx[:n], Wh[:n, :n], b[:n], dhs[:t, :n]


def _named(names: tuple[str, ...]) -> Callable[[Any], str]:
    """The example as keyword arguments the learner can paste into a call."""
    return lambda example: ", ".join(
        f"{name}={show(value)}" for name, value in zip(names, example, strict=True)
    )


def _steps(
    example: Sequence, tanh_grad: bool = True, carry: bool = True, read_new_state: bool = False
) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], np.ndarray]:
    """BPTT as it is written, or as a bug writes it: each step's (dWx, dWh, db) term, last
    step first, and the gradient left on h0. `tanh_grad=False` skips 1 - h**2, `carry=False`
    sends nothing back to the previous state, `read_new_state` multiplies dWh's term by the
    state the step produced instead of the one it read."""
    xs, h0, Wx, Wh, b, dhs = example
    hs = [h0]
    for x in xs:
        hs.append(ref.rnn_step(x, hs[-1], Wx, Wh, b))
    terms, dh_next = [], np.zeros_like(h0)
    for t in reversed(range(len(xs))):
        dh = dhs[t] + dh_next
        da = (1 - hs[t + 1] ** 2) * dh if tanh_grad else dh
        state = hs[t + 1] if read_new_state else hs[t]
        terms.append((np.outer(da, xs[t]), np.outer(da, state), da))
        dh_next = Wh.T @ da if carry else np.zeros_like(h0)
    return terms, Wh.T @ da


def _summed(example: Sequence, **bug: bool) -> list[np.ndarray]:
    """The four gradients (dWx, dWh, db, dh0) that BPTT, or the bug in `bug`, returns."""
    terms, dh0 = _steps(example, **bug)
    return [np.sum(column, axis=0) for column in zip(*terms, strict=True)] + [dh0]


def _flat(grads: list[np.ndarray]) -> np.ndarray:
    """The four gradients end to end: what a failing BPTT property hands its diagnoses."""
    return np.concatenate([g.ravel() for g in grads])


def _fits(bug: Callable[[Sequence], list[list[np.ndarray]]]) -> Callable[[Any, np.ndarray], bool]:
    """A diagnosis's test: `bug(example)` gives, for each of the four gradients, what the
    bug may return for it. `got` (the four, flattened) fits when each of its gradients is
    right or one the bug gives, and at least one is the bug's and wrong."""

    def fits(example: Sequence, got: np.ndarray) -> bool:
        correct = ref.rnn_bptt(*example)
        sizes = np.cumsum([g.size for g in correct])[:-1]
        buggy = False
        for mine, right, wrong in zip(np.split(got, sizes), correct, bug(example), strict=True):
            if any(np.allclose(mine, w.ravel(), atol=FIT) for w in wrong):
                buggy = buggy or not np.allclose(mine, right.ravel(), atol=FIT)
            elif not np.allclose(mine, right.ravel(), atol=FIT):
                return False
        return buggy

    return fits


def _variant(**bug: bool) -> Callable[[Sequence], list[list[np.ndarray]]]:
    """The four gradients of BPTT written with `bug` (see `_steps`), one candidate each."""
    return lambda example: [[g] for g in _summed(example, **bug)]


def _overwritten(example: Sequence) -> list[list[np.ndarray]]:
    """Each weight gradient as the first step's term alone: assigned, not added up, in a loop
    that runs back to the first step (what is left is that step's); dh0 as BPTT's."""
    terms, dh0 = _steps(example)
    return [[term] for term in terms[-1]] + [[dh0]]


BPTT_DIAGNOSES = (
    Diagnosis(
        "missing tanh derivative",
        "Your gradients are BPTT without tanh's derivative. Before a hidden state's gradient "
        "reaches Wx, Wh, b or the previous state, multiply it by 1 - h_t**2 (h_t the state "
        "that step produced): da = (1 - h_t**2) * dh.",
        _fits(_variant(tanh_grad=False)),
        TANH_GRAD,
    ),
    Diagnosis(
        "gradient overwritten",
        "Your gradient holds one time step's contribution only. The weights are shared by "
        "every step, so add each step's term - dWh += np.outer(da, h_prev), and likewise dWx "
        "and db - instead of assigning it.",
        _fits(_overwritten),
        ACCUMULATE,
    ),
    Diagnosis(
        "new state in dWh",
        "Your dWh multiplies each step's da by the state that step produced, h_t. Wh "
        "multiplied the state the step read, so use the previous one: dWh += "
        "np.outer(da_t, h_{t-1}) (h0 for the first step).",
        _fits(_variant(read_new_state=True)),
        PREVIOUS_STATE,
    ),
    Diagnosis(
        "no gradient through time",
        "Your gradients take each state's own dhs[t] but nothing from the steps after it. "
        "Carry the gradient back: the gradient on h_t is dhs[t] + Wh.T @ da_{t+1}, and what "
        "is left after the first step is dh0.",
        _fits(_variant(carry=False)),
        THROUGH_TIME,
    ),
)


def step_matches(learner: Learner, example: Step) -> None:
    got = array(learner("rnn_step", *example), example[1].shape, "rnn_step's h_next")
    close(got, ref.rnn_step(*example), "h_next", TOLERANCE, TOLERANCE)


def _bptt(learner: Learner, example: Sequence) -> dict[str, np.ndarray]:
    _, h0, Wx, Wh, _, _ = example
    result = parts(learner("rnn_bptt", *example), 4, "rnn_bptt")
    shapes = (Wx.shape, Wh.shape, h0.shape, h0.shape)
    return {
        name: array(value, shape, name)
        for name, value, shape in zip(GRADIENTS, result, shapes, strict=True)
    }


def _compare(got: dict[str, np.ndarray], expected: dict[str, np.ndarray], what: str) -> None:
    """`close` on each gradient, dWh first; a Mismatch carries all four (see `_fits`)."""
    for name in ("dWh", "dWx", "db", "dh0"):
        try:
            close(got[name], expected[name], f"{name} {what}", TOLERANCE, TOLERANCE)
        except Mismatch as exc:
            raise Mismatch(str(exc), got=_flat([got[n] for n in GRADIENTS])) from None


def bptt_matches(learner: Learner, example: Sequence) -> None:
    expected = dict(zip(GRADIENTS, ref.rnn_bptt(*example), strict=True))
    _compare(_bptt(learner, example), expected, f"over {len(example[0])} steps")


def _loss(example: Sequence) -> float:
    """L = sum_t dhs[t] . h_{t+1}: the loss whose gradients on the states are `dhs`."""
    xs, h, Wx, Wh, b, dhs = example
    total = 0.0
    for x, dh in zip(xs, dhs, strict=True):
        h = ref.rnn_step(x, h, Wx, Wh, b)
        total += float(dh @ h)
    return total


def _numerical(example: Sequence, eps: float = 1e-6) -> dict[str, np.ndarray]:
    """Central differences of `_loss` in every entry of Wx, Wh, b and h0."""
    grads = {}
    for name, index in (("dWx", 2), ("dWh", 3), ("db", 4), ("dh0", 1)):
        grad = np.zeros_like(example[index])
        for i in np.ndindex(grad.shape):
            shifted = []
            for sign in (1, -1):
                moved = [a.copy() for a in example]
                moved[index][i] += sign * eps
                shifted.append(_loss(tuple(moved)))  # type: ignore[arg-type]
            grad[i] = (shifted[0] - shifted[1]) / (2 * eps)
        grads[name] = grad
    return grads


def bptt_finite_differences(learner: Learner, example: Sequence) -> None:
    _compare(
        _bptt(learner, example),
        _numerical(example),
        "(against central differences of L = sum_t dhs[t] . hs[t], hs[t] the state after xs[t])",
    )


STEP_NAMES = ("x", "h", "Wx", "Wh", "b")
SEQUENCE_NAMES = ("xs", "h0", "Wx", "Wh", "b", "dhs")

CHECK = Check(
    9,
    "rnn",
    "Vanilla RNN step and backpropagation through time",
    ("rnn_step", "rnn_bptt"),
    "rnn_step(x, h, Wx, Wh, b) -> h_next: x (D,), h (H,), Wx (H, D), Wh (H, H), b (H,); "
    "h_next (H,) = tanh(Wx @ x + Wh @ h + b). rnn_bptt(xs, h0, Wx, Wh, b, dhs) -> (dWx, dWh, "
    "db, dh0): xs (T, D) the inputs in order, h0 (H,) the initial state, dhs (T, H) where "
    "dhs[t] is the loss's own gradient on the state produced from xs[t] (not counting what "
    "flows back from later steps); run the forward pass with rnn_step's formula, then return "
    "the loss's gradients dWx (H, D), dWh (H, H), db (H,), dh0 (H,), summed over the steps. "
    "Float arrays, no batch axis.",
    (
        Property(
            "rnn_step matches tanh(Wx x + Wh h + b)",
            step_inputs(),
            step_matches,
            RECURRENCE,
            _named(STEP_NAMES),
            (
                Diagnosis(
                    "no tanh",
                    "Your h_next is the pre-activation Wx @ x + Wh @ h + b itself: pass it "
                    "through np.tanh.",
                    lambda example, got: np.allclose(
                        got,
                        example[2] @ example[0] + example[3] @ example[1] + example[4],
                        atol=FIT,
                    ),
                ),
            ),
        ),
        Property(
            "BPTT gradients match over several steps",
            sequences((2, 3)),
            bptt_matches,
            BPTT,
            _named(SEQUENCE_NAMES),
            BPTT_DIAGNOSES,
        ),
        Property(
            "BPTT gradients agree with central differences of the loss",
            sequences((1, 3)),
            bptt_finite_differences,
            FINITE_DIFFERENCES,
            _named(SEQUENCE_NAMES),
            BPTT_DIAGNOSES,
        ),
    ),
    reference=Path(ref.__file__),
)

"""Week 28: a LoRA linear layer, h = x W^T + (alpha / r) x A^T B^T, and its merged weight.

Shapes follow PyTorch's nn.Linear and the LoRA paper: W (d_out, d_in), A (r, d_in),
B (d_out, r), x (n, d_in). Two laws hold whatever the code: with B = 0 the layer is the frozen
one, and the merged weight gives the same output as the adapter; the forward pass and the
merged weight are also compared with the reference, which is where the scale alpha / r and
the order B A show.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
from app.checks.properties import show
from app.checks.references import w28_lora as ref

ALPHAS = (2.0, 4.0, 8.0, 16.0)

LoraInput = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int]  # x W A B alpha r

LORA_DEF = Hint(
    "h = x @ W.T + (alpha / r) * x @ A.T @ B.T: the frozen layer plus the rank-r update B A, "
    "scaled by alpha / r.",
    28,
    "LoRA",
    "\\frac{\\alpha}{r} B A x",
)
LORA_SCALE = Hint(
    "Scale the low-rank update by alpha / r: by alpha divided by the rank, not by 1, alpha "
    "or r / alpha.",
    28,
    "LoRA",
    "scaling constant",
)
LORA_INIT = Hint(
    "With B = 0 the update B A is zero, so the layer must give exactly the frozen x @ W.T.",
    28,
    "LoRA",
    "starts at zero",
)
LORA_MERGE = Hint(
    "The merged weight is W + (alpha / r) * B @ A, of W's shape (d_out, d_in).",
    28,
    "Check yourself",
    "merged into a single matrix",
)
LORA_ORDER = Hint(
    "Delta W = B @ A: B (d_out, r) on the left, A (r, d_in) on the right, so that it has "
    "W's shape (d_out, d_in).",
    28,
    "LoRA",
    "$\\Delta W = BA$",
)
LORA_SAME = Hint(
    "x @ merged.T must equal the adapter's output: merge exactly the update the forward "
    "pass adds, with the same scale.",
    28,
    "LoRA",
    "can be merged into",
)


# Whole numbers in [-3, 3]: the update multiplies three factors, and products of entries in
# steps of 0.01 would be too small to read. Every matrix is cut from a 3 x 3 grid, so that a
# smaller size keeps the other draws in place and failures shrink to small shapes.
GRID = st.lists(st.integers(-3, 3), min_size=9, max_size=9).map(
    lambda values: np.array(values, dtype=float).reshape(3, 3)
)


@st.composite
def lora_inputs(draw: st.DrawFn, zero_b: bool = False) -> LoraInput:
    """1-2 rows of x, d_in and d_out of 1-3, rank r of 1-2, whole-number entries in [-3, 3],
    alpha from ALPHAS; with `zero_b`, B = 0 (LoRA's initialisation)."""
    n, d_in, d_out, r = (draw(st.integers(1, high)) for high in (2, 3, 3, 2))
    x, W, A, B = (draw(GRID) for _ in range(4))
    B = np.zeros((d_out, r)) if zero_b else B[:d_out, :r]
    return x[:n, :d_in], W[:d_out, :d_in], A[:r, :d_in], B, draw(st.sampled_from(ALPHAS)), r


def describe(example: LoraInput) -> str:
    x, W, A, B, alpha, r = example
    return f"x={show(x)}, W={show(W)}, A={show(A)}, B={show(B)}, alpha={alpha}, r={r}"


# What the common bugs return ---------------------------------------------------------------------


def _scales(example: LoraInput, missing: bool) -> list[float]:
    """The scales a bug uses instead of alpha / r: 1 (`missing`), or alpha, r / alpha and
    alpha * r."""
    alpha, r = example[4], example[5]
    return [1.0] if missing else [alpha, r / alpha, alpha * r]


def _gives(got: np.ndarray, bug: np.ndarray, correct: np.ndarray) -> bool:
    """`got` is what the bug gives, and that is not the right answer (no broadcasting)."""
    return (
        got.shape == bug.shape
        and bool(np.allclose(got, bug))
        and not (bug.shape == correct.shape and np.allclose(bug, correct))
    )


def _forward_scaled(missing: bool) -> Callable[[LoraInput, np.ndarray], bool]:
    def fits(example: LoraInput, got: np.ndarray) -> bool:
        x, W, A, B = example[:4]
        correct = ref.lora_forward(*example)
        return any(
            _gives(got, x @ W.T + s * x @ A.T @ B.T, correct) for s in _scales(example, missing)
        )

    return fits


def _merge_scaled(missing: bool) -> Callable[[LoraInput, np.ndarray], bool]:
    def fits(example: LoraInput, got: np.ndarray) -> bool:
        W, A, B = example[1:4]
        correct = ref.lora_merge(*example[1:])
        return any(_gives(got, W + s * B @ A, correct) for s in _scales(example, missing))

    return fits


def _transposed_update(example: LoraInput, got: np.ndarray) -> bool:
    """W + (alpha / r) * A.T @ B.T, the transpose of B A, as NumPy computes it (where it
    broadcasts, the result has the wrong shape)."""
    _, W, A, B, alpha, r = example
    return _gives(got, W + (alpha / r) * A.T @ B.T, ref.lora_merge(*example[1:]))


MISSING_SCALE = (
    "Your update has no scale: multiply it by alpha / r, h = x @ W.T + (alpha / r) * x @ A.T @ B.T."
)
WRONG_SCALE = (
    "Your update is scaled by alpha, r / alpha or alpha * r: the LoRA scale is alpha divided "
    "by the rank, alpha / r."
)
FORWARD_DIAGNOSES = (
    Diagnosis("missing scale", MISSING_SCALE, _forward_scaled(missing=True), LORA_SCALE),
    Diagnosis("wrong scale", WRONG_SCALE, _forward_scaled(missing=False), LORA_SCALE),
)
MERGE_DIAGNOSES = (
    Diagnosis(
        "transposed update",
        "You added A.T @ B.T, the transpose of the update (d_in, d_out): the merged weight is "
        "W + (alpha / r) * B @ A, B (d_out, r) on the left, so that it has W's shape.",
        _transposed_update,
        LORA_ORDER,
    ),
    Diagnosis(
        "missing scale",
        "Your merged weight is W + B @ A with no scale: merge W + (alpha / r) * B @ A.",
        _merge_scaled(missing=True),
        LORA_SCALE,
    ),
    Diagnosis("wrong scale", WRONG_SCALE, _merge_scaled(missing=False), LORA_SCALE),
)


# Properties -------------------------------------------------------------------------------------


def _forward(learner: Learner, example: LoraInput) -> np.ndarray:
    x, W = example[:2]
    return array(learner("lora_forward", *example), (len(x), len(W)), "lora_forward's output")


def _merged(learner: Learner, example: LoraInput) -> np.ndarray:
    W = example[1]
    return array(learner("lora_merge", *example[1:]), W.shape, "lora_merge's weight")


def zero_b_is_frozen(learner: Learner, example: LoraInput) -> None:
    x, W = example[:2]
    close(_forward(learner, example), x @ W.T, "with B = 0, lora_forward's output")


def forward_matches(learner: Learner, example: LoraInput) -> None:
    close(_forward(learner, example), ref.lora_forward(*example), "lora_forward's output")


def merge_matches(learner: Learner, example: LoraInput) -> None:
    close(_merged(learner, example), ref.lora_merge(*example[1:]), "lora_merge's weight")


def merge_same_output(learner: Learner, example: LoraInput) -> None:
    merged_output = example[0] @ _merged(learner, example).T
    output = _forward(learner, example)
    if not np.allclose(merged_output, output, atol=1e-6, rtol=1e-6):
        raise Mismatch(
            f"x @ lora_merge(...).T is {show(merged_output)}, but your lora_forward gives "
            f"{show(output)} on the same input",
            got=merged_output,
        )


CHECK = Check(
    28,
    "lora",
    "LoRA: a low-rank adapter and its merged weight",
    ("lora_forward", "lora_merge"),
    "lora_forward(x, W, A, B, alpha, r) -> h (n, d_out) = x @ W.T + (alpha / r) * x @ A.T @ B.T; "
    "lora_merge(W, A, B, alpha, r) -> merged weight W + (alpha / r) * B @ A, (d_out, d_in). "
    "Shapes as in nn.Linear and the LoRA paper: x (n, d_in), frozen W (d_out, d_in), "
    "A (r, d_in), B (d_out, r); alpha a float, r the rank (an int, A's number of rows).",
    (
        Property(
            "with B = 0 the output is the frozen layer's x @ W.T",
            lora_inputs(zero_b=True),
            zero_b_is_frozen,
            LORA_INIT,
            describe,
        ),
        Property(
            "forward is x @ W.T + (alpha / r) * x @ A.T @ B.T",
            lora_inputs(),
            forward_matches,
            LORA_DEF,
            describe,
            FORWARD_DIAGNOSES,
        ),
        Property(
            "merged weight is W + (alpha / r) * B @ A",
            lora_inputs(),
            merge_matches,
            LORA_MERGE,
            describe,
            MERGE_DIAGNOSES,
        ),
        Property(
            "the merged weight gives the adapter's output",
            lora_inputs(),
            merge_same_output,
            LORA_SAME,
            describe,
        ),
    ),
    reference=Path(ref.__file__),
)

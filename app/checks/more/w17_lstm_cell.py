"""Week 17: one forward step of an LSTM cell, from scratch.

The learner's new cell and hidden states are compared with the reference's, and tested on a
law of any LSTM: with the forget gate wide open and the input gate shut (biases +30 and -30),
the cell state passes through unchanged. The blocks of W and b are in the notes' order
(forget, input, output, candidate), acting on [h; x]; reading them in PyTorch's order
(i, f, g, o) is the common wrong answer, told apart here with the other bugs.
"""

from __future__ import annotations

import itertools
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
from app.checks.references import w17_lstm_cell as ref

Cell = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x, h, c, W, b
NAMES = ("x", "h", "c", "W", "b")
GATES = "fiog"
# Compared to 1e-3 (absolute and relative): the bugs are off by far more on most inputs, and a
# failure shrinks to one whose difference shows in three decimals.
TOLERANCE = 1e-3
# A diagnosis recomputes its bug exactly: a learner with that bug matches it to rounding.
FIT = 1e-6

CELL_UPDATE = Hint(
    "Forget part of the old cell and add the gated candidate: c_next = f * c + i * g, with "
    "f, i sigmoid gates and g = tanh of its block.",
    17,
    "LSTM gates",
    "c = f * c + i * g",
)
HIDDEN = Hint(
    "The output gate decides how much of the squashed cell is shown: h_next = o * np.tanh(c_next).",
    17,
    "LSTM gates",
    "h = o * torch.tanh(c)",
)
GATE_ORDER = Hint(
    "Split W @ [h; x] + b into four blocks of H in the order f, i, o, g.",
    17,
    "LSTM gates",
    "z.chunk(4)",
)
CONCATENATION = Hint(
    "The weights act on the previous hidden state first, then the input: np.concatenate([h, x]).",
    17,
    "LSTM gates",
    "torch.cat([h, x])",
)
SIGMOID = Hint(
    "The gates f, i and o use the sigmoid (between 0 and 1); only the candidate g and the "
    "cell's output use tanh.",
    17,
    "LSTM gates",
    "Sigmoid, not tanh",
)
CONVEYOR = Hint(
    "With f = 1 and i = 0 the cell state must come out as it went in: c_next = f * c + i * g.",
    17,
    "Cell state",
    "rides along unchanged",
)


@st.composite
def cells(draw: st.DrawFn, memory: bool = False) -> Cell:
    """x (D,), h (H,), c (H,), W (4H, H + D), b (4H,) with D = 1, H in 1..2, entries in
    [-1, 1]. The entries are drawn first, as one row, at the largest size and cut to the H
    drawn after them, so that a failure shrinks to a smaller cell as well as to small numbers,
    and quickly (each entry more is many more shrinking steps). With `memory`, the forget
    gate's biases are +30 (open) and the input gate's -30 (shut)."""
    row = draw(matrices(st.just(1), st.just(1 + 2 + 2 + 8 * 3 + 8), -1, 1))[0]
    x, h, c, W, b = np.split(row, [1, 3, 5, 29])
    n = draw(st.integers(1, 2))
    W = W.reshape(4, 2, 3)
    W = np.concatenate([W[:, :n, :n], W[:, :n, 2:]], axis=2).reshape(4 * n, n + 1)
    b = b.reshape(4, 2)[:, :n].copy()
    if memory:
        b[0], b[1] = 30.0, -30.0
    return x, h[:n], c[:n], W, b.ravel()


def _describe(example: Cell) -> str:
    """The example as keyword arguments the learner can paste into a call."""
    return ", ".join(f"{name}={show(value)}" for name, value in zip(NAMES, example, strict=True))


def _cell(
    example: Cell,
    order: str = GATES,
    input_first: bool = False,
    tanh_gates: str = "",
    output_gate: bool = True,
    cell_tanh: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(h_next, c_next) as the reference computes them, or as a bug does: the blocks read in
    `order` (the gate each block is taken for), W applied to [x; h] (`input_first`), tanh for
    the gates in `tanh_gates`, h_next without the output gate or without tanh on the cell."""
    x, h, c, W, b = example
    z = W @ np.concatenate([x, h] if input_first else [h, x]) + b
    blocks = dict(zip(order, np.split(z, 4), strict=True))
    act = {k: np.tanh(v) if k in tanh_gates + "g" else ref.sigmoid(v) for k, v in blocks.items()}
    c_next = act["f"] * c + act["i"] * act["g"]
    shown = np.tanh(c_next) if cell_tanh else c_next
    return (act["o"] * shown if output_gate else shown), c_next


def _fits(
    bug: Callable[[Cell], list[tuple[np.ndarray, np.ndarray]]],
) -> Callable[[Any, np.ndarray], bool]:
    """A diagnosis's test: `bug(example)` lists the (h_next, c_next) pairs the bug may give.
    `got` (h_next and c_next end to end) fits when, for one of them, each state is right or
    the bug's, and at least one is the bug's and wrong."""

    def fits(example: Cell, got: np.ndarray) -> bool:
        mine = np.split(got, 2)
        right = ref.lstm_cell(*example)
        for candidate in bug(example):
            same = [np.allclose(m, w, atol=FIT) for m, w in zip(mine, candidate, strict=True)]
            correct = [np.allclose(m, r, atol=FIT) for m, r in zip(mine, right, strict=True)]
            if all(s or k for s, k in zip(same, correct, strict=True)) and any(
                s and not k for s, k in zip(same, correct, strict=True)
            ):
                return True
        return False

    return fits


def _variants(*settings: dict[str, Any]) -> Callable[[Cell], list[tuple[np.ndarray, np.ndarray]]]:
    """The (h_next, c_next) pairs of `_cell` with each of `settings`: one bug's forms."""
    return lambda example: [_cell(example, **s) for s in settings]


DIAGNOSES = (
    Diagnosis(
        "gate order",
        "Your states are what the cell gives with W's blocks read in another order (PyTorch's "
        "nn.LSTM uses i, f, g, o). Here the rows of W and entries of b are, in blocks of H: "
        "forget f, input i, output o, candidate g - f, i, o, g = np.split(z, 4).",
        _fits(
            _variants(
                *({"order": "".join(p)} for p in itertools.permutations(GATES) if p != tuple(GATES))
            )
        ),
        GATE_ORDER,
    ),
    Diagnosis(
        "concatenation order",
        "Your states are what the cell gives with W applied to [x; h]. W's first H columns "
        "multiply the previous hidden state: z = W @ np.concatenate([h, x]) + b.",
        _fits(_variants({"input_first": True})),
        CONCATENATION,
    ),
    Diagnosis(
        "tanh gate",
        "Your states are what the cell gives with tanh in place of the sigmoid for a gate. "
        "The gates f, i and o are sigmoids, 1 / (1 + exp(-z)), between 0 and 1; only the "
        "candidate g takes tanh.",
        _fits(_variants(*({"tanh_gates": gates} for gates in ("f", "i", "o", "fio")))),
        SIGMOID,
    ),
    Diagnosis(
        "no output gate",
        "Your h_next is tanh(c_next) itself: multiply it by the output gate, h_next = o * "
        "np.tanh(c_next), o = sigmoid of the third block.",
        _fits(_variants({"output_gate": False})),
        HIDDEN,
    ),
    Diagnosis(
        "no tanh on the cell",
        "Your h_next is o * c_next: squash the cell state first, h_next = o * np.tanh(c_next).",
        _fits(_variants({"cell_tanh": False})),
        HIDDEN,
    ),
    Diagnosis(
        "states swapped",
        "Your result is (c_next, h_next): return the hidden state first, (h_next, c_next).",
        _fits(lambda example: [ref.lstm_cell(*example)[::-1]]),
        HIDDEN,
    ),
)


def _states(learner: Learner, example: Cell) -> tuple[np.ndarray, np.ndarray]:
    n = len(example[1])
    h_next, c_next = parts(learner("lstm_cell", *example), 2, "lstm_cell")
    return array(h_next, (n,), "h_next"), array(c_next, (n,), "c_next")


def _compare(actual: np.ndarray, expected: np.ndarray, what: str, got: np.ndarray) -> None:
    """`close`, with a Mismatch that carries both states (see `_fits`)."""
    try:
        close(actual, expected, what, TOLERANCE, TOLERANCE)
    except Mismatch as exc:
        raise Mismatch(str(exc), got=got) from None


def cell_matches(learner: Learner, example: Cell) -> None:
    h_next, c_next = _states(learner, example)
    _compare(c_next, ref.lstm_cell(*example)[1], "c_next", np.concatenate([h_next, c_next]))


def hidden_matches(learner: Learner, example: Cell) -> None:
    x, h, _, W, b = example
    h_next, c_next = _states(learner, example)
    o = ref.sigmoid(np.split(W @ np.concatenate([h, x]) + b, 4)[2])
    _compare(
        h_next,
        o * np.tanh(c_next),
        "h_next (o * tanh of your c_next)",
        np.concatenate([h_next, c_next]),
    )


def memory_kept(learner: Learner, example: Cell) -> None:
    h_next, c_next = _states(learner, example)
    _compare(
        c_next,
        example[2],
        "with the forget gate open and the input gate shut, c_next",
        np.concatenate([h_next, c_next]),
    )


CHECK = Check(
    17,
    "lstm_cell",
    "One step of an LSTM cell",
    ("lstm_cell",),
    "lstm_cell(x, h, c, W, b) -> (h_next, c_next): x (D,), h and c (H,) the previous hidden "
    "and cell states, W (4H, H + D) acting on np.concatenate([h, x]) (h first), b (4H,); "
    "z = W @ [h; x] + b is four blocks of H in the order forget f, input i, output o, "
    "candidate g (rows 0:H, H:2H, 2H:3H, 3H:4H); f, i, o are sigmoids, g a tanh; "
    "c_next = f * c + i * g and h_next = o * tanh(c_next), both (H,). Float arrays, no batch "
    "axis.",
    (
        Property(
            "c_next = f * c + i * g with sigmoid gates, blocks in the order f, i, o, g",
            cells(),
            cell_matches,
            CELL_UPDATE,
            _describe,
            DIAGNOSES,
        ),
        Property(
            "h_next = o * tanh(c_next), o the output gate",
            cells(),
            hidden_matches,
            HIDDEN,
            _describe,
            DIAGNOSES,
        ),
        Property(
            "an open forget gate and a shut input gate keep the cell state",
            cells(memory=True),
            memory_kept,
            CONVEYOR,
            _describe,
            DIAGNOSES,
        ),
    ),
    reference=Path(ref.__file__),
)

"""The vocabulary of checks: a property, its failure, and the learner's code as seen by one.

A property draws inputs with a Hypothesis strategy and calls the learner's code through a
`Learner`; it raises `Mismatch` with a sentence for the learner when the result is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app.checks.hints import Hint
from app.checks.sandbox import Sandbox
from app.checks.sandbox import SandboxFailure

REFERENCE = Path(__file__).with_name("reference.py")


class Mismatch(AssertionError):
    """The learner's result breaks a property; the message says how, in the learner's terms.
    `got`: the learner's array that broke it, when there is one (what a `Diagnosis` reads)."""

    def __init__(self, message: str, got: np.ndarray | None = None) -> None:
        super().__init__(message)
        self.got = got


class WrongInterface(Mismatch):
    """The result is not of the form the check's interface asks for (a tuple of the wrong
    length, an array of the wrong shape or type): every property would fail the same way, so
    the check says it once, with the interface, instead of giving a hint about the idea."""


@dataclass(frozen=True)
class Diagnosis:
    """A common wrong answer, told apart from the others by what it returns: `fits(example,
    got)` is true when `got` (the learner's array that broke the property) is what that bug
    gives on `example`. `says` tells the learner what their output looks like and what to
    change; `name` is the bug's short name (the evals' diagnosis column)."""

    name: str
    says: str
    fits: Callable[[Any, np.ndarray], bool]
    hint: Hint | None = None  # the notes' sentence on this bug (default: the property's)


@dataclass(frozen=True)
class Property:
    """One thing a correct implementation does (`name`), tested on inputs drawn by `inputs`
    by `test(learner, example)`; `hint` is shown when it fails, unless one of `diagnoses`
    fits the failure, whose words then replace the hint's advice."""

    name: str
    inputs: st.SearchStrategy[Any]
    test: Callable[[Learner, Any], None]
    hint: Hint
    describe: Callable[[Any], str] | None = None  # the failing input as the learner reads it
    diagnoses: tuple[Diagnosis, ...] = ()

    def diagnose(self, example: Any, got: np.ndarray | None) -> Diagnosis | None:
        """The first diagnosis that fits the failure (None when none does, or nothing came
        back to read)."""
        if got is None:
            return None
        for diagnosis in self.diagnoses:
            with np.errstate(all="ignore"):
                try:
                    if diagnosis.fits(example, got):
                        return diagnosis
                except (ValueError, IndexError, FloatingPointError):
                    continue  # e.g. shapes that the bug cannot give
        return None


@dataclass(frozen=True)
class Check:
    """A from-scratch assignment of week `week`: the names the learner's file must define, the
    interface in words (shown when a name is missing), and the properties."""

    week: int
    name: str
    title: str
    requires: tuple[str, ...]
    interface: str
    properties: tuple[Property, ...]
    reference: Path = REFERENCE  # the file holding the reference: it must pass, as a learner's


def _wire(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


WIRE_DTYPES = ("float64", "bool")  # what the child sends arrays as (child._encode)


def _unwire(value: Any) -> Any:
    """A reply's value as Python and NumPy values. An array must come as the child encodes
    one (a list, float64 or bool): anything else the learner's code forged into the reply is
    a WrongInterface, never an error in the tutor (an attack sent a 10-million-character
    string dtype, and the tutor grew to 18 GB)."""
    if isinstance(value, dict) and "__array__" in value:
        if set(value) != {"__array__", "dtype"} or value["dtype"] not in WIRE_DTYPES:
            raise WrongInterface("your function returned something that is not an array")
        try:
            return np.asarray(value["__array__"], dtype=value["dtype"])
        except (TypeError, ValueError, OverflowError):
            raise WrongInterface("your function returned an array of mixed shapes") from None
    if isinstance(value, list):
        return [_unwire(v) for v in value]
    if isinstance(value, dict) and "__type__" not in value:
        return {k: _unwire(v) for k, v in value.items()}
    return value


class Learner:
    """The learner's file, running in a sandbox. Calls return decoded results; an exception in
    the learner's code becomes a Mismatch naming it (and its line); a sandbox limit or crash
    is a SandboxFailure, which ends the check."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def request(self, request: dict[str, Any]) -> Any:
        reply = self.sandbox.call(_wire(request))
        if "ok" in reply:
            return _unwire(reply["ok"])
        if reply.get("kind") == "limit":
            raise SandboxFailure(
                self.sandbox._limit_kind(reply), f"the sandbox stopped your code: {reply['error']}"
            )
        raise Mismatch(f"your code raised {reply['error']}")

    def __call__(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        return self.request({"op": "call", "fn": fn, "args": list(args), "kwargs": kwargs})


def array(value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """`value` as a float array of `shape`, or a Mismatch saying what came back instead."""
    if isinstance(value, dict) and "__type__" in value:
        raise WrongInterface(f"{what} should be a NumPy array, got a {value['__type__']}")
    try:
        result = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise WrongInterface(f"{what} should be a NumPy array of numbers") from None
    if result.shape != shape:
        raise WrongInterface(f"{what} has shape {result.shape}, expected {shape}", got=result)
    if not np.isfinite(result).all():
        raise Mismatch(f"{what} contains NaN or infinity: {show(result)}", got=result)
    return result


def parts(value: Any, n: int, what: str) -> list[Any]:
    """A result that must be a tuple of `n` parts."""
    if not isinstance(value, list) or len(value) != n:
        raise WrongInterface(f"{what} should return a tuple of {n} values")
    return value


def close(
    actual: np.ndarray, expected: np.ndarray, what: str, atol: float = 1e-6, rtol: float = 1e-6
) -> None:
    """Mismatch unless `actual` equals `expected` within the tolerances, showing both."""
    if not np.allclose(actual, expected, atol=atol, rtol=rtol):
        raise Mismatch(f"{what} is {show(actual)}, expected {show(expected)}", got=actual)


def show(value: Any) -> str:
    """A short printable form of an array or number (3 significant digits)."""
    if isinstance(value, np.ndarray):
        return np.array2string(
            value, precision=3, suppress_small=True, separator=", ", max_line_width=200
        ).replace("\n", "")
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


def matrices(
    rows: st.SearchStrategy[int], cols: st.SearchStrategy[int], low: float = -5.0, high: float = 5.0
) -> st.SearchStrategy[np.ndarray]:
    """Float matrices with the drawn numbers of rows and columns, entries in [low, high] in
    steps of 0.01 (small examples read well when shown to the learner; integers shrink fast)."""
    values = st.integers(int(low * 100), int(high * 100)).map(lambda x: x / 100)
    return st.tuples(rows, cols).flatmap(lambda shape: arrays(np.float64, shape, elements=values))

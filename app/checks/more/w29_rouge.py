"""Week 29: ROUGE-N (clipped n-gram overlap) and ROUGE-L (longest common subsequence).

Candidates and references are 1-6 tokens over "the", "cat", "sat", "mat", so that tokens
repeat (what clipping is about) and common subsequences differ from common substrings.
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
from app.checks.properties import parts
from app.checks.properties import show
from app.checks.references import w29_rouge as ref

WORDS = ("the", "cat", "sat", "mat")

Tokens = list[str]
Example = tuple[Tokens, Tokens, int]  # candidate, reference, n
Pair = tuple[Tokens, Tokens]  # candidate, reference
Scores = tuple[float, float, float]

CLIPPED = Hint(
    "Count each n-gram at most as often as it occurs in the other text: overlap = sum over "
    "n-grams g of min(count in candidate, count in reference).",
    29,
    "ROUGE",
    "\\min(c_",
)
SIDES = Hint(
    "Precision divides the overlap by the candidate's n-grams (or length), recall by the "
    "reference's; F1 = 2PR / (P + R).",
    29,
    "ROUGE",
    "precision divides by candidate n-grams",
)
SYMMETRIC = Hint(
    "The overlap must not depend on which text is the candidate: the sum of min(count in "
    "candidate, count in reference) is the same both ways; only the denominators swap.",
    29,
    "ROUGE",
    "precision divides by candidate n-grams",
)
SUBSEQUENCE = Hint(
    "ROUGE-L's overlap is the longest common subsequence: in order, but gaps allowed "
    "(dynamic programming over both lists), not the longest common contiguous run.",
    29,
    "ROUGE",
    "longest common subsequence",
)

tokens = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6)
with_n = st.tuples(tokens, tokens, st.integers(1, 3))


def describe(example: Example) -> str:
    candidate, reference, n = example
    return f"candidate={candidate!r}, reference={reference!r}, n={n}"


def describe_pair(example: Pair) -> str:
    candidate, reference = example
    return f"candidate={candidate!r}, reference={reference!r}"


# What the common bugs return ------------------------------------------------------------------


def _scores(overlap: float, n_candidate: int, n_reference: int) -> Scores:
    p = overlap / n_candidate if n_candidate else 0.0
    r = overlap / n_reference if n_reference else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def _ngrams(tokens: Tokens, n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _unclipped(example: Example) -> list[Scores]:
    """Overlap as the n-grams of one side found anywhere in the other, each occurrence
    counted (from the candidate's side, or from the reference's)."""
    candidate, reference, n = example
    cand, refs = _ngrams(candidate, n), _ngrams(reference, n)
    return [
        _scores(sum(g in refs for g in cand), len(cand), len(refs)),
        _scores(sum(g in cand for g in refs), len(cand), len(refs)),
    ]


def _swapped_n(example: Example) -> list[Scores]:
    p, r, f1 = ref.rouge_n(*example)
    return [(r, p, f1)]


def _longest_run(a: Tokens, b: Tokens) -> int:
    """The longest common substring (contiguous run) of two lists."""
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else 0)
        best = max(best, *current)
        previous = current
    return best


def _substring(example: Pair) -> list[Scores]:
    candidate, reference = example
    return [_scores(_longest_run(candidate, reference), len(candidate), len(reference))]


def _swapped_l(example: Pair) -> list[Scores]:
    p, r, f1 = ref.rouge_l(*example)
    return [(r, p, f1)]


def _fits(
    wrong: Callable[[Any], list[Scores]], right: Callable[..., Scores]
) -> Callable[[Any, np.ndarray], bool]:
    """Whether `got` is one of `wrong`'s scores on the example, where they differ from the
    reference's (`right` called with the example's parts)."""

    def fits(example: Any, got: np.ndarray) -> bool:
        expected = np.array(right(*example))
        return any(not np.allclose(w, expected) and np.allclose(got, w) for w in wrong(example))

    return fits


ROUGE_N_DIAGNOSES = (
    Diagnosis(
        "no clipping",
        "Your overlap counts every n-gram of one side that occurs anywhere in the other, so a "
        "repeated n-gram matches more often than the other side holds it: clip each n-gram's "
        "count, overlap = sum(min(cand[g], ref[g])) (Counter(cand) & Counter(ref)).",
        _fits(_unclipped, ref.rouge_n),
        CLIPPED,
    ),
    Diagnosis(
        "precision and recall swapped",
        "Your precision and recall are swapped: precision divides the overlap by the "
        "candidate's n-grams, recall by the reference's.",
        _fits(_swapped_n, ref.rouge_n),
        SIDES,
    ),
)
ROUGE_L_DIAGNOSES = (
    Diagnosis(
        "longest common substring",
        "Your ROUGE-L uses the longest common contiguous run (substring): use the longest "
        "common subsequence, which may skip tokens - L[i][j] = L[i-1][j-1] + 1 on a match, "
        "else max(L[i-1][j], L[i][j-1]).",
        _fits(_substring, ref.rouge_l),
        SUBSEQUENCE,
    ),
    Diagnosis(
        "precision and recall swapped",
        "Your precision and recall are swapped: precision = LCS / len(candidate), recall = "
        "LCS / len(reference).",
        _fits(_swapped_l, ref.rouge_l),
        SIDES,
    ),
)


# Properties -------------------------------------------------------------------------------------


def _triple(value: Any, what: str) -> np.ndarray:
    """(precision, recall, f1) from a tuple, a list or a (3,) array."""
    if not isinstance(value, np.ndarray):
        value = parts(value, 3, what)
    return array(value, (3,), f"{what}'s (precision, recall, f1)")


def rouge_n_matches(learner: Learner, example: Example) -> None:
    got = _triple(learner("rouge_n", *example), "rouge_n")
    close(got, np.array(ref.rouge_n(*example)), f"rouge_n(candidate, reference, {example[2]})")


def rouge_l_matches(learner: Learner, example: Pair) -> None:
    candidate, reference = example
    got = _triple(learner("rouge_l", candidate, reference), "rouge_l")
    close(got, np.array(ref.rouge_l(candidate, reference)), "rouge_l(candidate, reference)")


def swap_symmetry(learner: Learner, example: Example) -> None:
    candidate, reference, n = example
    for fn, extra in (("rouge_n", (n,)), ("rouge_l", ())):
        there = _triple(learner(fn, candidate, reference, *extra), fn)
        back = _triple(learner(fn, reference, candidate, *extra), fn)
        if not np.allclose(back, there[[1, 0, 2]]):
            tail = f", {n}" if extra else ""
            raise Mismatch(
                f"{fn}(candidate, reference{tail}) is {show(there)} but {fn}(reference, "
                f"candidate{tail}) is {show(back)}: swapping the two should swap precision "
                "and recall and keep F1"
            )


CHECK = Check(
    29,
    "rouge",
    "ROUGE-N and ROUGE-L from scratch",
    ("rouge_n", "rouge_l"),
    "rouge_n(candidate, reference, n) -> (precision, recall, f1) and rouge_l(candidate, "
    "reference) -> (precision, recall, f1), floats; candidate and reference are lists of "
    "token strings. ROUGE-N: overlap = sum over n-grams g of min(count in candidate, count in "
    "reference); precision = overlap / the candidate's n-grams, recall = overlap / the "
    "reference's. ROUGE-L: precision = LCS / len(candidate), recall = LCS / len(reference), "
    "LCS = the length of the longest common subsequence (in order, gaps allowed). f1 = "
    "2PR / (P + R); a score whose denominator is 0 is 0.",
    (
        Property(
            "ROUGE-N counts clipped n-gram matches",
            with_n,
            rouge_n_matches,
            CLIPPED,
            describe,
            ROUGE_N_DIAGNOSES,
        ),
        Property(
            "ROUGE-L uses the longest common subsequence",
            st.tuples(tokens, tokens),
            rouge_l_matches,
            SUBSEQUENCE,
            describe_pair,
            ROUGE_L_DIAGNOSES,
        ),
        Property(
            "swapping candidate and reference swaps precision and recall",
            with_n,
            swap_symmetry,
            SYMMETRIC,
            describe,
        ),
    ),
    reference=Path(ref.__file__),
)

"""Week 21: learning byte-pair-encoding (BPE) merges from word counts.

Inputs are 1-4 words over the letters "a", "b", "c" (so that pairs repeat, overlap and tie)
with counts 1-4, and 1-4 merges to learn; one property uses a family of words built so that
a later merge's pair also occurs across the boundary of an earlier merged symbol. The learner's merges come back as a list of pairs;
a failing list travels to the diagnoses as an object array of shape (k, 2).
"""

from __future__ import annotations

from collections import Counter
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
from app.checks.properties import WrongInterface
from app.checks.references import w21_bpe as ref

Pair = tuple[str, str]
Example = tuple[dict[str, int], int]  # words -> counts, n_merges

MOST_FREQUENT = Hint(
    "Each step: count every adjacent pair of symbols in every word, weighted by the word's "
    "count, and merge the most frequent pair (the smallest pair on a tie).",
    21,
    "Subword tokenization",
    "repeatedly merges the most frequent adjacent pair",
)
WEIGHTED = Hint(
    'A word seen c times contributes c to each of its pairs: "low low lower" holds (l, o) 3 times.',
    21,
    "Subword tokenization",
    "each occur 3 times",
)
TIES = Hint(
    "On a tie, take the smallest (first, second) pair as Python orders tuples of strings, "
    "e.g. min(pairs, key=lambda p: (-pairs[p], p)).",
    21,
    "Subword tokenization",
    "ties are broken by a fixed rule",
)
SYMBOLS = Hint(
    "Keep each word as a list of symbols and merge only whole adjacent symbols, left to "
    "right: a merge joins two symbols that exist at that step.",
    21,
    "Subword tokenization",
    "adjacent pair of symbols until",
)


@st.composite
def word_counts(draw: st.DrawFn) -> Example:
    """1-4 distinct words of 1-5 letters from "abc", each with a count of 1-4; 1-4 merges."""
    words = draw(
        st.dictionaries(
            st.text(alphabet="abc", min_size=1, max_size=5),
            st.integers(1, 4),
            min_size=1,
            max_size=4,
        )
    )
    return words, draw(st.integers(1, 4))


@st.composite
def nested_merges(draw: st.DrawFn) -> Example:
    """{xx: k1, xxy: k2, xy: k3} for two letters x, y with k1 > k3 >= k2 and 3-4 merges:
    (x, x) is merged first, then (x, y), which must not join the end of "xx" to y, then
    (xx, y)."""
    x, y = draw(st.permutations("abc"))[:2]
    k2 = draw(st.integers(1, 3))
    k3 = draw(st.integers(k2, 3))
    k1 = draw(st.integers(k3 + 1, 4))
    return {x + x: k1, x + x + y: k2, x + y: k3}, draw(st.integers(3, 4))


def describe(example: Example) -> str:
    words, n_merges = example
    return f"words={words!r}, n_merges={n_merges}"


# How the merges are learned, right and wrong ------------------------------------------------


def _merge_text(symbols: list[str], pair: Pair) -> list[str]:
    """The str.replace bug: "a b" is replaced inside the space-joined symbols, so "xa b"
    joins too, merging the end of a longer symbol."""
    return " ".join(symbols).replace(f"{pair[0]} {pair[1]}", pair[0] + pair[1]).split(" ")


def _learn(
    words: dict[str, int],
    n_merges: int,
    weighted: bool = True,
    once_per_word: bool = False,
    first_seen: bool = False,
    merge: Callable[[list[str], Pair], list[str]] = ref.merge_pair,
) -> list[Pair]:
    """BPE merges as the reference learns them, or as a bug does: counts without the words'
    frequencies, a pair counted once per word, ties to the first pair seen (max(pairs,
    key=pairs.get)), or another way of merging."""
    segmented = {word: list(word) for word in words}
    merges: list[Pair] = []
    for _ in range(n_merges):
        pairs: Counter[Pair] = Counter()
        for word, symbols in segmented.items():
            found = list(zip(symbols, symbols[1:]))
            for pair in dict.fromkeys(found) if once_per_word else found:
                pairs[pair] += words[word] if weighted else 1
        if not pairs:
            break
        best = (
            max(pairs, key=lambda p: pairs[p])
            if first_seen
            else min(pairs, key=lambda p: (-pairs[p], p))
        )
        merges.append(best)
        segmented = {word: merge(symbols, best) for word, symbols in segmented.items()}
    return merges


def _fits(**bug: Any) -> Callable[[Example, np.ndarray], bool]:
    """Whether the learner's merges (an object array (k, 2)) are what `bug` learns, and not
    what the reference learns."""

    def fits(example: Example, got: np.ndarray) -> bool:
        merges = [(str(a), str(b)) for a, b in got.tolist()]
        wrong = _learn(*example, **bug)
        return merges == wrong and wrong != _learn(*example)

    return fits


DIAGNOSES = (
    Diagnosis(
        "unweighted counts",
        "Your merges are the ones learned when every word counts once: add the word's "
        "count (words[word]) to each of its pairs, not 1.",
        _fits(weighted=False),
        WEIGHTED,
    ),
    Diagnosis(
        "pairs counted once per word",
        'Your counts see a pair once per word even where it occurs twice (e.g. in "aaa" '
        'or "abab"): count every adjacent position, times the word\'s count.',
        _fits(once_per_word=True),
        MOST_FREQUENT,
    ),
    Diagnosis(
        "first-seen tie-break",
        "Your merges break ties by the pair seen first (max(pairs, key=pairs.get)): among "
        "the most frequent pairs take the smallest (first, second) pair.",
        _fits(first_seen=True),
        TIES,
    ),
    Diagnosis(
        "merged inside symbols",
        'Your merges join parts of longer symbols: replacing "a b" in the space-joined '
        'word also joins "xa b". Merge whole adjacent symbols of the list, left to right.',
        _fits(merge=_merge_text),
        SYMBOLS,
    ),
)


# Properties -------------------------------------------------------------------------------------


def _merges(learner: Learner, example: Example) -> list[Pair]:
    got = learner("bpe_merges", *example)
    if not isinstance(got, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in got
    ):
        raise WrongInterface("bpe_merges should return a list of (first, second) string pairs")
    return [(a, b) for a, b in got]


def _as_array(merges: list[Pair]) -> np.ndarray:
    """The merges as an object array (k, 2): what a Diagnosis reads."""
    out = np.empty((len(merges), 2), dtype=object)
    for i, pair in enumerate(merges):
        out[i] = pair
    return out


def first_merge(learner: Learner, example: Example) -> None:
    got = _merges(learner, example)
    expected = ref.bpe_merges(*example)[:1]
    if got[:1] != expected:
        raise Mismatch(
            f"your first merge is {got[:1]!r}, expected {expected!r} (the most frequent "
            "adjacent pair, each word's pairs counted times its count)",
            got=_as_array(got),
        )


def merges_match(learner: Learner, example: Example) -> None:
    got = _merges(learner, example)
    expected = ref.bpe_merges(*example)
    if got != expected:
        raise Mismatch(f"your merges are {got!r}, expected {expected!r}", got=_as_array(got))


def merges_exist(learner: Learner, example: Example) -> None:
    words, n_merges = example
    got = _merges(learner, example)
    symbols = {c for word in words for c in word}
    for step, (a, b) in enumerate(got, 1):
        if a not in symbols or b not in symbols:
            raise Mismatch(
                f"merge {step}, {(a, b)!r}, joins {a if a not in symbols else b!r}, which is "
                f"neither a character of the words nor an earlier merge's result",
                got=_as_array(got),
            )
        symbols.add(a + b)
    if len(got) > n_merges or len(set(got)) < len(got):
        raise Mismatch(
            f"you returned {len(got)} merges {got!r} for n_merges={n_merges}: at most "
            "n_merges, each pair once",
            got=_as_array(got),
        )


CHECK = Check(
    21,
    "bpe",
    "Byte-pair encoding (BPE) merges from scratch",
    ("bpe_merges",),
    "bpe_merges(words, n_merges) -> list of (first, second) string pairs, in the order "
    "learned: words is a dict word -> count (>= 1); each word starts as its characters (no "
    "end-of-word marker); a pair's frequency is the sum over words of count * the number of "
    "adjacent positions holding it (overlaps count: \"aaa\" holds ('a', 'a') twice); each "
    "step merges the most frequent pair, ties going to the smallest (first, second) tuple, "
    'joining its occurrences in every word left to right without overlap ("aaa" -> '
    "'aa', 'a'); stop early when no word has two symbols left.",
    (
        Property(
            "the first merge is the most frequent pair, counted with word frequencies",
            word_counts(),
            first_merge,
            MOST_FREQUENT,
            describe,
            DIAGNOSES,
        ),
        Property(
            "each merge joins symbols that exist at that step",
            word_counts(),
            merges_exist,
            SYMBOLS,
            describe,
            DIAGNOSES,
        ),
        Property(
            "all merges match, in order (ties to the smallest pair)",
            word_counts(),
            merges_match,
            TIES,
            describe,
            DIAGNOSES,
        ),
        Property(
            "a merge never joins part of a symbol made by an earlier merge",
            nested_merges(),
            merges_match,
            SYMBOLS,
            describe,
            DIAGNOSES,
        ),
    ),
    reference=Path(ref.__file__),
)

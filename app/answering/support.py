"""Does a passage say what a model's sentence says? Judged by more than shared words.

Word overlap passes "the score is maximized when we divide by sqrt(2)" against a passage on
dividing by sqrt(d_k): the words are there, the claim is not. A sentence a model wrote is kept
only when all of these hold against one window of one or two consecutive source sentences:
- meaning: the sentence embeddings agree (cosine >= `MIN_AGREEMENT`);
- words: most of its content words are in the passage (`app.answering.citations.support`);
- numbers and formulas: every number and every inline formula it states is in the passage,
  and a number said in words ("biased toward one") is in the windows closest to it in meaning;
- negation: it negates exactly when the source window does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.answering.citations import strip_markers
from app.answering.citations import support
from app.answering.passages import statements

Embed = Callable[[list[str]], np.ndarray]
MIN_AGREEMENT = 0.7  # cosine of all-MiniLM-L6-v2 between a sentence and its source window
MIN_WORDS = 0.5  # share of content words the passage must contain
NEAR_AGREEMENT = 0.1  # windows this close to the best one say the same thing (for numbers)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w])")
_INLINE_MATH = re.compile(r"\$([^$\n]+)\$")
_NEGATION = re.compile(r"\b(not|no|never|none|neither|nor|cannot|without)\b|n't\b", re.I)


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
# A spelled number, not inside a compound ("one-hot", "zero-shot" are names, not counts)
_NUMBER_WORD = re.compile(
    r"(\w+\s+)?(?<![\w-])(" + "|".join(_WORDS) + r")(?![\w-])"
    r"(\s+(?:of|another)\b)?",
    re.I,
)
# "the one that", "each one", "no one", "one of them", "one another": a pronoun, not a count
_PRONOUN_BEFORE = {"the", "each", "any", "no", "which", "every", "this", "that", "someone"}


def _prose(text: str) -> str:
    """The text without its inline formulas (the 1 of $1 - \\beta^t$ is no count)."""
    return _INLINE_MATH.sub(" ", text)


def spelled_numbers(text: str) -> set[str]:
    """The numbers a text says in words (zero to twelve) and in digits, as digits: what a
    claim's "toward one" must find in its source's "toward zero" to agree."""
    found = set()
    for before, word, after in _NUMBER_WORD.findall(text):
        if word.lower() == "one" and (before.strip().lower() in _PRONOUN_BEFORE or after):
            continue
        found.add(str(_WORDS.index(word.lower())))
    return found


def formulas(text: str) -> set[str]:
    return {re.sub(r"\s+", "", f) for f in _INLINE_MATH.findall(text)}


def negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


@dataclass(frozen=True)
class Verdict:
    supported: bool
    passage: int  # 0-based index of the passage whose window agrees best (-1: none)
    agreement: float
    reason: str  # why not, in words ("" when supported)


def windows(passage: str) -> list[str]:
    """Each sentence of the passage's prose and each pair of consecutive sentences."""
    sentences = statements(passage)
    return sentences + [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]


def check(sentence: str, passages: list[str], embed: Embed) -> Verdict:
    """Whether some passage supports `sentence` on meaning, words, numbers and negation."""
    claim = strip_markers(sentence)
    pool = [(i, w) for i, p in enumerate(passages) for w in windows(p)]
    if not pool:
        return Verdict(False, -1, 0.0, "no source text")
    vectors = embed([claim] + [w for _, w in pool])
    agreement = vectors[1:] @ vectors[0]
    best = int(np.argmax(agreement))
    passage, window = pool[best]
    if agreement[best] < MIN_AGREEMENT:
        return Verdict(False, passage, float(agreement[best]), "no source sentence says this")
    source = passages[passage]
    if support(claim, source) < MIN_WORDS:
        return Verdict(False, passage, float(agreement[best]), "its words are not the source's")
    agreeing = " ".join(
        w
        for (i, w), a in zip(pool, agreement, strict=True)
        if i == passage and a >= agreement[best] - NEAR_AGREEMENT
    )
    if not numbers(claim) <= numbers(source) or not (
        spelled_numbers(claim) <= spelled_numbers(agreeing) | numbers(_prose(agreeing))
    ):
        return Verdict(False, passage, float(agreement[best]), "a number the source does not give")
    if not formulas(claim) <= formulas(source):
        return Verdict(False, passage, float(agreement[best]), "a formula the source does not give")
    if negated(claim) != negated(window):
        return Verdict(False, passage, float(agreement[best]), "it negates what the source says")
    return Verdict(True, passage, float(agreement[best]), "")

"""Citation markers in answers: finding, stripping and checking them against passages.

The local 135M model cites unreliably and sometimes drifts from its sources; these functions
let the pipeline keep only what the sources support and cite it correctly whatever the model did.
"""

from __future__ import annotations

import re

from app.text import MATH_OR_CODE
from app.text import content_words
from app.text import outside

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
# The source's own reference numbers: [2], [12], [1, 3], [2-4], [2–4]; never ours to show.
_SOURCE_REFERENCE = re.compile(r"\s*\[\d+(?:\s*(?:[,;]|[-–])\s*\d+)*\]")


def markers(sentence: str) -> list[int]:
    outside = MATH_OR_CODE.sub(" ", sentence)
    return [int(n) for group in _MARKER.findall(outside) for n in group.split(",")]


def _outside_math_and_code(pattern: re.Pattern[str], text: str) -> str:
    """`text` with `pattern` removed everywhere but inside formulas and inline code."""
    return outside(MATH_OR_CODE, lambda prose: pattern.sub("", prose), text)


def strip_markers(text: str) -> str:
    """The text without citation markers; math and code are left as they are."""
    return _outside_math_and_code(_MARKER, text).strip()


def without_source_references(text: str) -> str:
    """The text without the source's own bracketed reference numbers ([2], [1, 3], [2-4]), so
    they are never taken for the tutor's markers; `$[0,1]$` and `` `x[0]` `` stay."""
    return _outside_math_and_code(_SOURCE_REFERENCE, text)


def support(sentence: str, passage: str) -> float:
    """Share of the sentence's content words that the passage contains (0 when it has none)."""
    words = content_words(strip_markers(sentence))
    return len(words & content_words(passage)) / len(words) if words else 0.0

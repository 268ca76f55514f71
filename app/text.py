"""Text as the tutor reads it: sentences, content words, the identity of a phrase, and
numbers in words. Shared by answers, quizzes, search and checks, so that they all agree on what
a sentence or a word is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A sentence ends at . ! or ? followed by space and a capital, digit, quote, bracket or formula,
# at a line break, or after a display formula (hidden as \x01n\x01 while splitting).
# Abbreviations end in a full stop but not a sentence ("Bengio et al. (2003) showed…").
_ABBREVIATIONS = "".join(
    rf"(?<!\b{a})"
    for a in (r"et al\.", r"e\.g\.", r"i\.e\.", r"vs\.", r"cf\.", r"Fig\.", r"Eq\.", r"approx\.")
)
_SENTENCE = re.compile(
    rf"(?<=[.!?]){_ABBREVIATIONS}\s+(?=[A-Z0-9\"'(\[*`$\x00\x01])|\n+"
    r"|(?<=\x01)\s+(?=[A-Z])|(?<=\x01[.,;])\s+(?=[A-Z])"
)
# `$[0,1]$` and `` `out[0]` `` are an interval and an index, not citation markers.
MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]+`", re.S)
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "so",
        "than",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "not",
        "no",
        "also",
        "more",
        "most",
        "such",
        "each",
        "other",
    ]
)


def split_sentences(text: str) -> list[str]:
    """Sentences and lines of `text`; never splits inside `$...$`, `$$...$$` or inline code.
    (Formulas are hidden behind \\x00 / \\x01 markers while splitting: those two control
    characters are dropped from the text first.)"""
    protected: list[str] = []

    def hide(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        mark = "\x01" if match.group(0).startswith("$$") else "\x00"
        return f"{mark}{len(protected) - 1}{mark}"

    hidden = MATH_OR_CODE.sub(hide, text.replace("\x00", "").replace("\x01", ""))
    restore = re.compile(r"[\x00\x01](\d+)[\x00\x01]")
    return [
        restore.sub(lambda m: protected[int(m.group(1))], s).strip()
        for s in _SENTENCE.split(hidden)
        if s and s.strip()
    ]


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS}


def normalized(text: str) -> str:
    """Lower-case words and numbers only: how two prompts, answers or sentences are compared."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def counted(n: int, noun: str, plural: str = "") -> str:
    """`n` and the noun, plural unless `n` is 1 (or -1): counted(1, "day") is "1 day",
    counted(3, "week") "3 weeks". `plural` for a noun that takes more than an "s"."""
    return f"{n} {noun if abs(n) == 1 else plural or noun + 's'}"


def outside(protected: re.Pattern[str], transform: Callable[[str], str], text: str) -> str:
    """`text` with `transform` applied to every stretch between matches of `protected`
    (formulas, code), which are kept byte for byte."""
    parts, last = [], 0
    for kept in protected.finditer(text):
        parts += [transform(text[last : kept.start()]), kept.group(0)]
        last = kept.end()
    parts.append(transform(text[last:]))
    return "".join(parts)

"""Text as a reader sees it: what ingest indexes and what a query is matched as, so a question
and its passage meet whatever the file did to the letters.

Typeset PDFs draw "fi" and "fl" as one ligature glyph (U+FB01 "ﬁ"), web pages hide soft
hyphens and zero-width spaces inside words, and justified text splits "regulariza-" / "tion"
at a line end (`../shared/cases/20-pdf-ligatures-and-hyphens`). A reader sees "fi",
"overfitting" and "regularization"; search saw other strings. `as_read` undoes exactly that:

- compatibility forms that keep their meaning become the letters they stand for (Unicode
  NFKC, but only for ligatures, font variants, full-width letters and digits, half-width
  forms and no-break spaces: "x²", "½" and "①" keep their meaning only as written, and a
  full-width comma is how Chinese is punctuated, so they stay);
- invisible format characters (Unicode category Cf: soft hyphens, zero-width spaces and
  joiners, bidirectional controls, byte-order marks) are removed;
- a word hyphenated at a line end is joined where the joined word is a word (pyspellchecker's
  English dictionary, or the document's own words), and keeps its hyphen where both halves are
  words and the joined one is not ("well-known").

Formulas and code (`$...$`, `$$...$$`, inline code and fenced blocks) are kept byte for byte:
a backslash, a prime or a Unicode symbol there is meaning, not typesetting.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Set

from app.text import outside

# Decomposition tags (Unicode's UnicodeData.txt) of forms that read as the plain letters:
# "<compat>" covers the Latin ligatures; "<super>", "<sub>", "<fraction>", "<circle>" and
# "<square>" change what a character means, so they are not here.
_SAME_MEANING = frozenset(
    [
        "<compat>",
        "<font>",
        "<noBreak>",
        "<wide>",
        "<narrow>",
        "<initial>",
        "<medial>",
        "<final>",
        "<isolated>",
        "<small>",
        "<vertical>",
    ]
)
_FORMULA_OR_CODE = re.compile(
    r"^(?P<fence>```|~~~).*?^(?P=fence)[^\n]*$|\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]+`", re.M | re.S
)
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
_LINE_END_HYPHEN = re.compile(r"([^\W\d_]+)-\n[ \t]*([a-z][^\W\d_]*)")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def as_read(text: str) -> str:
    """`text` as a reader sees it (see the module's docstring); idempotent, and the identity
    on plain ASCII prose without line-end hyphens."""
    return outside(_FORMULA_OR_CODE, _readable, text)


def _readable(stretch: str) -> str:
    if not stretch.isascii():
        stretch = _NOT_ASCII.sub(lambda m: _as_letters(m.group()), stretch)
    if "-\n" in stretch:
        stretch = _join_hyphenated(stretch)
    return stretch


@functools.cache
def _as_letters(char: str) -> str:
    """One non-ASCII character as read: "" for an invisible format character, its NFKC form
    for a compatibility form of the same meaning, else itself."""
    if unicodedata.category(char) == "Cf":
        return ""
    tag = unicodedata.decomposition(char).split(" ", 1)[0]
    if tag not in _SAME_MEANING:
        return char
    letters = unicodedata.normalize("NFKC", char)
    if tag == "<wide>" and not letters.isalnum():
        return char  # a full-width comma or stop is how Chinese and Japanese are written
    return letters


def _join_hyphenated(stretch: str) -> str:
    """Words split at a line end ("regulariza-\\ntion") joined into one line."""
    seen = {w.lower() for w in _WORD.findall(stretch)}

    def join(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        joined = (head + tail).lower()
        if joined in seen or is_word(joined):
            return head + tail
        if f"{head}-{tail}".lower() in seen or (is_word(head) and is_word(tail)):
            return f"{head}-{tail}"
        return head + tail  # a typesetter's split of a word the dictionary lacks

    return _LINE_END_HYPHEN.sub(join, stretch)


def is_word(word: str) -> bool:
    """Whether `word` (lower case) is in the English dictionary."""
    return word in _dictionary()


@functools.cache
def _dictionary() -> Set[str]:
    """pyspellchecker's English word list (packaged with it; loaded on first use, 0.2 s)."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.keys())

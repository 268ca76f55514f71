"""Pure checks on answers and passages: citation markers, support, injected instructions.

The local 135M model cites unreliably and sometimes drifts from its sources; these functions
let the pipeline keep only what the sources support and cite it correctly whatever the model did.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
# A sentence ends at . ! or ? followed by space and a capital, digit, quote, bracket or formula,
# at a line break, or after a display formula (hidden as \x01n\x01 while splitting).
# Abbreviations end in a full stop but not a sentence ("Bengio et al. (2003) showed…").
_ABBREVIATIONS = "".join(rf"(?<!\b{a})" for a in (r"et al\.", r"e\.g\.", r"i\.e\.", r"vs\.",
                                                    r"cf\.", r"Fig\.", r"Eq\.", r"approx\."))
_SENTENCE = re.compile(rf"(?<=[.!?]){_ABBREVIATIONS}\s+(?=[A-Z0-9\"'(\[*`$\x00\x01])|\n+"
                       r"|(?<=\x01)\s+(?=[A-Z])|(?<=\x01[.,;])\s+(?=[A-Z])")
# The source's own reference numbers: [2], [12], [1, 3], [2-4], [2–4]; never ours to show.
_SOURCE_REFERENCE = re.compile(r"\s*\[\d+(?:\s*(?:[,;]|[-–])\s*\d+)*\]")
# `$[0,1]$` and `` `out[0]` `` are an interval and an index, not citation markers.
_MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]+`", re.S)
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be been but by can do does for from has have how i if in into is it its "
    "of on or so than that the their then there these they this to was we what when where which "
    "while who why will with you your not no also more most such each other".split()
)
_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(the\s+|your\s+)?"
    r"(previous|prior|above|earlier|preceding|system)\s+(instructions?|prompts?|rules?|messages?)"
    r"|\b(disregard|ignore|forget)\s+your\s+(rules|instructions)"
    r"|\byou are now\b|\bnew instructions?\s*:|\b(system|developer)\s+(override|mode)\b"
    r"|\b(reveal|print|repeat|show|output|translate|read|list)\b[^.?!]{0,40}\byour\s+(\w+\s+){0,2}"
    r"(prompt|instructions|configuration)\b"
    r"|\binstructions\s+(were\s+you|you\s+were)\s+given\b"
    r"|\b(repeat|print|output)\b[^.?!]{0,30}\b(text|everything|words)\s+above\b"
    r"|\bnote to the (assistant|ai|model)\b|\b(respond|reply|answer)\s+only\s+with\b"
    r"|\b(end|start|begin|finish)\s+(your|every|each)\s+(reply|answer|response)s?\s+with\b"
    r"|\bappend\b[^.?!]{0,60}\bto the end of (every|each|your)\b",
    re.I,
)
# Requests to build tools that harm others: declined whatever the course covers (week 43
# teaches how attacks on models work, not how to write them).
_HARMFUL = re.compile(
    r"\b(write|build|make|create|code|give me|generate)\b[^.?!]{0,40}"
    r"\b(keylogger|ransomware|malware|spyware|botnet|rootkit|credential stealer)s?\b",
    re.I,
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

    hidden = _MATH_OR_CODE.sub(hide, text.replace("\x00", "").replace("\x01", ""))
    restore = re.compile(r"[\x00\x01](\d+)[\x00\x01]")
    return [restore.sub(lambda m: protected[int(m.group(1))], s).strip()
            for s in _SENTENCE.split(hidden) if s and s.strip()]


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS}




def markers(sentence: str) -> list[int]:
    outside = _MATH_OR_CODE.sub(" ", sentence)
    return [int(n) for group in _MARKER.findall(outside) for n in group.split(",")]


def _outside_math_and_code(pattern: re.Pattern[str], text: str) -> str:
    """`text` with `pattern` removed everywhere but inside formulas and inline code."""
    parts, last = [], 0
    for protected in _MATH_OR_CODE.finditer(text):
        parts += [pattern.sub("", text[last:protected.start()]), protected.group(0)]
        last = protected.end()
    parts.append(pattern.sub("", text[last:]))
    return "".join(parts)


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


def redact_instructions(text: str) -> tuple[str, bool]:
    """Remove sentences of a passage that try to instruct the model (prompt injection)."""
    if not _INJECTION.search(text):
        return text, False
    sentences = split_sentences(text)
    clean = [s for s in sentences if not _INJECTION.search(s)]
    return ("\n".join(clean), len(clean) != len(sentences))


def looks_like_injection(text: str) -> bool:
    return bool(_INJECTION.search(text))


def looks_harmful(text: str) -> bool:
    return bool(_HARMFUL.search(text))


_ASKING = re.compile(r"^\W*(anyway,?\s+)?(what|why|how|when|which|who|where|explain|summari[sz]e|"
                     r"describe|define|compare)\b", re.I)


def asks_something(text: str) -> bool:
    """Is there a study question here (after injected instructions were removed)? A sentence
    ending in "?" or opening like a question or a request to explain."""
    return any(s.rstrip().endswith("?") or _ASKING.match(s) for s in split_sentences(text))

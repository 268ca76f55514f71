"""Pure checks on answers and passages: citation markers, support, injected instructions.

The local 135M model cites unreliably and sometimes drifts from its sources; these functions
let the pipeline keep only what the sources support and cite it correctly whatever the model did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[*`$])|\n+")
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
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS}


# `$[0,1]$` and `` `out[0]` `` are an interval and an index, not citation markers.
_MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]+`", re.S)


def markers(sentence: str) -> list[int]:
    outside = _MATH_OR_CODE.sub(" ", sentence)
    return [int(n) for group in _MARKER.findall(outside) for n in group.split(",")]


def strip_markers(text: str) -> str:
    """The text without citation markers; math and code are left as they are."""
    parts, last = [], 0
    for protected in _MATH_OR_CODE.finditer(text):
        parts += [_MARKER.sub("", text[last:protected.start()]), protected.group(0)]
        last = protected.end()
    parts.append(_MARKER.sub("", text[last:]))
    return "".join(parts).strip()


def support(sentence: str, passage: str) -> float:
    """Share of the sentence's content words that the passage contains (0 when it has none)."""
    words = content_words(strip_markers(sentence))
    return len(words & content_words(passage)) / len(words) if words else 0.0


@dataclass(frozen=True)
class Checked:
    text: str
    cited: list[int]  # source numbers used, in order of first use
    dropped: list[str]  # sentences removed for lack of support


def check_answer(answer: str, passages: list[str], question: str = "",
                 min_support: float = 0.5, min_new_words: int = 3) -> Checked:
    """Keep sentences the passages support; fix their markers to point at a supporting passage.

    Support is judged on what a sentence adds beyond the question's own words (at least
    `min_new_words` of them), so an answer that only echoes the question is not "supported". A marker pointing nowhere is removed. A
    supported sentence without a (valid) marker gets the best-supporting passage's number; one
    citing a passage that does not support it is re-pointed to the one that does.
    """
    asked = content_words(question)
    kept, dropped, cited = [], [], []
    for sentence in split_sentences(answer):
        body = strip_markers(sentence)
        if not content_words(body):
            continue  # bare markers, stray punctuation
        if body.rstrip(" .!?").endswith((":", "$$")) or body.count("$") % 2:  # a lead-in to
            # nothing, or a broken formula
            dropped.append(body)
            continue
        new_words = content_words(body) - asked
        claim = " ".join(sorted(new_words)) if len(new_words) >= min_new_words else ""
        scores = [support(claim, p) for p in passages]
        best = max(range(len(passages)), key=lambda i: scores[i]) if passages else -1
        if best < 0 or scores[best] < min_support:
            dropped.append(body)
            continue
        valid = [n for n in markers(sentence) if 1 <= n <= len(passages)
                 and scores[n - 1] >= min_support]
        numbers = valid or [best + 1]
        cited.extend(n for n in numbers if n not in cited)
        tail = "".join(f"[{n}]" for n in numbers)
        end = body[-1] if body[-1] in ".!?" else ""
        kept.append(f"{body[:-1] if end else body} {tail}{end or '.'}")
    return Checked(text=" ".join(kept), cited=cited, dropped=dropped)


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


_LABEL = re.compile(r"^\*\*[^*\n]{1,80}\*\*\s*")  # "**Definition.**", "**Why divide by $x$.**"


def candidate_sentences(passage: str) -> list[str]:
    """Prose sentences of a markdown passage fit to quote: no headings, code, bare formulas."""
    prose = re.sub(r"```.*?```|\$\$.*?\$\$", " ", passage, flags=re.S)
    found = []
    for sentence in split_sentences(prose):
        if sentence.startswith(("#", "|", "-", "**Q:", "**A:")):  # headings, tables, lists, quiz
            continue
        sentence = _LABEL.sub("", sentence)
        if len(sentence.split()) < 6:
            continue
        found.append(sentence)
    return found

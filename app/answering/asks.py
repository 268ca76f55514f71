"""The asks of a question: "why is Naive Bayes naive, and what's the point of adding 1 to the
counts?" asks two things, and an answer that covers only the first has not answered.

A question splits where a new sentence follows "?", or where a new interrogative follows
"and"/"but"/"also" ("…, and what's…", "…? How…"): each part is then answered on its own, and a part the notes do
not cover is named as such. A later part often leans on the first for its topic ("what is
perplexity and how is it related to the loss?"): it is searched and read together with the
first part's topic words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.text import content_words

_ASK_WORD = (
    r"(?:what|what's|whats|why|how|when|which|where|who|is|are|does|do|did|can|could|should|"
    r"would|will|isn't|aren't|doesn't|don't)"
)
# Not a bare comma: "When BERT masks tokens, does every…" is one ask.
_BOUNDARY = re.compile(
    rf"\?\s+(?=\w)"  # "…? How…"
    rf"|[,;]?\s+(?:and|but|also|plus)\s+(?:also\s+)?(?={_ASK_WORD}\b)",  # "…, and what's…"
    re.IGNORECASE,
)
_ASKING = re.compile(rf"(?:and\s+|but\s+|so\s+)?{_ASK_WORD}\b", re.IGNORECASE)
_LEANS_ON = re.compile(r"\b(it|its|they|them|their|this|that|these|those)\b", re.IGNORECASE)
MAX_ASKS = 3  # more parts than this is a list, not a question: answered as one


@dataclass(frozen=True)
class Ask:
    """One part of a question: its own words, and what to search and read it with (its words
    and, for a later part, the first part's topic words it leans on)."""

    words: str
    search: str


def asks(question: str) -> list[Ask]:
    """The parts of `question`, in order; one part when it asks one thing (or too many)."""
    parts = [p.strip(" ,;") for p in _BOUNDARY.split(question.strip()) if p.strip(" ,;?")]
    if (
        not 1 < len(parts) <= MAX_ASKS
        or not all(content_words(p) for p in parts)
        or not all(_ASKING.match(p) or p.endswith("?") for p in parts[1:])  # "…? Without it…."
    ):
        return [Ask(question, question)]
    topic = content_words(parts[0])
    found = [Ask(parts[0], parts[0])]
    for part in parts[1:]:
        if not _LEANS_ON.search(part) and len(content_words(part)) > 1:
            found.append(Ask(part, part))  # a subject of its own ("…, and how do I bake bread?")
            continue
        missing = sorted(topic - content_words(part), key=parts[0].lower().find)
        found.append(Ask(part, " ".join([part, *missing])))
    return found

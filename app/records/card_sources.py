"""Cards that know their source.

Every card quoted from a passage (a quiz question's sentence from the notes, a card a learner
made from a tutor's citation) keeps the words it quotes (`citation.snippet`) and their
`quote_hash`. After an ingest changes or removes files, `flag_changed_sources` reads each
touched source's text as the index now holds it: a card whose quote is no longer there is
flagged (`question.source_changed`) with the source's closest sentence as the new text to
accept, or none when the source is gone, so the learner can accept it or retire the card.
Nothing is changed silently: the card keeps its sides and schedule until the learner decides.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from app.answering.passages import readable_text
from app.records.base import naive_utc
from app.text import content_words
from app.text import normalized
from app.text import split_sentences

SOURCE_CHANGED = "source_changed"  # the question's key holding the flag


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")
_HEADING_LINE = re.compile(r"\*\*[^*]+\*\*")


def _shown(text: str) -> str:
    """The text as the product shows a passage (`readable_text`: markup and link targets gone),
    Unicode-folded (NFKC, invisible characters dropped, as ingest's loaders fold them)."""
    return readable_text(unicodedata.normalize("NFKC", text).translate(_INVISIBLE))


def _normal(text: str) -> str:
    """The words as compared: the text as shown, then lower-case words and numbers only. An
    excerpt a card was made from and the chunk it came from compare equal."""
    return normalized(_shown(text))


def _sentences(texts: list[str]) -> list[str]:
    """The sources' sentences as shown, headings left out (they are not what a card quotes)."""
    return [
        s
        for text in texts
        for s in split_sentences(_shown(text))
        if not _HEADING_LINE.fullmatch(s.strip())
    ]


def quote_hash(quote: str) -> str:
    """SHA-256 (16 hex digits) of the quoted words as compared (`_normal`): what a card keeps of
    the passage it quotes, to tell later whether the source still says it."""
    return hashlib.sha256(_normal(quote).encode()).hexdigest()[:16]


def with_quote_hash(question: dict[str, Any]) -> dict[str, Any]:
    """A question as a card stores it: its citation keeps the hash of the words it quotes."""
    citation = question.get("citation") or {}
    if not (citation.get("snippet") or "").strip():
        return question
    return question | {"citation": citation | {"quote_hash": quote_hash(citation["snippet"])}}


def still_says(quote: str, kept_hash: str, texts: list[str]) -> bool:
    """Whether the source's current `texts` (its passages in order) still hold the quote: one of
    its sentences has the kept hash, or every stretch of the quote (an excerpt's pieces
    between "…") appears in it word for word."""
    if kept_hash in {quote_hash(s) for s in _sentences(texts)}:
        return True
    whole = f" {_normal(' '.join(texts))} "
    pieces = [_normal(p) for p in _ELLIPSIS.split(quote)]
    pieces = [p for p in pieces if p]
    return bool(pieces) and all(f" {p} " in whole for p in pieces)


def closest_sentence(quote: str, texts: list[str]) -> str | None:
    """The sentence of `texts` sharing the most content words with `quote` (the nearer in
    length on a tie; headings never): the new text a learner is offered (None when the source
    is gone or shares no word with it)."""
    wanted = content_words(quote)
    scored = [
        (len(content_words(s) & wanted), -abs(len(s) - len(quote)), s) for s in _sentences(texts)
    ]
    best = max(scored, default=None)
    return best[2] if best is not None and best[0] else None


def flag_changed_sources(
    sessions: sessionmaker[Session],
    touched: set[str],
    passages_of: Callable[[set[str]], Mapping[str, list[str]]],
    now: dt.datetime | None = None,
) -> int:
    """Flag every learner's cards quoting a `touched` source (one an ingest wrote, changed or
    removed) whose quote that source no longer holds, as `passages_of` reads it now (source
    -> its passages in order, [] when removed); clear the flag of those whose quote is back.
    Only the sources some card quotes are read. Returns how many cards are newly flagged."""
    from app.records.reviews import ReviewCard

    if not touched:
        return 0
    since = naive_utc(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    flagged = 0
    with sessions.begin() as session:
        quoting = [
            (card, citation)
            for card in session.scalars(select(ReviewCard))
            if (citation := card.question.get("citation") or {}).get("source") in touched
            and (citation.get("snippet") or "").strip()
        ]
        if not quoting:
            return 0
        current = passages_of({str(citation["source"]) for _, citation in quoting})
        for card, citation in quoting:
            quote, texts = citation["snippet"], current.get(citation["source"], [])
            kept = citation.get("quote_hash") or quote_hash(quote)
            question: dict[str, Any] = dict(card.question)
            if still_says(quote, kept, texts):
                if question.pop(SOURCE_CHANGED, None) is not None:
                    card.question = question
                continue
            if SOURCE_CHANGED not in question:
                flagged += 1
            question[SOURCE_CHANGED] = {
                "since": since,
                "text": closest_sentence(quote, texts),
                "removed": not texts,
            }
            card.question = question
    return flagged

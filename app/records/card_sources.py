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
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from app.records.base import naive_utc
from app.text import content_words
from app.text import split_sentences

SOURCE_CHANGED = "source_changed"  # the question's key holding the flag


def _normal(text: str) -> str:
    return " ".join(text.split())


def _sentences(texts: list[str]) -> list[str]:
    return [_normal(s) for text in texts for s in split_sentences(text)]


def quote_hash(quote: str) -> str:
    """SHA-256 (16 hex digits) of the quoted words, whitespace-normalised: what a card keeps of
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
    its sentences has the kept hash, or (a quote of several sentences) the words appear as
    they were."""
    if kept_hash in {quote_hash(s) for s in _sentences(texts)}:
        return True
    return bool(quote.strip()) and _normal(quote) in _normal(" ".join(texts))


def closest_sentence(quote: str, texts: list[str]) -> str | None:
    """The sentence of `texts` sharing the most content words with `quote`: the new text a
    learner is offered (None when the source is gone or shares no word with it)."""
    wanted = content_words(quote)
    best = max(_sentences(texts), key=lambda s: len(content_words(s) & wanted), default=None)
    return best if best is not None and content_words(best) & wanted else None


def flag_changed_sources(
    sessions: sessionmaker[Session],
    current: Mapping[str, list[str]],
    now: dt.datetime | None = None,
) -> int:
    """Flag every learner's cards quoting a source of `current` (source -> its passages as the
    index now holds them, [] when removed) whose quote the source no longer holds; clear the
    flag of those whose quote is back. Returns how many cards are newly flagged."""
    from app.records.reviews import ReviewCard

    if not current:
        return 0
    since = naive_utc(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    flagged = 0
    with sessions.begin() as session:
        for card in session.scalars(select(ReviewCard)):
            citation = card.question.get("citation") or {}
            source, quote = str(citation.get("source", "")), citation.get("snippet") or ""
            if source not in current or not quote.strip():
                continue
            texts = current[source]
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

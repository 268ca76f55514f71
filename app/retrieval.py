"""Ranking: from a question to the passages that answer it.

For now dense search over the Chroma index, with material tagged for the learner's week
lifted slightly; hybrid BM25 fusion and prerequisite-aware boosts build on this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.store import Embedder, Hit, Store

WEEK_BOOST = 0.05
CANDIDATES_PER_HIT = 4


@dataclass
class SearchHit:
    source: str
    title: str
    heading: str
    week: int | None
    score: float
    text: str
    url: str = ""
    kind: str = ""

    @classmethod
    def from_hit(cls, hit: Hit, score: float) -> SearchHit:
        m = hit.metadata
        return cls(source=m.get("source", ""), title=m.get("title", ""),
                   heading=m.get("heading", ""), week=m.get("week"), score=round(score, 4),
                   text=hit.text, url=m.get("url", ""), kind=m.get("kind", ""))

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "title": self.title, "heading": self.heading,
                "week": self.week, "score": self.score, "text": self.text}


def week_boosted(hits: list[Hit], week: int | None) -> list[tuple[Hit, float]]:
    """Re-rank: material tagged with the learner's week gains a small, fixed boost."""
    scored = [
        (hit, hit.score + (WEEK_BOOST if week is not None and week in hit.metadata.get("weeks", [])
                           else 0.0))
        for hit in hits
    ]
    return sorted(scored, key=lambda pair: -pair[1])


def search(store: Store, embedder: Embedder, query: str, k: int = 5,
           week: int | None = None) -> list[SearchHit]:
    vector = embedder.embed([query])[0]
    hits = store.query(vector, k * CANDIDATES_PER_HIT if week is not None else k)
    return [SearchHit.from_hit(hit, score) for hit, score in week_boosted(hits, week)[:k]]

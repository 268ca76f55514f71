"""Ranking: from a question to the passages that answer it.

Dense (Chroma, cosine) and lexical (BM25) candidates are fused by reciprocal rank fusion, then
material of the learner's week, and of the weeks it builds on, is lifted. Each step is a pure
function over candidates so it can be tested, and ablated by the evals, without a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from app.config import Settings
from app.lexical import LexicalIndex
from app.store import Embedder, Hit, Store

Mode = Literal["hybrid", "dense", "bm25"]
RRF_K = 60
CANDIDATES = 40
WEEK_BOOST = 1.25  # fused score multiplier for the learner's own week
PREREQ_BOOST = 1.1  # ... and for the weeks it builds on


@dataclass(frozen=True)
class Filters:
    """Narrow what may be retrieved. `no_spoilers_after` leaves out material tagged only with
    weeks after that week (material with no week, like the resource lists, always stays)."""

    source_prefix: str | None = None
    weeks: tuple[int, int] | None = None
    no_spoilers_after: int | None = None

    def allows(self, meta: dict[str, Any]) -> bool:
        if self.source_prefix and not str(meta.get("source", "")).startswith(self.source_prefix):
            return False
        weeks = meta.get("weeks") or []
        if self.weeks and not any(self.weeks[0] <= w <= self.weeks[1] for w in weeks):
            return False
        if self.no_spoilers_after is not None and weeks and min(weeks) > self.no_spoilers_after:
            return False
        return True


@dataclass
class SearchHit:
    id: str
    source: str
    title: str
    heading: str
    week: int | None
    score: float  # the fused (or single-ranker) score used for ranking
    text: str
    url: str = ""
    weeks: list[int] = field(default_factory=list)
    similarity: float | None = None  # dense cosine, when the passage was a dense candidate

    def to_dict(self) -> dict[str, Any]:
        """The `tutor search --json` contract."""
        return {"source": self.source, "title": self.title, "heading": self.heading,
                "week": self.week, "score": round(self.score, 4), "text": self.text}


def reciprocal_rank_fusion(rankings: Iterable[list[str]], k: int = RRF_K) -> dict[str, float]:
    """Sum of 1 / (k + rank) over the rankings a passage appears in (rank from 1)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def week_boosted(scores: dict[str, float], weeks_of: dict[str, list[int]], week: int | None,
                 prerequisites: Iterable[int] = ()) -> dict[str, float]:
    """Lift passages tagged with the learner's week, and a little less its prerequisites."""
    if week is None:
        return dict(scores)
    before = set(prerequisites)
    boosted = {}
    for item, score in scores.items():
        tagged = set(weeks_of.get(item, []))
        factor = WEEK_BOOST if week in tagged else PREREQ_BOOST if tagged & before else 1.0
        boosted[item] = score * factor
    return boosted


class Retriever:
    @classmethod
    def from_settings(cls, settings: Settings, store: Store | None = None) -> Retriever:
        """The retriever over the configured index (raises StoreError if it can't be opened);
        pass `store` to share an open one."""
        return cls(store or Store(settings), Embedder(settings.embedding_model),
                   LexicalIndex(settings.data_dir), prerequisites_by_week())

    def __init__(self, store: Store, embedder: Embedder, lexical: LexicalIndex,
                 prerequisites: dict[int, list[int]] | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.lexical = lexical
        self.prerequisites = prerequisites or {}

    def search(self, query: str, k: int = 5, week: int | None = None,
               filters: Filters | None = None, mode: Mode = "hybrid",
               boost_week: bool = True) -> list[SearchHit]:
        filters = filters or Filters()
        rankings: list[list[str]] = []
        hits: dict[str, Hit] = {}
        similarity: dict[str, float] = {}
        if mode in ("hybrid", "dense"):
            dense = [h for h in self.store.query(self.embedder.embed([query])[0], CANDIDATES)
                     if filters.allows(h.metadata)]
            rankings.append([h.id for h in dense])
            hits.update((h.id, h) for h in dense)
            similarity.update((h.id, h.score) for h in dense)
        if mode in ("hybrid", "bm25"):
            lexical_ids = [i for i, _ in self.lexical.search(query, CANDIDATES)]
            missing = [i for i in lexical_ids if i not in hits]
            hits.update((h.id, h) for h in self.store.get(missing))
            lexical = [i for i in lexical_ids if i in hits and filters.allows(hits[i].metadata)]
            rankings.append(lexical)
        fused = reciprocal_rank_fusion(rankings)
        if boost_week:
            weeks_of = {i: hits[i].metadata.get("weeks") or [] for i in fused}
            fused = week_boosted(fused, weeks_of, week, self.prerequisites.get(week or 0, []))
        ranked = sorted(fused, key=lambda i: -fused[i])[:k]
        return [self._hit(hits[i], fused[i], similarity.get(i)) for i in ranked]

    def get_source(self, source: str) -> list[SearchHit]:
        """Every passage of one source (e.g. `curriculum/week-18`), in document order."""
        found = sorted(self.store.where({"source": source}), key=lambda h: h.metadata.get("chunk", 0))
        return [self._hit(h, 1.0, None) for h in found]

    @staticmethod
    def _hit(hit: Hit, score: float, similarity: float | None) -> SearchHit:
        m = hit.metadata
        return SearchHit(id=hit.id, source=m.get("source", ""), title=m.get("title", ""),
                         heading=m.get("heading", ""), week=m.get("week"), score=score,
                         text=hit.text, url=m.get("url", ""), weeks=list(m.get("weeks") or []),
                         similarity=similarity)


def prerequisites_by_week() -> dict[int, list[int]]:
    """Which earlier weeks each week builds on, from our notes' front matter."""
    from ingest.notes import read_notes

    return {note.meta.week: note.meta.prerequisites for note in read_notes()}


"""Ranking: from a question to the passages that answer it.

Dense (Chroma, cosine) and lexical (BM25) candidates are fused by reciprocal rank fusion, then
material of the learner's week, and of the weeks it builds on, is lifted. Each step is a pure
function over candidates so it can be tested, and ablated by the evals, without a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from itertools import repeat
from typing import Any
from typing import Literal

import numpy as np

from app.as_read import as_read
from app.config import Settings
from app.search.lexical import LexicalIndex
from app.search.vectors import Embedder
from app.search.vectors import Hit
from app.search.vectors import VectorStore
from app.text import content_words
from app.text import split_sentences

Mode = Literal["hybrid", "dense", "bm25"]
RRF_K = 60
CANDIDATES = 40
WEEK_BOOST = 1.25  # fused score multiplier for the learner's own week
PREREQ_BOOST = 1.1  # ... and for the weeks it builds on
MIN_SENTENCE_WORDS = 3  # content words (no stopwords, 3+ letters)


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
        return self.no_spoilers_after is None or not weeks or min(weeks) <= self.no_spoilers_after


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
        return {
            "source": self.source,
            "title": self.title,
            "heading": self.heading,
            "week": self.week,
            "score": round(self.score, 4),
            "text": self.text,
        }


@dataclass
class Candidates:
    """What each ranker found for one query, best first, before fusion."""

    dense: list[str] = field(default_factory=list)
    lexical: list[str] = field(default_factory=list)
    hits: dict[str, Hit] = field(default_factory=dict)
    similarity: dict[str, float] = field(default_factory=dict)  # dense cosine by id
    query_vector: np.ndarray | None = None  # None when no dense search ran
    sentence: dict[str, float] = field(default_factory=dict)  # best sentence cosine by id


@dataclass(frozen=True)
class Fusion:
    """How the rankers' votes and the learner's week combine into one score."""

    dense: float = 1.0  # weight of a dense rank's reciprocal-rank vote
    lexical: float = 1.0  # ... and of a BM25 rank's
    k: int = RRF_K
    week: float = WEEK_BOOST
    prerequisite: float = PREREQ_BOOST
    sentence: float = 0.0  # weight of the vote ranking the head by its best sentence
    depth: int = 10  # how many of the best candidates get that vote


def reciprocal_rank_fusion(
    rankings: Iterable[list[str]], k: int = RRF_K, weights: Iterable[float] | None = None
) -> dict[str, float]:
    """Sum of weight / (k + rank) over the rankings a passage appears in (rank from 1)."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or repeat(1.0)):
        for rank, item in enumerate(ranking, 1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def week_boosted(
    scores: dict[str, float],
    weeks_of: dict[str, list[int]],
    week: int | None,
    prerequisites: Iterable[int] = (),
    boost: float = WEEK_BOOST,
    prerequisite_boost: float = PREREQ_BOOST,
) -> dict[str, float]:
    """Lift passages tagged with the learner's week, and a little less its prerequisites."""
    if week is None:
        return dict(scores)
    before = set(prerequisites)
    boosted = {}
    for item, score in scores.items():
        tagged = set(weeks_of.get(item, []))
        factor = boost if week in tagged else prerequisite_boost if tagged & before else 1.0
        boosted[item] = score * factor
    return boosted


def fuse(
    found: Candidates, week: int | None, prerequisites: Iterable[int], fusion: Fusion
) -> dict[str, float]:
    """Every candidate's score: weighted RRF of the rankers, then the week boost (no week: none)."""
    by_sentence = sorted(found.sentence, key=lambda i: -found.sentence[i])
    fused = reciprocal_rank_fusion(
        [found.dense, found.lexical, by_sentence],
        fusion.k,
        [fusion.dense, fusion.lexical, fusion.sentence],
    )
    weeks_of = {i: found.hits[i].metadata.get("weeks") or [] for i in fused}
    return week_boosted(fused, weeks_of, week, prerequisites, fusion.week, fusion.prerequisite)


def sentence_units(text: str) -> list[str]:
    """The sentences of a passage worth comparing with a question: lines of code, bare
    headings and formula fragments are too short to mean much on their own."""
    return [s for s in split_sentences(text) if len(content_words(s)) >= MIN_SENTENCE_WORDS]


class Retriever:
    @classmethod
    def from_settings(cls, settings: Settings, store: VectorStore | None = None) -> Retriever:
        """The retriever over the configured index (raises StoreError if it can't be opened);
        pass `store` to share an open one."""
        store = store or VectorStore(settings)
        return cls(
            store,
            Embedder(
                settings.embedding_model,
                settings.encoder_cache_dir,
                engine=settings.encoder_engine,
            ),
            LexicalIndex(store, settings.data_dir),
            prerequisites_by_week(),
        )

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        lexical: LexicalIndex,
        prerequisites: dict[int, list[int]] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.lexical = lexical
        self.prerequisites = prerequisites or {}

    def search(
        self,
        query: str,
        k: int = 5,
        week: int | None = None,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        boost_week: bool = True,
        fusion: Fusion | None = None,
    ) -> list[SearchHit]:
        """The best `k` passages for `query`; `fusion` overrides the shipped settings (evals)."""
        found = self.candidates(query, filters, mode)
        week = week if boost_week else None
        fusion = fusion or Fusion()
        if fusion.sentence:
            self.score_sentences(found, self.rank(found, fusion.depth, week, fusion))
        return self.rank(found, k, week, fusion)

    def score_sentences(self, found: Candidates, hits: list[SearchHit]) -> None:
        """Each hit's best sentence cosine to the query, into `found.sentence`: a chunk of
        256 word pieces mixes topics, and its one sentence that answers can be drowned out."""
        if found.query_vector is None:
            return
        todo = {h.id: sentence_units(h.text) for h in hits if h.id not in found.sentence}
        todo = {i: units for i, units in todo.items() if units}
        if not todo:
            return
        cosines = iter(
            self.embedder.embed([u for units in todo.values() for u in units]) @ found.query_vector
        )
        for i, units in todo.items():
            found.sentence[i] = max(float(next(cosines)) for _ in units)

    def candidates(
        self, query: str, filters: Filters | None = None, mode: Mode = "hybrid"
    ) -> Candidates:
        """Each ranker's candidates for `query` (the I/O half of a search), the query read as
        the passages were indexed (`as_read`: ligatures, invisible characters)."""
        query = as_read(query)
        filters = filters or Filters()
        found = Candidates()
        if mode in ("hybrid", "dense"):
            found.query_vector = self.embedder.embed([query])[0]
            dense = [
                h
                for h in self.store.query(found.query_vector, CANDIDATES)
                if filters.allows(h.metadata)
            ]
            found.dense = [h.id for h in dense]
            found.hits.update((h.id, h) for h in dense)
            found.similarity.update((h.id, h.score) for h in dense)
        if mode in ("hybrid", "bm25"):
            lexical_ids = [i for i, _ in self.lexical.search(query, CANDIDATES)]
            missing = [i for i in lexical_ids if i not in found.hits]
            found.hits.update((h.id, h) for h in self.store.get(missing))
            found.lexical = [
                i for i in lexical_ids if i in found.hits and filters.allows(found.hits[i].metadata)
            ]
        return found

    def rank(
        self, found: Candidates, k: int, week: int | None, fusion: Fusion | None = None
    ) -> list[SearchHit]:
        """The best `k` candidates (the pure half of a search; the evals re-rank with it)."""
        fused = fuse(found, week, self.prerequisites.get(week or 0, []), fusion or Fusion())
        ranked = sorted(fused, key=lambda i: -fused[i])[:k]
        return [self._hit(found.hits[i], fused[i], found.similarity.get(i)) for i in ranked]

    def nearest_note(self, query: str, weeks: list[int]) -> SearchHit | None:
        """The passage of our own notes for `weeks` closest in meaning to `query` (dense only: a
        concept and its definition, not a learner's words); None when the index holds none.
        Raises VectorStoreError when the index can't be reached."""
        vector = self.embedder.embed([as_read(query)])[0]
        hits = self.store.query(
            vector, 1, where={"$and": [{"kind": "note"}, {"week": {"$in": weeks}}]}
        )
        return self._hit(hits[0], hits[0].score, hits[0].score) if hits else None

    def get_source(self, source: str) -> list[SearchHit]:
        """Every passage of one source (e.g. `curriculum/week-18`), in document order."""
        found = sorted(
            self.store.where({"source": source}), key=lambda h: h.metadata.get("chunk", 0)
        )
        return [self._hit(h, 1.0, None) for h in found]

    @staticmethod
    def _hit(hit: Hit, score: float, similarity: float | None) -> SearchHit:
        m = hit.metadata
        return SearchHit(
            id=hit.id,
            source=m.get("source", ""),
            title=m.get("title", ""),
            heading=m.get("heading", ""),
            week=m.get("week"),
            score=score,
            text=hit.text,
            url=m.get("url", ""),
            weeks=list(m.get("weeks") or []),
            similarity=similarity,
        )


def prerequisites_by_week() -> dict[int, list[int]]:
    """Which earlier weeks each week builds on, from our notes' front matter."""
    from app.course.notes import read_notes

    return {note.meta.week: note.meta.prerequisites for note in read_notes()}

"""Plausible wrong answers: the notes' concepts as vectors, and the ones close to an answer.

A distractor is plausible when it is of the same kind as the answer and a learner could
mistake one for the other: a concept from a nearby week whose name-and-definition embedding
lies in a similarity band to the answer's, close enough to be confusable (cosine >= 0.30) yet
not a near-synonym (cosine < 0.80, "vanishing gradients" for "vanishing and exploding
gradients"). A true/false swap asks more, the same kind of thing, so a swapped statement
still reads as a claim about that kind of thing, not nonsense: definitions closer (cosine >=
0.50), names related too (cosine >= 0.30) and both singular or both plural ("Adam is an
adaptive optimizer" never becomes "Gradient descent variants is an adaptive optimizer").

The vectors come from the packaged sentence encoder (the one retrieval uses), computed once a
process per set of notes and kept.
"""

from __future__ import annotations

import functools
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.text import content_words

if TYPE_CHECKING:
    from app.course.notes import Note
    from app.search.vectors import Embedder

BAND = (0.30, 0.80)  # cosine of name-and-definition embeddings: confusable, not synonymous
SWAP_MIN = 0.50  # a true/false swap: the same kind of thing...
SWAP_NAME_MIN = 0.30  # ...its name related to the answer's
NEARBY_WEEKS = 12  # distractors come from this many weeks either side of the answer's
SHORTLIST = 2  # draw k distractors from the 2k most similar in the band


@dataclass(frozen=True)
class Concept:
    name: str
    week: int


class ConceptSpace:
    """Every concept of the notes with unit vectors of "name: definition" and of its name."""

    def __init__(self, concepts: list[Concept], vectors: np.ndarray, names: np.ndarray) -> None:
        self.concepts = concepts
        self.vectors = vectors  # (len(concepts), dim), unit length
        self.names = names  # the same, of the names alone
        self._row = {c.name.lower(): i for i, c in enumerate(concepts)}

    @classmethod
    def of(cls, notes: list[Note], embedder: Embedder) -> ConceptSpace:
        """The notes' concepts, a name met twice ("transfer learning", weeks 8 and 15) kept
        once, at its first week."""
        concepts, texts = _concept_texts(notes)
        vectors = embedder.embed(texts + [c.name for c in concepts])
        return cls(concepts, vectors[: len(concepts)], vectors[len(concepts) :])

    def similarity(self, a: str, b: str) -> float | None:
        """Cosine of two concepts' vectors; None when either is not a concept of the notes."""
        i, j = self._row.get(a.lower()), self._row.get(b.lower())
        return None if i is None or j is None else float(self.vectors[i] @ self.vectors[j])

    def candidates(
        self, answer: str, week: int, prompt: str, band: tuple[float, float] = BAND
    ) -> list[tuple[float, str]]:
        """(cosine, concept) for each plausible wrong answer to a question on `answer`, most
        similar first: of a week within NEARBY_WEEKS, in `band`, not named in `prompt` (an
        option the prompt names is given away), its
        words neither all among the answer's nor holding all of them ("vanishing gradients"
        is no distractor for "vanishing and exploding gradients", "causal self-attention" is
        one for "multi-head attention")."""
        row = self._row.get(answer.lower())
        if row is None:
            return []
        taken, shown = content_words(answer), prompt.lower()
        cosines = self.vectors @ self.vectors[row]
        found = [
            (float(cosines[i]), c.name)
            for i, c in enumerate(self.concepts)
            if i != row
            and abs(c.week - week) <= NEARBY_WEEKS
            and band[0] <= cosines[i] < band[1]
            and not _contains(content_words(c.name), taken)
            and c.name.lower() not in shown
        ]
        return sorted(found, reverse=True)

    def distractors(
        self, answer: str, week: int, prompt: str, rng: random.Random, k: int
    ) -> list[str]:
        """`k` plausible wrong answers drawn from the 2k most similar candidates, or none
        when fewer than `k` are plausible (the question is then not asked)."""
        shortlist = [name for _, name in self.candidates(answer, week, prompt)[: SHORTLIST * k]]
        return rng.sample(shortlist, k) if len(shortlist) >= k else []

    def swap(self, answer: str, week: int, prompt: str) -> str | None:
        """The concept most like `answer` of the same kind, for a false statement; None
        when there is none."""
        row = self._row.get(answer.lower())
        same_kind = [
            name
            for _, name in self.candidates(answer, week, prompt, (SWAP_MIN, BAND[1]))
            if _plural(name) == _plural(answer)
            and self.names[row] @ self.names[self._row[name.lower()]] >= SWAP_NAME_MIN
        ]
        return same_kind[0] if same_kind else None


def _contains(words: set[str], other: set[str]) -> bool:
    """Whether one set of words holds the other: two names for the same thing."""
    return words <= other or other <= words


def _plural(name: str) -> bool:
    """Whether a concept's name reads as plural ("LSTM gates", not "Naive Bayes", "loss")."""
    last = name.split()[-1].lower()
    return last.endswith("s") and not last.endswith(("ss", "us", "is", "bayes"))


def _concept_texts(notes: list[Note]) -> tuple[list[Concept], list[str]]:
    concepts: list[Concept] = []
    texts: list[str] = []
    seen: set[str] = set()
    for note in sorted(notes, key=lambda n: n.meta.week):
        definitions = note.definitions
        for name in note.meta.concepts:
            if name.lower() not in seen:
                seen.add(name.lower())
                concepts.append(Concept(name, note.meta.week))
                texts.append(f"{name}: {definitions.get(name, '')}".rstrip(": "))
    return concepts, texts


_spaces: dict[tuple[str, tuple[str, ...]], ConceptSpace] = {}
_lock = threading.Lock()


def concept_space(notes: list[Note], embedder: Embedder | None = None) -> ConceptSpace:
    """The notes' concept space, embedded once a process for each encoder and set of notes
    (about 220 short texts: a second on the CPU, after the encoder is loaded). Without an
    `embedder`, the packaged one."""
    embedder = embedder or default_embedder()
    _, texts = _concept_texts(notes)
    key = (str(embedder.model_path), tuple(texts))
    with _lock:
        if key not in _spaces:
            _spaces[key] = ConceptSpace.of(notes, embedder)
        return _spaces[key]


@functools.cache
def default_embedder() -> Embedder:
    """The packaged sentence encoder, loaded once a process (it takes seconds)."""
    from app.search.vectors import Embedder

    return Embedder()

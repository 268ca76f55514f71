"""Back to the prerequisite: for a concept the learner keeps missing, the earlier week that
teaches what it builds on, and the passage of that week's note to reread.

Which weeks a week builds on is the notes' `prerequisites` front matter. Of those, a concept's
own section often names the one it builds on ("**Connections.** Builds on attention (week
18)"); when it does, that week is searched, else all of them. The passage is the indexed note
passage of those weeks closest in meaning to the concept and its definition, cited as the
tutor cites (source, heading, week).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from app.course.notes import Note
from app.records.learners import LearnerRecords
from app.records.quizzes import Attempt
from app.records.weak_spots import Concept
from app.records.weak_spots import Concepts
from app.records.weak_spots import answers
from app.records.weak_spots import kept_missing
from app.records.weak_spots import sections
from app.search.retrieval import Retriever
from app.search.vectors import VectorStoreError

_WEEKS = re.compile(r"\bweeks?\s+(\d+(?:\s*(?:,|and|-|–)\s*\d+)*)", re.IGNORECASE)


@dataclass(frozen=True)
class Passage:
    """One indexed passage, cited: where it is (source, heading) and what it says."""

    source: str
    title: str
    heading: str
    week: int | None
    text: str


@dataclass(frozen=True)
class BackTo:
    """A concept kept missing (`missed` of the last `answered` answers on it) and where to go
    back to: the prerequisite week, its title and the passage to reread (None when the index
    could not be searched; `week` and `title` still say where to look)."""

    concept: str
    concept_week: int
    missed: int
    answered: int
    week: int
    title: str
    passage: Passage | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def named_weeks(text: str) -> set[int]:
    """The week numbers a text names: "week 18", "weeks 5 and 6", "weeks 13-15"."""
    found: set[int] = set()
    for group in _WEEKS.findall(text):
        numbers = [int(n) for n in re.findall(r"\d+", group)]
        found.update(numbers)
        if re.search(r"\d\s*[-–]\s*\d", group) and len(numbers) == 2:
            found.update(range(numbers[0], numbers[1] + 1))
    return found


def builds_on(note: Note, concept: str) -> list[int]:
    """The earlier weeks `concept` (of `note`) builds on: the note's prerequisites that the
    concept's own section names, else all of the note's prerequisites. Empty for a note with
    none (week 1)."""
    prerequisites = sorted(note.meta.prerequisites)
    named = [w for w in prerequisites if w in named_weeks(sections(note).get(concept, ""))]
    return named or prerequisites


class PrerequisitePassages:
    """Finds the passage to reread in the index. `retriever` is called once, on the first
    search, so that a report with nothing kept missing never opens the index (nor loads the
    embedding model)."""

    def __init__(self, retriever: Callable[[], Retriever]) -> None:
        self._retriever = retriever

    def passage(self, query: str, weeks: list[int]) -> Passage | None:
        """The note passage of `weeks` closest in meaning to `query`; None when the index
        holds none or can't be reached (StoreError: the report goes on without it)."""
        try:
            hit = self._retriever().nearest_note(query, weeks)
        except VectorStoreError:
            return None
        if hit is None:
            return None
        return Passage(
            source=hit.source, title=hit.title, heading=hit.heading, week=hit.week, text=hit.text
        )


def for_learner(
    answered: tuple[list[Attempt], dict[str, dict[str, Any]]],
    notes: list[Note],
    passages: PrerequisitePassages,
    about: str = "",
) -> list[BackTo]:
    """Where to go back to for each concept the learner keeps missing (`answered`: their
    answers and questions, as `weak_spots.answers` reads them); with `about` (a question to
    the tutor), only for the concepts it names (as a phrase, in any case)."""
    kept = kept_missing(*answered, Concepts(notes))
    if about:
        kept = [
            row for row in kept if re.search(rf"\b{re.escape(row[0].name)}\b", about, re.IGNORECASE)
        ]
    return back_to(kept, notes, passages) if kept else []


def for_question(
    store: LearnerRecords,
    learner_id: int,
    notes: list[Note],
    retriever: Callable[[], Retriever],
    question: str,
) -> list[dict[str, Any]]:
    """An answer's `back_to` (as `POST /ask` and `tutor ask --json` give it): for a concept
    `question` names that the learner keeps missing, the earlier week it builds on and the
    passage to reread; empty when the question names none of them."""
    return [
        b.to_dict()
        for b in for_learner(
            answers(store, learner_id), notes, PrerequisitePassages(retriever), about=question
        )
    ]


def back_to(
    kept: list[tuple[Concept, int, int]], notes: list[Note], passages: PrerequisitePassages
) -> list[BackTo]:
    """Where to go back to for each concept kept missing (as `weak_spots.kept_missing` gives
    them). A concept of a week with no prerequisite is left out: there is no earlier week."""
    by_week = {note.meta.week: note for note in notes}
    found = []
    for concept, missed, answered in kept:
        note = next(
            (n for n in notes if n.meta.week == concept.week and concept.name in n.meta.concepts),
            by_week.get(concept.week),
        )
        weeks = builds_on(note, concept.name) if note else []
        if note is None or not weeks:
            continue
        query = f"{concept.name}: {note.definitions.get(concept.name, '')}".strip(": ")
        passage = passages.passage(query, weeks)
        week = passage.week if passage and passage.week else weeks[-1]
        title = passage.title if passage else by_week[week].meta.title
        found.append(
            BackTo(
                concept=concept.name,
                concept_week=concept.week,
                missed=missed,
                answered=answered,
                week=week,
                title=title,
                passage=passage,
            )
        )
    return found

"""What a learner misses: the concepts behind their wrong answers. Progress lists the worst
and points back to the prerequisite of those the learner keeps missing; milestone quizzes lean
toward them.

A concept here is always one of a note's `concepts` (its front matter): a question on a week as
a whole (a check-yourself question naming none of them) counts for no concept, so a week's
title is never listed as one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import bm25s
from sqlalchemy import select

from app.course.notes import Note
from app.records.base import learner_rows
from app.records.learners import LearnerRecords
from app.records.quizzes import Attempt
from app.records.reviews import ReviewCard

# "Keeps missing": wrong in at least MISSES of the learner's last WINDOW answers on a concept.
# Two of three rules out one slip, and a concept answered right since then drops out.
MISSES = 2
WINDOW = 3


@dataclass(frozen=True)
class Concept:
    """A concept of the course notes: its name as the note's front matter spells it, and the
    week of the note that teaches it."""

    week: int
    name: str


def sections(note: Note) -> dict[str, str]:
    """Each concept's section of `note` (its `## <concept>` heading's text), by concept."""
    concepts = {c.lower(): c for c in note.meta.concepts}
    found = {}
    for section in re.split(r"^## ", note.body, flags=re.MULTILINE)[1:]:
        heading, _, text = section.partition("\n")
        if heading.strip().lower() in concepts:
            found[concepts[heading.strip().lower()]] = text
    return found


def _flat(text: str) -> str:
    return " ".join(text.split()).lower()


def _tokens(texts: list[str]) -> Any:
    return bm25s.tokenize(texts, stopwords="en", show_progress=False)


class Concepts:
    """Which concept of the course notes a question tests.

    In order: the answer when it is one of the cited note's concepts (cloze and multiple
    choice); the concept whose section of the note holds the quoted snippet (true/false, the
    model's questions); else the section closest to the question and its answer by BM25 (a
    check-yourself question such as "Why is the dot product divided by sqrt(d_k)?" is on
    scaled dot-product attention). None when the question cites no note, or shares no word
    with any of its concept sections."""

    def __init__(self, notes: list[Note]) -> None:
        self.notes = {f"notes/{note.path.name}": note for note in notes}
        self._rankers: dict[str, tuple[list[str], bm25s.BM25]] = {}

    def of(self, question: dict[str, Any] | None) -> Concept | None:
        """The concept `question` tests. `question`: as stored with its review card
        ({"kind", "prompt", "answer", "citation": {"source", "snippet"}, ...})."""
        citation = (question or {}).get("citation") or {}
        note = self.notes.get(citation.get("source", ""))
        if question is None or note is None:
            return None
        texts = sections(note)
        named = {c.lower(): c for c in texts}
        if question["answer"].lower() in named:
            return Concept(note.meta.week, named[question["answer"].lower()])
        snippet = _flat(citation.get("snippet", ""))
        quoted = [c for c, text in texts.items() if snippet and snippet in _flat(text)]
        if quoted:
            return Concept(note.meta.week, quoted[0])
        return self._closest(
            citation["source"], texts, f"{question['prompt']} {question['answer']}", note.meta.week
        )

    def closest(self, note: Note, text: str) -> Concept | None:
        """The concept of `note` whose section is closest to `text` by BM25 (None when they
        share no word): which concept of an earlier week a concept builds on."""
        return self._closest(f"notes/{note.path.name}", sections(note), text, note.meta.week)

    def _closest(self, source: str, texts: dict[str, str], query: str, week: int) -> Concept | None:
        if not texts:
            return None
        if source not in self._rankers:
            ranker = bm25s.BM25()
            ranker.index(_tokens([f"{c} {t}" for c, t in texts.items()]), show_progress=False)
            self._rankers[source] = (list(texts), ranker)
        names, ranker = self._rankers[source]
        query_tokens = _tokens([query])
        if not query_tokens.ids[0]:
            return None
        found, scores = ranker.retrieve(query_tokens, k=1, show_progress=False)
        return Concept(week, names[found[0][0]]) if scores[0][0] > 0 else None


def missed_concepts(
    attempts: list[Attempt], questions: dict[str, dict[str, Any]], concepts: Concepts
) -> Counter[tuple[int, str]]:
    """(week, concept) -> times missed: the learner's weak spots. `questions`: the review
    cards' questions by id, which say what each question tests."""
    found = (concepts.of(questions.get(a.question_id)) for a in attempts if not a.correct)
    return Counter((c.week, c.name) for c in found if c is not None)


def kept_missing(
    attempts: list[Attempt], questions: dict[str, dict[str, Any]], concepts: Concepts
) -> list[tuple[Concept, int, int]]:
    """The concepts the learner keeps missing (at least MISSES wrong of their last WINDOW
    answers on it), as (concept, missed, answered) over those last answers, most missed first.
    `attempts` in the order they were made."""
    answers: dict[Concept, list[bool]] = {}
    for attempt in attempts:
        concept = concepts.of(questions.get(attempt.question_id))
        if concept is not None:
            answers.setdefault(concept, []).append(attempt.correct)
    recent = {concept: results[-WINDOW:] for concept, results in answers.items()}
    kept = [
        (concept, last.count(False), len(last))
        for concept, last in recent.items()
        if last.count(False) >= MISSES
    ]
    return sorted(kept, key=lambda row: (-row[1], row[0].week, row[0].name))


def answers(
    store: LearnerRecords, learner_id: int
) -> tuple[list[Attempt], dict[str, dict[str, Any]]]:
    """Everything the learner has answered, in the order they answered it, and the questions
    by id (from their review cards: every answered question has one)."""
    with store.sessions() as session:
        attempts = learner_rows(session, Attempt, learner_id, Attempt.created_at, Attempt.id)
        questions: dict[str, dict[str, Any]] = dict(
            session.execute(
                select(ReviewCard.question_id, ReviewCard.question).where(
                    ReviewCard.learner_id == learner_id
                )
            ).all()
        )
    return attempts, questions


def weak_spots(
    store: LearnerRecords, learner_id: int, notes: list[Note]
) -> Counter[tuple[int, str]]:
    """`missed_concepts` of everything the learner has answered."""
    return missed_concepts(*answers(store, learner_id), Concepts(notes))

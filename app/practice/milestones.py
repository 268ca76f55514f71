"""Monthly milestones, as the plan sets them: a concept quiz over all the month's topics, a
coding challenge, a project review and a peer feedback session.

The quiz is drawn across the month's four weeks: every week gets at least one question, and
the rest go to the weeks where the learner has missed most, and within a week to the concepts
they missed. Months 13-18 are planned as tracks, their weeks sharing the same notes, so their
quiz is drawn from the month's notes as one.

Pure: notes, misses and the curriculum in, questions and checklist items out; the learner
database keeps them (`app.records.milestones`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from app.course.curriculum import MONTHS
from app.course.curriculum import WEEKS_PER_MONTH
from app.course.curriculum import Curriculum
from app.course.notes import Note
from app.course.rubric import slug
from app.practice.quiz import KINDS
from app.practice.quiz import Question
from app.practice.quiz import QuizError
from app.practice.quiz import make_quiz
from app.practice.quiz import notes_for_week

MILESTONES_SECTION = "Monthly Milestones"  # the plan's own list, in study_method.assessment
QUIZ_ITEM = "technical-concept-quiz"  # the item done by answering the quiz, not by a tick


class NoMonth(LookupError):
    def __init__(self, month: int) -> None:
        super().__init__(f"month {month} is outside the plan: months are 1-{MONTHS}")


def month_weeks(month: int) -> list[int]:
    """The plan weeks of `month` (1-18): four each."""
    if not 1 <= month <= MONTHS:
        raise NoMonth(month)
    return list(range((month - 1) * WEEKS_PER_MONTH + 1, month * WEEKS_PER_MONTH + 1))


def allocate(n: int, weights: dict[int, int]) -> dict[int, int]:
    """`n` questions over the keys of `weights` (weeks, in order): one each, the rest in
    proportion to the weights (largest remainder; ties to the earlier week)."""
    if n < len(weights):
        raise QuizError(
            f"a milestone quiz needs at least {len(weights)} questions, one a week (asked for {n})"
        )
    shares = dict.fromkeys(weights, 1)
    spare, total = n - len(weights), sum(weights.values())
    exact = {key: spare * weight / total for key, weight in weights.items()}
    for key in weights:
        shares[key] += int(exact[key])
    left = n - sum(shares.values())
    for key in sorted(weights, key=lambda k: (-(exact[k] - int(exact[k])), k))[:left]:
        shares[key] += 1
    return shares


def units(notes: list[Note], month: int) -> dict[int, list[int]]:
    """The month's weeks grouped by the notes they are quizzed on: {first week: weeks}. Four
    groups of one week in months 1-12; one group in months 13-18, whose weeks share notes."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for week in month_weeks(month):
        key = tuple(sorted(str(note.path) for note in notes_for_week(notes, week)))
        groups.setdefault(key, []).append(week)
    return {weeks[0]: weeks for weeks in groups.values()}


def milestone_quiz(
    notes: list[Note],
    month: int,
    missed: Counter[tuple[int, str]],
    n: int = 8,
    kinds: tuple[str, ...] = KINDS,
    seed: float | str = 0,
    exclude: Set[str] = frozenset(),
) -> list[Question]:
    """`n` questions across `month`: every week (or the month's one group of notes) has one at
    least; `missed` ((week, concept) -> times missed) draws the rest toward the weeks and the
    concepts the learner has missed. None is in `exclude` (what the learner answered right
    lately): a week with too few others gives fewer, never a repeat. A QuizError when no week
    gives any (the notes have none of the kinds asked, or none not answered right lately): a
    quiz of no questions can't be taken, and kept it would replace the month's quiz."""
    groups = units(notes, month)
    weights = {
        first: 1 + sum(times for (week, _), times in missed.items() if week in weeks)
        for first, weeks in groups.items()
    }
    quiz: list[Question] = []
    why_none: dict[str, None] = {}  # each week's reason for giving no question, said once
    for first, count in allocate(n, weights).items():
        weak = frozenset(
            concept.lower() for (week, concept), _ in missed.items() if week in groups[first]
        )
        for fewer in range(count, 0, -1):
            try:
                quiz += make_quiz(
                    notes,
                    first,
                    n=fewer,
                    kinds=kinds,
                    seed=f"{seed}-milestone",
                    exclude=exclude | {q.id for q in quiz},
                    prefer=weak,
                )
                break
            except QuizError as exc:
                if fewer == 1:
                    why_none[str(exc)] = None
    if not quiz:
        raise QuizError(f"month {month}'s milestone quiz has no questions: " + "; ".join(why_none))
    return quiz


@dataclass(frozen=True)
class Item:
    """One line of a month's milestone checklist: the plan's words, and what of the month it
    draws on (`material`: [{week, text}]): the weeks' practice for the coding challenge, their
    assignments (the month's projects) for the project review."""

    id: str
    text: str
    material: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def checklist(curriculum: Curriculum, month: int) -> list[Item]:
    """The month's milestone checklist, from the plan's "Monthly Milestones"."""
    section = next(s for s in curriculum.study_method.assessment if s.title == MILESTONES_SECTION)
    items = []
    for line in section.items:
        item_id = slug(line.text.split("(")[0])
        field = MATERIAL.get(item_id.split("-")[0])
        items.append(Item(item_id, line.text, _of_month(curriculum, month, field) if field else []))
    return items


# A checklist item (by its first word) -> the week field it draws on.
MATERIAL = {"coding": "practice", "project": "assignment"}


def _of_month(curriculum: Curriculum, month: int, field: str) -> list[dict[str, Any]]:
    return [
        {"week": week, "text": item.text}
        for week in month_weeks(month)
        if (plan := curriculum.week(week)).week and (item := getattr(plan.week, field))
    ]

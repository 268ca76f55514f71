"""Synthetic learners working through the plan, to measure a mastery estimate on answers it
has not seen.

Neither candidate's own story: each simulated learner has an ability, each concept a
difficulty, and a concept is *learned* at some practice (more likely once its prerequisite
weeks are learned; the first step of Bayesian knowledge tracing) and then *forgotten* along
a power curve whose stability grows with each spaced success (the shape FSRS assumes). An
answer is right with the probability those give, past a guess and a slip. The learner follows
the plan a week at a time: a quiz on the week's concepts (a question or two each, minutes
apart), reviews of earlier concepts that come back later and later, a self-rating of the
week, and a code check in some weeks. Answers come out as what the tutor stores: a quiz answer
right or wrong, a review's rating, a self-rating out of 10, a check passed or failed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from app.course.notes import Note
from app.practice.mastery import Observation
from app.practice.mastery import Source
from app.progress.prerequisites import builds_on

START = dt.datetime(2026, 1, 5, 9, 0)
GUESS = 0.2  # a right answer without knowing: multiple choice and true/false
SLIP = 0.08  # a wrong answer while knowing


@dataclass
class _Memory:
    learned: bool = False
    stability: float = 2.0  # days until recall falls to 90%
    last: dt.datetime | None = None

    def recall(self, now: dt.datetime) -> float:
        if not self.learned or self.last is None:
            return 0.0
        days = max((now - self.last).total_seconds() / 86400, 0.0)
        return (1 + days / (9 * self.stability)) ** -1.0


@dataclass(frozen=True)
class _Concept:
    week: int
    name: str
    difficulty: float
    after: tuple[tuple[int, str], ...]  # the prerequisite weeks' concepts


def learners(
    notes: list[Note], count: int, weeks: int = 16, seed: int = 0
) -> list[list[Observation]]:
    """`count` learners' observations, each list in time order; the learner is its index.
    Weeks 1..`weeks` of the notes' concepts; deterministic for a `seed`."""
    rng = random.Random(seed)
    by_week = {n.meta.week: n for n in notes if n.meta.week <= weeks}
    concepts = [
        _Concept(
            week,
            name,
            rng.gauss(0, 0.7),
            tuple(
                (w, c)
                for w in builds_on(note, name)
                if w in by_week
                for c in by_week[w].meta.concepts
            ),
        )
        for week, note in sorted(by_week.items())
        for name in note.meta.concepts
    ]
    return [_one(rng, concepts) for _ in range(count)]


def _one(rng: random.Random, concepts: list[_Concept]) -> list[Observation]:
    ability = rng.gauss(0, 0.8)
    memory = {(c.week, c.name): _Memory() for c in concepts}
    seen: list[_Concept] = []
    log: list[Observation] = []
    now = START
    weeks = sorted({c.week for c in concepts})

    def answer(concept: _Concept, at: dt.datetime) -> bool:
        mind = memory[(concept.week, concept.name)]
        if not mind.learned:
            ready = (
                sum(memory[p].learned for p in concept.after) / len(concept.after)
                if concept.after
                else 1.0
            )
            chance = _sigmoid(ability - concept.difficulty - 0.6) * (0.35 + 0.65 * ready)
            if rng.random() < chance:
                mind.learned, mind.last = True, at
        p = GUESS + (1 - GUESS - SLIP) * mind.recall(at)
        right = rng.random() < p
        if mind.learned and right and mind.last is not None:
            gap = (at - mind.last).total_seconds() / 86400
            mind.stability *= 1 + min(gap / mind.stability, 3.0) * 0.8
        elif mind.learned and not right:
            mind.stability = max(mind.stability * 0.5, 0.5)
        if mind.learned:
            mind.last = at
        return right

    for week in weeks:
        now = max(now, START + dt.timedelta(days=7 * (week - 1))) + dt.timedelta(
            days=rng.choice((0, 0, 1, 3)), hours=rng.randint(0, 8)
        )
        todays = [c for c in concepts if c.week == week]
        seen.extend(todays)
        for day in range(7):
            moment = now + dt.timedelta(days=day, minutes=rng.randint(0, 120))
            if day in (0, 3):  # a quiz: the week's concepts, one or two questions each
                for concept in rng.sample(todays, len(todays)):
                    for _ in range(rng.choice((1, 1, 2))):
                        moment += dt.timedelta(minutes=rng.randint(1, 4))
                        right = answer(concept, moment)
                        log.append(_obs(concept, moment, "quiz", int(right)))
            if rng.random() < 0.6:  # reviews: earlier concepts, back after longer and longer
                for concept in seen:
                    mind = memory[(concept.week, concept.name)]
                    gap = (moment - (mind.last or moment)).total_seconds() / 86400
                    if concept.week < week and gap >= max(1.0, mind.stability * 0.9):
                        moment += dt.timedelta(minutes=1)
                        right = answer(concept, moment)
                        rating = (3 if rng.random() < 0.8 else 4) if right else 1
                        log.append(_obs(concept, moment, "review", rating))
        end = now + dt.timedelta(days=6, hours=20)
        for concept in todays:  # the self-rating: how the week feels, for each of its concepts
            felt = sum(memory[(c.week, c.name)].recall(end) for c in todays) / len(todays)
            rating = max(1, min(10, round(felt * 8 + rng.gauss(1.5, 1.5))))
            log.append(_obs(concept, end, "self-rating", rating))
        if week % 4 == 1:  # a code check on the week's first concept
            log.append(_obs(todays[0], end, "check", int(answer(todays[0], end))))
        now = end
    return sorted(log, key=lambda o: o.at)


def _obs(concept: _Concept, at: dt.datetime, source: Source, value: int) -> Observation:
    return Observation(concept.week, concept.name, at, source, value)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))

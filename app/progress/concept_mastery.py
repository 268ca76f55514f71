"""Each concept of the plan and how well the learner knows it now: what `GET
/learners/{id}/mastery`, `tutor mastery` and the Progress tab's map show. And the study
group's fit that decides which model says it (`tutor mastery --fit`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.course.notes import Note
from app.practice.mastery import Estimator
from app.practice.mastery import fit
from app.progress.prerequisites import builds_on
from app.records.base import NotFound
from app.records.base import naive_utc
from app.records.mastery import MasteryRecords
from app.records.mastery import in_use
from app.records.reviews import ReviewRecords
from app.records.weak_spots import sections

# A concept counts as mastered from this chance of a right answer on it now (pyBKT's and
# most tutors' mastery threshold is 0.95 of *being learned*; this is of *answering right*,
# which a guess can reach, hence a lower bar) and as shaky below the lower one.
MASTERED = 0.85
SHAKY = 0.6


def level(chance: float | None) -> str:
    """ "not seen", "shaky", "learning" or "mastered", by `chance` of a right answer now."""
    if chance is None:
        return "not seen"
    return "mastered" if chance >= MASTERED else "learning" if chance >= SHAKY else "shaky"


def concept_mastery(
    records: MasteryRecords, notes: list[Note], learner_id: int, now: dt.datetime
) -> dict[str, Any]:
    """Every concept of `notes` in plan order, each as {week, concept, builds_on (earlier
    weeks), chance (of a right answer now, 0-1; None before any observation), level, model
    ("fsrs" or "running accuracy"), answered, right, observations, due (review cards on it due
    now), last_seen (ISO UTC)}, with
    the model in use and the study group's last fit. Only what happened by `now` counts."""
    fit = records.latest()
    parameters = in_use(fit)
    estimator = Estimator(parameters)
    moment = naive_utc(now)
    counted: dict[tuple[int, str], int] = {}
    due = records.due(learner_id, now)
    for observation in records.observations(learner_id):
        if observation.at <= moment:
            estimator.see(observation)
            counted[observation.key] = counted.get(observation.key, 0) + 1
    concepts = []
    for note in sorted(notes, key=lambda n: n.meta.week):
        for name in note.meta.concepts:
            key = (note.meta.week, name)
            state = estimator.states.get(key)
            # a concept only rated (a week's self-rating), never answered, has no chance of
            # its own: the running accuracy would give it the learner's overall one
            judged = state is not None and (state.answered or parameters is not None)
            chance, model = estimator.chance(key, moment) if judged else (None, None)
            concepts.append(
                {
                    "week": note.meta.week,
                    "concept": name,
                    "builds_on": builds_on(note, name),
                    "chance": None if chance is None else round(chance, 3),
                    "level": level(chance),
                    "model": model,
                    "answered": state.answered if state else 0,
                    "right": state.right if state else 0,
                    "observations": counted.get(key, 0),
                    "due": due.get(key, 0),
                    "last_seen": state.last.replace(tzinfo=dt.UTC).isoformat()
                    if state and state.last
                    else None,
                }
            )
    return {
        "model": "fsrs" if parameters else "running accuracy",
        "fit": fit,
        "concepts": concepts,
    }


def fit_everyone(records: MasteryRecords, now: dt.datetime) -> dict[str, Any]:
    """Fit FSRS to every learner's concept log (`mastery.fit`) and keep it; it is used from
    now on only if it beat the running accuracy on held-out answers. Returns the kept fit as
    `MasteryRecords.latest` shows it. Raises scheduler.NotEnoughReviews below the
    Optimizer's minimum."""
    everyone = records.everyone()
    result = fit(everyone)
    return records.keep(result, len(everyone), now)


def concept_detail(
    report: dict[str, Any],
    records: MasteryRecords,
    notes: list[Note],
    reviews: ReviewRecords,
    learner_id: int,
    week: int,
    name: str,
) -> dict[str, Any]:
    """One concept opened, for the map: its row of `report` (`concept_mastery`'s), its
    `passage` (the concept's section of its note: {source, heading, week, text}) and the
    learner's review `cards` on it (as `GET .../cards` lists them). `name` in any case; NotFound
    for a concept the notes don't have, naming the week's."""
    of_week = [c for c in report["concepts"] if c["week"] == week]
    row = next((c for c in of_week if c["concept"].casefold() == name.casefold()), None)
    if row is None:
        named = "; ".join(c["concept"] for c in of_week) or "none: the notes skip that week"
        raise NotFound(f"the notes have no concept {name!r} in week {week} (its concepts: {named})")
    name = row["concept"]
    note = next(n for n in notes if n.meta.week == week and name in n.meta.concepts)
    on_it = records.card_ids(learner_id, (week, name))
    cards = [card for card in reviews.cards(learner_id) if card["id"] in on_it]
    passage = {
        "source": f"notes/{note.path.name}",
        "heading": name,
        "week": week,
        "text": sections(note).get(name, "").strip(),
    }
    return row | {"passage": passage, "cards": cards}

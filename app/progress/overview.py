"""A learner's progress at a glance: what the Progress tab and `tutor progress` show.

Pure summarising over what the learner store holds; no numbers are invented for weeks the
learner has not reached, nor for the weeks before the one they started in (a learner who joins
in week 18 is counted from week 18).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from app.course.curriculum import Curriculum
from app.course.notes import Note
from app.course.rubric import rubric
from app.progress.prerequisites import PrerequisitePassages
from app.progress.prerequisites import for_learner
from app.records.capstones import CapstoneRecords
from app.records.learners import JournalEntry
from app.records.learners import Learner
from app.records.learners import LearnerRecords
from app.records.learners import TaskTick
from app.records.milestones import MilestoneRecords
from app.records.schedules import ScheduleRecords
from app.records.weak_spots import Concepts
from app.records.weak_spots import answers
from app.records.weak_spots import missed_concepts


def progress(
    store: LearnerRecords,
    learner: Learner,
    curriculum: Curriculum,
    today: dt.date,
    notes: list[Note],
    passages: PrerequisitePassages,
) -> dict[str, Any]:
    """The learner's progress on `today` (their local date), as `GET /learners/{id}/progress`
    returns it. `notes` say which concept each question tests and which weeks a week builds
    on; `passages` finds the passage to reread for a concept kept missing (it opens the
    index only then)."""
    with store.sessions() as session:
        ticks = session.execute(
            select(TaskTick.week, TaskTick.done).where(TaskTick.learner_id == learner.id)
        ).all()
        journal = session.execute(
            select(JournalEntry.week, JournalEntry.created_at).where(
                JournalEntry.learner_id == learner.id
            )
        ).all()
    answered = answers(store, learner.id)
    attempts, questions = answered
    schedules = ScheduleRecords(store)
    pace = schedules.standing(learner, curriculum, today)
    replans = schedules.history(learner.id)
    ratings = store.ratings(learner.id)
    current, start = pace.current_week, pace.start_week
    done_by_week: Counter[int] = Counter(week for week, done in ticks if done)
    completion = []
    # From the week they joined in to the week they are on (or from the one they went back
    # to, when they set an earlier week than they joined in).
    for number in range(min(start, current), current + 1):
        plan = curriculum.week(number)
        total = len(plan.week.fields()) if plan.week else 0
        if total:
            completion.append(
                {
                    "week": number,
                    "done": done_by_week[number],
                    "total": total,
                    "share": round(done_by_week[number] / total, 3),
                }
            )
    by_day: dict[str, list[bool]] = defaultdict(list)
    by_week: dict[int, list[bool]] = defaultdict(list)
    for attempt in attempts:
        by_day[attempt.created_at.date().isoformat()].append(attempt.correct)
        by_week[attempt.week].append(attempt.correct)
    missed = missed_concepts(attempts, questions, Concepts(notes))
    active_days = {a.created_at.date() for a in attempts} | {day.date() for _, day in journal}
    return {
        "current_week": current,
        "start_week": start,
        "pace": pace.to_dict(),
        "replans": [record.to_dict() for record in replans],
        "milestones": MilestoneRecords(store).summaries(learner.id, curriculum),
        "capstones": CapstoneRecords(store).summaries(
            learner.id, [rubric(c, curriculum) for c in curriculum.capstones]
        ),
        "completion": completion,
        "quiz_accuracy_by_day": [
            {"day": day, "answered": len(r), "accuracy": round(sum(r) / len(r), 3)}
            for day, r in sorted(by_day.items())
        ],
        "quiz_accuracy_by_week": [
            {"week": w, "answered": len(r), "accuracy": round(sum(r) / len(r), 3)}
            for w, r in sorted(by_week.items())
        ],
        "self_ratings": [{"week": w, "rating": r} for w, r in sorted(ratings.items())],
        "streak_days": streak(active_days, today),
        "weak_concepts": [
            {"concept": concept, "week": w, "missed": n}
            for (w, concept), n in missed.most_common(5)
        ],
        "back_to_prerequisites": [b.to_dict() for b in for_learner(answered, notes, passages)],
    }


def streak(days: set[dt.date], today: dt.date) -> int:
    """Consecutive days with activity, ending today (or yesterday: today isn't over yet)."""
    day = today if today in days else today - dt.timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= dt.timedelta(days=1)
    return count

"""A learner's progress at a glance: what the Progress tab and `tutor progress` show.

Pure summarising over what the learner store holds; no numbers are invented for weeks the
learner has not reached.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select

from app.capstone_work import CapstoneRecords
from app.learners import (
    Attempt,
    JournalEntry,
    Learner,
    LearnerStore,
    ReviewCard,
    TaskTick,
    week_on,
)
from app.milestone_records import MilestoneRecords
from app.rubric import rubric
from app.schedules import Schedules
from app.weak_spots import missed_concepts
from ingest.curriculum import Curriculum


def progress(store: LearnerStore, learner: Learner, curriculum: Curriculum,
             today: dt.date) -> dict[str, Any]:
    current = week_on(learner, today)
    with store.sessions() as session:
        ticks = session.execute(select(TaskTick.week, TaskTick.done)
                                .where(TaskTick.learner_id == learner.id)).all()
        attempts = list(session.scalars(select(Attempt).where(Attempt.learner_id == learner.id)
                                        .order_by(Attempt.created_at, Attempt.id)))
        journal_days = set(session.scalars(select(JournalEntry.created_at)
                                           .where(JournalEntry.learner_id == learner.id)))
        questions = dict(session.execute(select(ReviewCard.question_id, ReviewCard.question)
                                         .where(ReviewCard.learner_id == learner.id)).all())
    done_by_week: Counter[int] = Counter(week for week, done in ticks if done)
    completion = []
    for number in range(1, current + 1):
        plan = curriculum.week(number)
        total = len(plan.week.fields()) if plan.week else 0
        if total:
            completion.append({"week": number, "done": done_by_week[number], "total": total,
                               "share": round(done_by_week[number] / total, 3)})
    by_day: dict[str, list[bool]] = defaultdict(list)
    by_week: dict[int, list[bool]] = defaultdict(list)
    for attempt in attempts:
        by_day[attempt.created_at.date().isoformat()].append(attempt.correct)
        by_week[attempt.week].append(attempt.correct)
    missed = missed_concepts(attempts, questions, curriculum)
    active_days = {a.created_at.date() for a in attempts} | {d.date() for d in journal_days}
    schedules = Schedules(store)
    return {
        "current_week": current,
        "pace": schedules.report(learner, curriculum, today).to_dict(),
        "replans": [record.to_dict() for record in schedules.history(learner.id)],
        "milestones": MilestoneRecords(store).summaries(learner.id, curriculum),
        "capstones": CapstoneRecords(store).summaries(
            learner.id, [rubric(c, curriculum) for c in curriculum.capstones]),
        "completion": completion,
        "quiz_accuracy_by_day": [{"day": day, "answered": len(r), "accuracy": round(sum(r) / len(r), 3)}
                                 for day, r in sorted(by_day.items())],
        "quiz_accuracy_by_week": [{"week": w, "answered": len(r), "accuracy": round(sum(r) / len(r), 3)}
                                  for w, r in sorted(by_week.items())],
        "self_ratings": [{"week": w, "rating": r} for w, r in sorted(store.ratings(learner.id).items())],
        "streak_days": streak(active_days, today),
        "weak_concepts": [{"concept": concept, "week": w, "missed": n}
                          for (w, concept), n in missed.most_common(5)],
    }


def streak(days: set[dt.date], today: dt.date) -> int:
    """Consecutive days with activity, ending today (or yesterday: today isn't over yet)."""
    day = today if today in days else today - dt.timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= dt.timedelta(days=1)
    return count

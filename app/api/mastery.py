"""Mastery per concept and the concept map: how well you know each concept of the plan, drawn
by week with what it builds on, and one concept opened (its passage and your cards on it). The
work is in `app.progress.concept_mastery` and `app.progress.concept_map`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from typing import Any

from fastapi import APIRouter
from fastapi import HTTPException
from fastapi import Query

from app.api.deps import LearnerDep
from app.api.deps import ServicesDep
from app.course.curriculum import LAST_WEEK
from app.progress.concept_map import map_data
from app.progress.concept_mastery import concept_detail
from app.progress.concept_mastery import concept_mastery
from app.records.base import NotFound
from app.records.mastery import MasteryRecords

router = APIRouter()

Week = Annotated[int, Query(ge=1, le=LAST_WEEK)]


def _report(
    learner_id: int, svc: ServicesDep, records: MasteryRecords | None = None
) -> dict[str, Any]:
    records = records or MasteryRecords(svc.learners, svc.notes)
    return concept_mastery(records, svc.notes, learner_id, dt.datetime.now(dt.UTC))


@router.get("/learners/{learner_id}/mastery")
def learner_mastery(learner: LearnerDep, svc: ServicesDep) -> dict[str, Any]:
    """Every concept of the plan's notes and how well you know it now: the chance your next
    answer on it is right (`chance`, None before you have met it), its `level` (shaky,
    learning, mastered, not seen), the weeks it `builds_on` and your reviews on it `due`. From
    your quiz answers, reviews, self-ratings and checks; FSRS per concept where the study
    group's fit (`tutor mastery --fit`) beat the running accuracy on held-out answers, else
    the running accuracy (`model`)."""
    return _report(learner.id, svc)


@router.get("/learners/{learner_id}/mastery/map")
def mastery_map(
    learner: LearnerDep, svc: ServicesDep, first: Week = 1, last: Week = LAST_WEEK
) -> dict[str, Any]:
    """The concepts of weeks `first`..`last` placed as a map (weeks left to right, `x` and
    `y` in [-1, 1]) with `edges` from the concept each builds on; what the Progress tab and
    `tutor map` draw. 422 when `first` comes after `last`."""
    if first > last:
        raise HTTPException(
            status_code=422, detail=f"first ({first}) comes after last ({last}): swap them"
        )
    return map_data(_report(learner.id, svc), svc.concept_edges, first, last)


@router.get("/learners/{learner_id}/mastery/concept")
def mastery_concept(
    learner: LearnerDep,
    svc: ServicesDep,
    week: Week,
    name: Annotated[str, Query(min_length=1, max_length=200)],
) -> dict[str, Any]:
    """One concept opened: its row of the mastery report, its `passage` in the notes (source,
    heading, text) and your review `cards` on it. 404 for a concept the notes don't have."""
    try:
        records = MasteryRecords(svc.learners, svc.notes)  # its concepts serve both
        report = _report(learner.id, svc, records)
        return concept_detail(report, records, svc.notes, svc.reviews, learner.id, week, name)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc

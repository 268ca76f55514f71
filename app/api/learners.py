"""Learners: their week, checklist, self-ratings, journal and progress."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from fastapi import HTTPException

from app.api.deps import CurriculumDep
from app.api.deps import LearnerDep
from app.api.deps import ServicesDep
from app.api.deps import StandingDep
from app.api.deps import TodayDep
from app.api.deps import rate_limited
from app.api.params import WeekQuery
from app.api.schemas import JournalIn
from app.api.schemas import LearnerCreate
from app.api.schemas import LearnerCreated
from app.api.schemas import LearnerPublic
from app.api.schemas import Rating
from app.api.schemas import TaskUpdate
from app.api.schemas import WeekChoice
from app.course.curriculum import WeekOutOfRange
from app.progress.overview import progress
from app.progress.prerequisites import PrerequisitePassages
from app.records.base import NotFound

router = APIRouter()


@router.post(
    "/learners",
    status_code=201,
    response_model=LearnerCreated,
    dependencies=[rate_limited("new learners")],
)
def create_learner(body: LearnerCreate, svc: ServicesDep) -> LearnerCreated:
    """Create a learner. The token in the response is shown this once; keep it."""
    learner, token = svc.learners.create(body.name, body.start_date, body.pace, body.current_week)
    standing = svc.schedules.standing(learner, svc.curriculum, dt.date.today())
    return LearnerCreated(**LearnerPublic.of(learner, standing).model_dump(), token=token)


@router.get("/learners/{learner_id}", response_model=LearnerPublic)
def get_learner(learner: LearnerDep, standing: StandingDep) -> LearnerPublic:
    return LearnerPublic.of(learner, standing)


@router.put("/learners/{learner_id}/week", response_model=LearnerPublic)
def set_week(
    body: WeekChoice, learner: LearnerDep, svc: ServicesDep, today: TodayDep
) -> LearnerPublic:
    """You are in `week` today; the calendar moves you on from it at your pace."""
    moved = svc.learners.set_week(learner.id, body.week, today)
    return LearnerPublic.of(moved, svc.schedules.standing(moved, svc.curriculum, today))


@router.get("/learners/{learner_id}/weeks/{week}/tasks")
def tasks(
    week: int, learner: LearnerDep, svc: ServicesDep, cur: CurriculumDep
) -> list[dict[str, Any]]:
    try:
        return [vars(t) for t in svc.learners.checklist(learner.id, week, cur)]
    except WeekOutOfRange as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.put("/learners/{learner_id}/weeks/{week}/tasks/{task}")
def tick(
    week: int,
    task: str,
    body: TaskUpdate,
    learner: LearnerDep,
    svc: ServicesDep,
    cur: CurriculumDep,
) -> list[dict[str, Any]]:
    try:
        return [vars(t) for t in svc.learners.tick(learner.id, week, task, body.done, cur)]
    except (WeekOutOfRange, NotFound) as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.put("/learners/{learner_id}/weeks/{week}/rating", status_code=204)
def rate(week: int, body: Rating, learner: LearnerDep, svc: ServicesDep) -> None:
    try:
        svc.learners.rate(learner.id, week, body.rating)
    except WeekOutOfRange as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.get("/learners/{learner_id}/ratings")
def ratings(learner: LearnerDep, svc: ServicesDep) -> dict[int, int]:
    return svc.learners.ratings(learner.id)


@router.post("/learners/{learner_id}/journal", status_code=201)
def write_journal(
    body: JournalIn,
    learner: LearnerDep,
    svc: ServicesDep,
    standing: StandingDep,
    week: WeekQuery = None,
) -> dict[str, Any]:
    entry = svc.learners.write_journal(learner.id, week or standing.current_week, body.text)
    return {"id": entry.id, "week": entry.week, "text": entry.text}


@router.get("/learners/{learner_id}/journal")
def journal(learner: LearnerDep, svc: ServicesDep) -> list[dict[str, Any]]:
    return [entry.to_dict() for entry in svc.learners.journal(learner.id)]


@router.get("/learners/{learner_id}/progress")
def learner_progress(
    learner: LearnerDep, svc: ServicesDep, cur: CurriculumDep, today: TodayDep
) -> dict[str, Any]:
    """Completion per week, quiz accuracy over time and per week, self-ratings, streak,
    the concepts missed most (worth revisiting with the tutor), the prerequisite week and
    passage to reread for each concept you keep missing, your pace against the plan (as
    GET /learners/{id}/pace) and your re-plans. Counted from the week you started in."""
    return progress(
        svc.learners, learner, cur, today, svc.notes, PrerequisitePassages(lambda: svc.retriever)
    )

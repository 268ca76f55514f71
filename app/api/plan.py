"""The learning plan: its 72 weeks, and a learner's place in it (pace, today's task,
re-plans)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import HTTPException

from app.api.deps import CurriculumDep
from app.api.deps import LearnerDep
from app.api.deps import ServicesDep
from app.api.deps import StandingDep
from app.api.deps import TodayDep
from app.api.schemas import ReplanIn
from app.api.schemas import WeekSummary
from app.course.curriculum import LAST_WEEK
from app.course.curriculum import WeekOutOfRange
from app.course.pacing import pace_from_hours

router = APIRouter()


@router.get("/weeks", response_model=list[WeekSummary])
def weeks(cur: CurriculumDep) -> list[WeekSummary]:
    plans = [cur.week(n) for n in range(1, LAST_WEEK + 1)]
    return [
        WeekSummary(
            number=p.number,
            title=p.title,
            month=p.month.number,
            phase=p.phase.number,
            detailed=p.week is not None,
        )
        for p in plans
    ]


@router.get("/weeks/{number}")
def week(number: int, cur: CurriculumDep) -> dict[str, Any]:
    try:
        return cur.week(number).model_dump(mode="json")
    except WeekOutOfRange as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.get("/learners/{learner_id}/pace")
def pace(standing: StandingDep) -> dict[str, Any]:
    """Where you stand against the plan today: the week you joined in (`start_week`), the
    week you are on (`current_week`, the first one not yet done), the week the calendar puts
    you in (`scheduled_week`), `weeks_ahead` (positive ahead, negative behind; finishing the
    scheduled week early is on track), the projected finish, and the next capstone's plan
    weeks of work left and due date."""
    return standing.to_dict()


@router.get("/learners/{learner_id}/today")
def today_(
    learner: LearnerDep, svc: ServicesDep, cur: CurriculumDep, today: TodayDep
) -> dict[str, Any]:
    """Today's task: the plan's activity for the weekday (Monday theory ... Friday review)
    applied to your week, with your ticks."""
    return svc.schedules.today(learner, cur, today).to_dict()


@router.post("/learners/{learner_id}/replan")
def replan(
    body: ReplanIn, learner: LearnerDep, svc: ServicesDep, cur: CurriculumDep, today: TodayDep
) -> dict[str, Any]:
    """Resume the plan today from where your ticks have you (the rest of the schedule moves,
    capstones with their quarter's weeks), optionally at a new pace; the re-plan is kept."""
    new_pace = body.pace
    if body.hours_per_week is not None:
        try:
            new_pace = pace_from_hours(body.hours_per_week, cur)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
    moved, record = svc.schedules.replan(learner.id, cur, today, new_pace)
    return {"replan": record.to_dict(), "pace": svc.schedules.standing(moved, cur, today).to_dict()}


@router.get("/learners/{learner_id}/replans")
def replans(learner: LearnerDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """Your re-plans, oldest first."""
    return [record.to_dict() for record in svc.schedules.history(learner.id)]

"""Capstones: each quarter's rubric from the plan, and a learner's work against it
(deliverables ticked, links, self-review)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import HTTPException

from app.api.deps import CurriculumDep
from app.api.deps import LearnerDep
from app.api.deps import ServicesDep
from app.api.deps import TodayDep
from app.api.schemas import CapstoneLinks
from app.api.schemas import CapstoneReview
from app.api.schemas import DeliverableTick
from app.course.curriculum import Curriculum
from app.course.rubric import NoCapstone
from app.course.rubric import Rubric
from app.course.rubric import rubric
from app.course.rubric import rubric_for

router = APIRouter()


def _rubric(quarter: int, cur: Curriculum) -> Rubric:
    try:
        return rubric_for(quarter, cur)
    except NoCapstone as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.get("/capstones")
def capstones(cur: CurriculumDep) -> list[dict[str, Any]]:
    """Every capstone's rubric: scope, deliverables and focus as criteria."""
    return [rubric(c, cur).to_dict() for c in cur.capstones]


@router.get("/capstones/{quarter}")
def capstone(quarter: int, cur: CurriculumDep) -> dict[str, Any]:
    """Quarter `quarter`'s capstone rubric (quarters 1-4 have one)."""
    return _rubric(quarter, cur).to_dict()


@router.get("/learners/{learner_id}/capstones/{quarter}")
def capstone_work(
    quarter: int, learner: LearnerDep, svc: ServicesDep, cur: CurriculumDep
) -> dict[str, Any]:
    """The rubric with your work on it: deliverables ticked, links, scores and note."""
    return svc.capstones.read(learner.id, _rubric(quarter, cur))


@router.put("/learners/{learner_id}/capstones/{quarter}/deliverables/{deliverable}")
def tick_deliverable(
    quarter: int,
    deliverable: str,
    body: DeliverableTick,
    learner: LearnerDep,
    svc: ServicesDep,
    cur: CurriculumDep,
) -> dict[str, Any]:
    """Tick (or untick) a deliverable, by its criterion id."""
    plan = _rubric(quarter, cur)
    try:
        svc.capstones.tick(learner.id, plan, deliverable, body.done)
    except KeyError as exc:
        raise HTTPException(status_code=404, detail=exc.args[0]) from exc
    return svc.capstones.read(learner.id, plan)


@router.put("/learners/{learner_id}/capstones/{quarter}/links")
def link_work(
    quarter: int, body: CapstoneLinks, learner: LearnerDep, svc: ServicesDep, cur: CurriculumDep
) -> dict[str, Any]:
    """Link your repository and report (null clears one; one left out is kept)."""
    plan = _rubric(quarter, cur)
    svc.capstones.link(learner.id, plan, body.given())
    return svc.capstones.read(learner.id, plan)


@router.put("/learners/{learner_id}/capstones/{quarter}/review")
def review(
    quarter: int,
    body: CapstoneReview,
    learner: LearnerDep,
    svc: ServicesDep,
    cur: CurriculumDep,
    today: TodayDep,
) -> dict[str, Any]:
    """Score yourself against the rubric, 1-4 per criterion, with a note; kept in progress."""
    plan = _rubric(quarter, cur)
    try:
        svc.capstones.review(learner.id, plan, body.scores, body.note, today)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return svc.capstones.read(learner.id, plan)

"""Monthly milestones: the month's milestone quiz, drawn across its four weeks toward what
you have missed, and its checklist (coding challenge, project review, peer feedback)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from fastapi import HTTPException

from app.api.deps import CurriculumDep
from app.api.deps import LearnerDep
from app.api.deps import ServicesDep
from app.api.params import MonthPath
from app.api.schemas import MilestoneQuizIn
from app.api.schemas import TaskUpdate
from app.practice.quiz import QuizError
from app.records.base import NotFound
from app.records.milestones import QuizItemIsAnswered

router = APIRouter()


@router.get("/learners/{learner_id}/milestones/{month}")
def milestone(
    month: MonthPath, learner: LearnerDep, svc: ServicesDep, cur: CurriculumDep
) -> dict[str, Any]:
    """The month's milestone: its quiz with your results by week, and the checklist."""
    return svc.milestones.status(learner.id, month, cur)


@router.post("/learners/{learner_id}/milestones/{month}/quiz", status_code=201)
def milestone_quiz(
    month: MonthPath, body: MilestoneQuizIn, learner: LearnerDep, svc: ServicesDep
) -> dict[str, Any]:
    """A milestone quiz over the month: every week has a question, the rest lean toward the
    concepts you have missed. Answer it at POST /learners/{id}/quizzes/{quiz_id}/answers:
    results count in progress and missed questions come back in reviews."""
    try:
        quiz_id, questions = svc.milestones.new_quiz(
            learner.id,
            month,
            svc.notes,
            n=body.n,
            kinds=tuple(body.kinds),
            seed=f"{learner.id}-{dt.datetime.now().isoformat()}",
        )
    except QuizError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return {"quiz_id": quiz_id, "month": month, "questions": [q.public() for q in questions]}


@router.put("/learners/{learner_id}/milestones/{month}/items/{item}")
def tick_item(
    month: MonthPath,
    item: str,
    body: TaskUpdate,
    learner: LearnerDep,
    svc: ServicesDep,
    cur: CurriculumDep,
) -> dict[str, Any]:
    """Tick a checklist item (the coding challenge, project review, peer feedback)."""
    try:
        svc.milestones.tick(learner.id, month, item, body.done, cur)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except QuizItemIsAnswered as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return svc.milestones.status(learner.id, month, cur)

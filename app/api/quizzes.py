"""Quizzes and spaced review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from fastapi import HTTPException

from app.api.deps import LearnerDep
from app.api.deps import ServicesDep
from app.api.deps import StandingDep
from app.api.params import Id
from app.api.schemas import AnswerIn
from app.api.schemas import QuizRequest
from app.api.schemas import ResponseIn
from app.api.schemas import ReviewAnswerIn
from app.api.services import Services
from app.llm.providers import LLMError
from app.practice.distractors import concept_space
from app.practice.grading import glossary
from app.practice.grading import grade
from app.practice.grading import outcome
from app.practice.grading import ratings_for
from app.practice.grading import self_rated
from app.practice.quiz import LLM
from app.practice.quiz import QuizError
from app.practice.quiz import make_quiz
from app.practice.quiz import topic_concepts
from app.practice.quiz import topic_notes
from app.practice.quiz import topic_quiz
from app.records.base import AlreadyAnswered
from app.records.base import NotFound
from app.records.learners import Learner
from app.records.reviews import OWN
from app.records.reviews import NotDue
from app.records.reviews import comes_back

router = APIRouter()


@router.post("/learners/{learner_id}/quizzes", status_code=201)
def new_quiz(
    body: QuizRequest, learner: LearnerDep, svc: ServicesDep, standing: StandingDep
) -> dict[str, Any]:
    """A quiz on the week's material, or with `topic` on what a conversation was about
    ("Quiz me on this"): questions from the notes closest to the topic and the passages that
    answered it (up to `n`: fewer when the notes have fewer on the topic; `concepts` says
    which concepts the topic was taken to be about). Answers are checked one by one
    afterwards; options come in an order of your own."""
    week = body.week or standing.current_week
    records = svc.quizzes
    seed = f"{learner.id}-{dt.datetime.now().isoformat()}"
    embedder = svc.retriever.embedder
    passages = [p.text for p in body.passages]
    weeks = {week, *(p.week for p in body.passages if p.week)}
    try:
        if body.topic:
            questions = topic_quiz(
                svc.notes,
                body.topic,
                passages,
                weeks,
                n=body.n,
                kinds=tuple(body.kinds),
                seed=seed,
                exclude=records.recent_ids(learner.id),
                learner=learner.id,
                embedder=embedder,
            )
        else:
            questions = make_quiz(
                svc.notes,
                week,
                n=body.n,
                kinds=tuple(body.kinds),
                seed=seed,
                exclude=records.recent_ids(learner.id),
                writer=svc.writer if LLM in body.kinds else None,
                learner=learner.id,
                space=concept_space(svc.notes, embedder),
            )
    except QuizError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except LLMError as exc:  # the model is misconfigured (it failing midway is filled in)
        raise HTTPException(status_code=503, detail=str(exc)) from exc
    quiz_id = records.save(learner.id, week, questions)
    return {
        "quiz_id": quiz_id,
        "week": week,
        "topic": body.topic,
        "concepts": (
            topic_concepts(topic_notes(svc.notes, weeks), body.topic, passages)
            if body.topic
            else []
        ),
        "questions": [q.public() for q in questions],
    }


def _review_question(svc: Services, learner: Learner, question_id: str) -> Any:
    try:
        question = svc.quizzes.review_question(learner.id, question_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    if question.kind == OWN:
        raise HTTPException(
            status_code=422,
            detail=f"{question_id} is your own card: see its "
            f"back (GET .../cards/{question_id}) and rate it (POST "
            f".../cards/{question_id}/rating)",
        )
    return question


def _graded(svc: Services, question: Any, response: str) -> Any:
    try:
        return grade(
            question, response, svc.retriever.embedder.similarity, svc.judge, glossary(svc.notes)
        )
    except LLMError as exc:  # a misconfigured judge; one failing to answer is fallen back on
        raise HTTPException(status_code=503, detail=str(exc)) from exc


def _answer(
    svc: Services,
    learner: Learner,
    quiz_id: str | None,
    question: Any,
    response: str,
    rating: str | None = None,
) -> dict[str, Any]:
    result = _graded(svc, question, response)
    try:
        result = self_rated(question, result, rating) if rating else result
    except QuizError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    now = dt.datetime.now(dt.UTC)
    try:
        due = svc.quizzes.answer(learner.id, quiz_id, question, response, result, now)
    except (AlreadyAnswered, NotDue) as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return outcome(question, result) | comes_back(due, now)


@router.post("/learners/{learner_id}/quizzes/{quiz_id}/answers")
def answer_quiz(
    quiz_id: Id, body: AnswerIn, learner: LearnerDep, svc: ServicesDep
) -> dict[str, Any]:
    """Grade one answer, with feedback quoting the source; schedules its review (FSRS)."""
    try:
        question = svc.quizzes.question(learner.id, quiz_id, body.question_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return _answer(svc, learner, quiz_id, question, body.response)


@router.get("/learners/{learner_id}/reviews/due")
def due_reviews(
    learner: LearnerDep, svc: ServicesDep, until: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Questions whose review is due (now, or by `until`)."""
    until = until or dt.datetime.now(dt.UTC)
    try:  # a naive `until` is UTC already
        until = until.astimezone(dt.UTC) if until.tzinfo else until
    except OverflowError as exc:  # 9999-12-31T23:59-10:00 is after the last UTC datetime
        raise HTTPException(
            status_code=422,
            detail=f"until={until.isoformat()} is out of "
            "range in UTC: give a date before 9999-12-31",
        ) from exc
    return [q.public() for q in svc.quizzes.due(learner.id, until)]


@router.post("/learners/{learner_id}/reviews/{question_id}")
def answer_review(
    question_id: Id, body: ReviewAnswerIn, learner: LearnerDep, svc: ServicesDep
) -> dict[str, Any]:
    """Answer a due review; the card is rescheduled from the result, or for a short answer
    from your own `rating` when you give one."""
    question = _review_question(svc, learner, question_id)
    return _answer(svc, learner, None, question, body.response, body.rating)


@router.post("/learners/{learner_id}/reviews/{question_id}/check")
def check_review(
    question_id: Id, body: ResponseIn, learner: LearnerDep, svc: ServicesDep
) -> dict[str, Any]:
    """See how an answer compares, with the answer and its source, before rating it
    yourself: nothing is recorded or rescheduled. Then post the review with your
    `rating` (one of `rate_with`; short answers only, the rest are graded exactly)."""
    question = _review_question(svc, learner, question_id)
    return outcome(question, _graded(svc, question, body.response)) | {
        "rate_with": list(ratings_for(question))
    }

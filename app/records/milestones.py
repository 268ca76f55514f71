"""A learner's monthly milestones, kept in the learner database: the month's milestone quiz
(its answers are ordinary attempts, so they count in progress and come back in reviews) and
the checklist ticks (coding challenge, project review, peer feedback)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from app.course.curriculum import Curriculum
from app.course.notes import Note
from app.practice.milestones import QUIZ_ITEM
from app.practice.milestones import checklist
from app.practice.milestones import milestone_quiz
from app.practice.milestones import month_weeks
from app.practice.quiz import Question
from app.practice.quiz import question_from_dict
from app.records.base import Base
from app.records.base import NotFound
from app.records.learners import LearnerRecords
from app.records.quizzes import Attempt
from app.records.quizzes import Quiz
from app.records.quizzes import QuizRecords
from app.records.weak_spots import weak_spots

# A question answered right this recently is not asked again in a milestone quiz: the
# month's review should test what the learner has not just shown they know.
REPEAT_AFTER = dt.timedelta(days=7)


class Milestone(Base):
    __tablename__ = "milestones"
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[str | None] = mapped_column(
        ForeignKey("quizzes.id", ondelete="SET NULL"), nullable=True
    )
    ticks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # item id -> done
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )


class QuizItemIsAnswered(ValueError):
    """The checklist's quiz is done by answering the milestone quiz, not by a tick."""


class MilestoneRecords:
    """Monthly milestones of the learners of one store."""

    def __init__(self, store: LearnerRecords) -> None:
        self.store = store
        self.sessions = store.sessions

    def _row(self, session: Session, learner_id: int, month: int) -> Milestone:
        row = session.get(Milestone, (learner_id, month))
        if row is None:
            row = Milestone(learner_id=learner_id, month=month, ticks={})
            session.add(row)
        return row

    def new_quiz(
        self,
        learner_id: int,
        month: int,
        notes: list[Note],
        n: int,
        kinds: tuple[str, ...],
        seed: float | str,
    ) -> tuple[str, list[Question]]:
        """Draw the month's milestone quiz toward the learner's weak spots and keep it as the
        month's (a retake replaces the one before; its answers stay in progress and reviews).
        Questions seen before may come back (a milestone reviews the month), but not one
        answered right within `REPEAT_AFTER`. Returns the quiz's id, for answering as any quiz
        is answered, and its questions."""
        missed = weak_spots(self.store, learner_id, notes)
        since = dt.datetime.now(dt.UTC) - REPEAT_AFTER
        known = QuizRecords(self.store).answered_right_since(learner_id, since)
        questions = milestone_quiz(notes, month, missed, n=n, kinds=kinds, seed=seed, exclude=known)
        quiz_id = QuizRecords(self.store).save(learner_id, month_weeks(month)[-1], questions)
        with self.sessions.begin() as session:
            self._row(session, learner_id, month).quiz_id = quiz_id
        return quiz_id, questions

    def tick(
        self, learner_id: int, month: int, item: str, done: bool, curriculum: Curriculum
    ) -> None:
        """Tick a checklist item; NotFound names the items, and the quiz item can't be ticked."""
        ids = [i.id for i in checklist(curriculum, month)]
        if item == QUIZ_ITEM:
            raise QuizItemIsAnswered(
                f"{QUIZ_ITEM} is done by answering the month's milestone quiz, not by a tick"
            )
        if item not in ids:
            raise NotFound(
                f"month {month}'s milestone has no item {item!r}; its items are: " + ", ".join(ids)
            )
        with self.sessions.begin() as session:
            row = self._row(session, learner_id, month)
            row.ticks = {**row.ticks, item: done}

    def status(self, learner_id: int, month: int, curriculum: Curriculum) -> dict[str, Any]:
        """The month's milestone: its quiz and results by week, and the checklist.

        {"month", "title", "weeks", "quiz": null | {"quiz_id", "questions", "answered",
        "correct", "score", "by_week": [{"week", "questions", "answered", "correct"}]},
        "checklist": [{"id", "text", "material", "done"}], "done"}"""
        weeks = month_weeks(month)
        with self.sessions() as session:
            row = session.get(Milestone, (learner_id, month))
            quiz = _results(session, row.quiz_id) if row and row.quiz_id else None
        ticks = row.ticks if row else {}
        items = [
            item.to_dict()
            | {
                "done": (quiz is not None and quiz["answered"] == len(quiz["questions"]))
                if item.id == QUIZ_ITEM
                else bool(ticks.get(item.id))
            }
            for item in checklist(curriculum, month)
        ]
        return {
            "month": month,
            "title": curriculum.months[month - 1].title,
            "weeks": weeks,
            "quiz": quiz,
            "checklist": items,
            "done": all(i["done"] for i in items),
        }

    def summaries(self, learner_id: int, curriculum: Curriculum) -> list[dict[str, Any]]:
        """One line per month the learner has begun a milestone in: quiz score, items done."""
        with self.sessions() as session:
            months = list(
                session.scalars(
                    select(Milestone.month)
                    .where(Milestone.learner_id == learner_id)
                    .order_by(Milestone.month)
                )
            )
        found = []
        for month in months:
            status = self.status(learner_id, month, curriculum)
            quiz = status["quiz"] or {}
            found.append(
                {
                    "month": month,
                    "title": status["title"],
                    "quiz_score": quiz.get("score"),
                    "answered": quiz.get("answered", 0),
                    "questions": len(quiz.get("questions", [])),
                    "items_done": sum(i["done"] for i in status["checklist"]),
                    "items": len(status["checklist"]),
                    "done": status["done"],
                }
            )
        return found


def _results(session: Session, quiz_id: str) -> dict[str, Any] | None:
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        return None
    questions = [question_from_dict(q) for q in quiz.questions]
    answers = {
        a.question_id: a.correct
        for a in session.scalars(select(Attempt).where(Attempt.quiz_id == quiz_id))
    }
    by_week: dict[int, dict[str, int]] = {}
    for question in questions:
        week = by_week.setdefault(
            question.citation["week"], {"questions": 0, "answered": 0, "correct": 0}
        )
        week["questions"] += 1
        week["answered"] += question.id in answers
        week["correct"] += bool(answers.get(question.id))
    answered, correct = len(answers), sum(answers.values())
    return {
        "quiz_id": quiz_id,
        "questions": [q.public() for q in questions],
        "answered": answered,
        "correct": correct,
        "score": round(correct / answered, 3) if answered else None,
        "by_week": [{"week": week, **counts} for week, counts in sorted(by_week.items())],
    }

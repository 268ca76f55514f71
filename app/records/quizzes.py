"""Quizzes given and answers recorded once; an answer reschedules its question's review card."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from app.practice.grading import Grade
from app.practice.quiz import Question
from app.practice.quiz import question_from_dict
from app.records.base import AlreadyAnswered
from app.records.base import Base
from app.records.base import NotFound
from app.records.base import naive_utc
from app.records.card_sources import with_quote_hash
from app.records.learners import LearnerRecords
from app.records.reviews import ReviewCard
from app.records.reviews import aware
from app.records.reviews import reschedule


class Quiz(Base):
    __tablename__ = "quizzes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column(Integer)
    questions: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class Attempt(Base):
    __tablename__ = "attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    quiz_id: Mapped[str | None] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(32))
    week: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    response: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class QuizRecords:
    """Quizzes given, answers recorded once, and review cards rescheduled by FSRS."""

    def __init__(self, store: LearnerRecords) -> None:
        self.sessions = store.sessions

    def save(self, learner_id: int, week: int, questions: list[Question]) -> str:
        quiz = Quiz(
            id=secrets.token_hex(8),
            learner_id=learner_id,
            week=week,
            questions=[q.to_dict() for q in questions],
        )
        with self.sessions.begin() as session:
            session.add(quiz)
        return quiz.id

    def question(self, learner_id: int, quiz_id: str, question_id: str) -> Question:
        with self.sessions() as session:
            quiz = session.get(Quiz, quiz_id)
        if quiz is None or quiz.learner_id != learner_id:
            raise NotFound(f"no quiz {quiz_id}")
        found = next((q for q in quiz.questions if q["id"] == question_id), None)
        if found is None:
            raise NotFound(f"quiz {quiz_id} has no question {question_id}")
        return question_from_dict(found)

    def recent_ids(self, learner_id: int, limit: int = 100) -> set[str]:
        with self.sessions() as session:
            rows = session.scalars(
                select(Attempt.question_id)
                .where(Attempt.learner_id == learner_id)
                .order_by(Attempt.id.desc())
                .limit(limit)
            )
            return set(rows)

    def answered_right_since(self, learner_id: int, since: dt.datetime) -> set[str]:
        """The questions the learner answered right from `since` (aware UTC) on."""
        with self.sessions() as session:
            return set(
                session.scalars(
                    select(Attempt.question_id).where(
                        Attempt.learner_id == learner_id,
                        Attempt.correct.is_(True),
                        Attempt.created_at >= naive_utc(since),
                    )
                )
            )

    def answer(
        self,
        learner_id: int,
        quiz_id: str | None,
        question: Question,
        response: str,
        grade: Grade,
        now: dt.datetime,
    ) -> dt.datetime:
        """Record the answer and reschedule the question's review card; returns when it is due."""
        with self.sessions() as session, session.begin():
            session.add(
                Attempt(
                    learner_id=learner_id,
                    quiz_id=quiz_id,
                    question_id=question.id,
                    week=question.citation["week"],
                    kind=question.kind,
                    response=response,
                    correct=grade.correct,
                    score=grade.score,
                )
            )
            try:
                session.flush()
            except IntegrityError as exc:
                raise AlreadyAnswered(
                    f"question {question.id} of quiz {quiz_id} is already "
                    "answered; it will come back in your reviews"
                ) from exc
            card = session.get(ReviewCard, (learner_id, question.id))
            if card is not None and quiz_id is not None and aware(card.due) > now:
                # a quiz asked a question ahead of its review: the answer counts in the
                # quiz, and the card keeps its schedule (a review is a review when due)
                return aware(card.due)
            card = card or ReviewCard(
                learner_id=learner_id,
                question_id=question.id,
                question=with_quote_hash(question.to_dict()),
                suspended=False,
            )
            due = reschedule(session, card, grade.fsrs_rating, now)
            session.add(card)
        return due

    def due(self, learner_id: int, until: dt.datetime) -> list[Question]:
        """The learner's cards due by `until`, soonest first; suspended ones never are."""
        with self.sessions() as session:
            cards = session.scalars(
                select(ReviewCard)
                .where(
                    ReviewCard.learner_id == learner_id,
                    ReviewCard.due <= naive_utc(until),
                    ReviewCard.suspended.is_(False),
                )
                .order_by(ReviewCard.due)
            )
            return [question_from_dict(card.question) for card in cards]

    def review_question(self, learner_id: int, question_id: str) -> Question:
        with self.sessions() as session:
            card = session.get(ReviewCard, (learner_id, question_id))
        if card is None:
            raise NotFound(f"no review card for question {question_id}")
        return question_from_dict(card.question)

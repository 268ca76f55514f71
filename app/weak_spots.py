"""What a learner misses: the concepts behind their wrong answers, by week. Progress lists
the worst; milestone quizzes lean toward them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from app.learners import Attempt, LearnerStore, ReviewCard
from ingest.curriculum import Curriculum


def missed_concepts(attempts: list[Attempt], questions: dict[str, dict[str, Any]],
                    curriculum: Curriculum) -> Counter[tuple[int, str]]:
    """(week, concept) -> times missed: the learner's weak spots. `questions`: the review
    cards' questions by id, which say what each question tests."""
    return Counter((a.week, topic(questions.get(a.question_id), a.week, curriculum))
                   for a in attempts if not a.correct)


def weak_spots(store: LearnerStore, learner_id: int,
               curriculum: Curriculum) -> Counter[tuple[int, str]]:
    """`missed_concepts` of everything the learner has answered."""
    with store.sessions() as session:
        attempts = list(session.scalars(select(Attempt).where(Attempt.learner_id == learner_id,
                                                              Attempt.correct.is_(False))))
        questions = dict(session.execute(select(ReviewCard.question_id, ReviewCard.question)
                                         .where(ReviewCard.learner_id == learner_id)).all())
    return missed_concepts(attempts, questions, curriculum)


def topic(question: dict[str, Any] | None, week: int, curriculum: Curriculum) -> str:
    """What a question tests: the concept for MCQ and cloze (their answer), else the week."""
    if question and question["kind"] in ("mcq", "cloze"):
        return question["answer"]
    return curriculum.week(week).title

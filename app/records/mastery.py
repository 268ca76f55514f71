"""What the mastery estimate reads from the learner database, and the fit it keeps there.

Each learner's observations of the plan's concepts, gathered from four record kinds:
- quiz answers (`attempts` of a quiz), each on the concept its question tests
  (`weak_spots.Concepts`);
- reviews: a quiz question answered again when it came back (an attempt of no quiz; right is
  "good", wrong "again"), and the learner's own cards rated (`review_logs`, less the entry
  each answer writes for itself);
- self-ratings of a week, one observation for each of the week's concepts;
- `tutor check` results, passed or failed, for each of the checked week's concepts: the last
  of each day only, so that fixing code in five runs is one answer, not five wrong ones.

The FSRS parameters fitted to concept logs are the study group's, one fit for everybody in the
database (a learner alone rarely has the Optimizer's 512 later-day reviews); the newest fit is
the one that counts, in use only when it beat the running accuracy on held-out answers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections import defaultdict
from typing import Any

from fsrs import Rating
from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from app.course.notes import Note
from app.practice.mastery import MasteryFit
from app.practice.mastery import Observation
from app.records.base import Base
from app.records.base import naive_utc
from app.records.checks import CheckAttempt
from app.records.learners import Learner
from app.records.learners import LearnerRecords
from app.records.learners import SelfRating
from app.records.quizzes import Attempt
from app.records.reviews import ReviewCard
from app.records.reviews import ReviewLogEntry
from app.records.weak_spots import Concepts

# A quiz answer and the review-log entry it writes are stamped by the database and by the
# worker a moment apart; within this they are one answer.
SAME_ANSWER = dt.timedelta(seconds=5)


class MasteryFitRow(Base):
    __tablename__ = "mastery_fits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parameters: Mapped[list[Any]] = mapped_column(JSON)
    fsrs_loss: Mapped[float] = mapped_column(Float)
    running_loss: Mapped[float] = mapped_column(Float)
    train_reviews: Mapped[int] = mapped_column(Integer)
    held_out_answers: Mapped[int] = mapped_column(Integer)
    learners: Mapped[int] = mapped_column(Integer)
    in_use: Mapped[bool] = mapped_column(Boolean)
    fitted_at: Mapped[dt.datetime] = mapped_column(DateTime)


class MasteryRecords:
    """Concept observations of the learners of one store, and the study group's fit."""

    def __init__(self, store: LearnerRecords, notes: list[Note]) -> None:
        self.sessions = store.sessions
        self.concepts = Concepts(notes)
        self.week_concepts: dict[int, list[str]] = {}
        for note in notes:  # a week may have several notes (week 49's five tracks)
            self.week_concepts.setdefault(note.meta.week, []).extend(note.meta.concepts)

    def observations(self, learner_id: int) -> list[Observation]:
        """Everything the learner did on the notes' concepts, in time order (naive UTC)."""
        return self._gather([learner_id])[learner_id]

    def due(self, learner_id: int, now: dt.datetime) -> Counter[tuple[int, str]]:
        """(week, concept) -> the learner's review cards on it due by `now` (suspended ones
        never are)."""
        due = (ReviewCard.due <= naive_utc(now), ReviewCard.suspended.is_(False))
        return Counter(key for key, _ in self._cards(learner_id, *due))

    def card_ids(self, learner_id: int, key: tuple[int, str]) -> set[str]:
        """The ids of the learner's review cards whose question tests (week, concept) `key`."""
        return {card_id for on, card_id in self._cards(learner_id) if on == key}

    def _cards(self, learner_id: int, *where: Any) -> list[tuple[tuple[int, str], str]]:
        """(week, concept), card id for each of the learner's cards (matching `where`) whose
        stored question tests a concept of the notes."""
        with self.sessions() as session:
            rows = session.execute(
                select(ReviewCard.question, ReviewCard.question_id).where(
                    ReviewCard.learner_id == learner_id, *where
                )
            ).all()
        found = ((self.concepts.of(question), card_id) for question, card_id in rows)
        return [((c.week, c.name), card_id) for c, card_id in found if c is not None]

    def everyone(self) -> list[list[Observation]]:
        """Every learner's observations (those with any), each list in time order."""
        with self.sessions() as session:
            ids = list(session.scalars(select(Learner.id).order_by(Learner.id)))
        found = self._gather(ids)
        return [found[i] for i in ids if found[i]]

    def _gather(self, ids: list[int]) -> dict[int, list[Observation]]:
        found: dict[int, list[Observation]] = defaultdict(list)
        with self.sessions() as session:
            questions = {
                (r.learner_id, r.question_id): r.question
                for r in session.execute(
                    select(
                        ReviewCard.learner_id, ReviewCard.question_id, ReviewCard.question
                    ).where(ReviewCard.learner_id.in_(ids))
                )
            }
            attempts = session.execute(
                select(
                    Attempt.learner_id,
                    Attempt.quiz_id,
                    Attempt.question_id,
                    Attempt.correct,
                    Attempt.created_at,
                )
                .where(Attempt.learner_id.in_(ids))
                .order_by(Attempt.id)
            ).all()
            logs = session.execute(
                select(
                    ReviewLogEntry.learner_id,
                    ReviewLogEntry.question_id,
                    ReviewLogEntry.rating,
                    ReviewLogEntry.reviewed_at,
                )
                .where(ReviewLogEntry.learner_id.in_(ids))
                .order_by(ReviewLogEntry.id)
            ).all()
            ratings = session.execute(
                select(
                    SelfRating.learner_id, SelfRating.week, SelfRating.rating, SelfRating.updated_at
                ).where(SelfRating.learner_id.in_(ids))
            ).all()
            checks = session.execute(
                select(
                    CheckAttempt.learner_id,
                    CheckAttempt.week,
                    CheckAttempt.passed,
                    CheckAttempt.created_at,
                ).where(CheckAttempt.learner_id.in_(ids))
            ).all()
        answered_at: dict[tuple[int, str], list[dt.datetime]] = defaultdict(list)
        for learner, quiz_id, question_id, correct, at in attempts:
            answered_at[(learner, question_id)].append(at)
            concept = self.concepts.of(questions.get((learner, question_id)))
            if concept is None:
                continue
            if quiz_id is None:  # a quiz question come back for review, answered again
                again = int(Rating.Good if correct else Rating.Again)
                found[learner].append(Observation(concept.week, concept.name, at, "review", again))
            else:
                found[learner].append(
                    Observation(concept.week, concept.name, at, "quiz", int(correct))
                )
        for learner, question_id, rating, at in logs:
            if any(abs(at - a) <= SAME_ANSWER for a in answered_at[(learner, question_id)]):
                continue  # the answer's own entry, counted above
            concept = self.concepts.of(questions.get((learner, question_id)))
            if concept is not None:
                found[learner].append(Observation(concept.week, concept.name, at, "review", rating))
        for learner, week, rating, at in ratings:
            found[learner].extend(
                Observation(week, name, at, "self-rating", rating)
                for name in self.week_concepts.get(week, [])
            )
        last_of_day: dict[tuple[int, int, dt.date], tuple[bool, dt.datetime]] = {}
        for learner, week, passed, at in sorted(checks, key=lambda row: row[3]):
            last_of_day[(learner, week, at.date())] = (passed, at)
        for (learner, week, _), (passed, at) in last_of_day.items():
            found[learner].extend(
                Observation(week, name, at, "check", int(passed))
                for name in self.week_concepts.get(week, [])
            )
        # in time order; at one moment (SQLite stamps whole seconds) as recorded
        return {i: sorted(found[i], key=lambda o: o.at) for i in ids}

    def keep(self, fit: MasteryFit, learners: int, now: dt.datetime) -> dict[str, Any]:
        """Store a fit of `learners` learners' logs; the newest is the one that counts.
        Returns it as `latest` shows it."""
        row = MasteryFitRow(
            parameters=fit.parameters,
            fsrs_loss=fit.fsrs_loss,
            running_loss=fit.running_loss,
            train_reviews=fit.train_reviews,
            held_out_answers=fit.held_out_answers,
            learners=learners,
            in_use=fit.better,
            fitted_at=naive_utc(now),
        )
        with self.sessions.begin() as session:
            session.add(row)
            session.flush()
            return _shown(row)

    def latest(self) -> dict[str, Any] | None:
        """The newest fit as the API shows it (None before any)."""
        with self.sessions() as session:
            row = session.scalars(select(MasteryFitRow).order_by(MasteryFitRow.id.desc())).first()
            return None if row is None else _shown(row)

    def parameters(self) -> list[float] | None:
        """The fitted FSRS parameters when the newest fit is in use, else None."""
        return in_use(self.latest())


def in_use(fit: dict[str, Any] | None) -> list[float] | None:
    """The parameters of `fit` (as `latest` shows it) when it is in use, else None."""
    return [float(p) for p in fit["parameters"]] if fit and fit["in_use"] else None


def _shown(row: MasteryFitRow) -> dict[str, Any]:
    return {
        "fsrs_loss": round(row.fsrs_loss, 4),
        "running_loss": round(row.running_loss, 4),
        "train_reviews": row.train_reviews,
        "held_out_answers": row.held_out_answers,
        "learners": row.learners,
        "in_use": row.in_use,
        "fitted_at": row.fitted_at.replace(tzinfo=dt.UTC).isoformat(),
        "parameters": row.parameters,
    }

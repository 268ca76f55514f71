"""A learner's review deck: how much is due and when, the forecast, cards they make themselves
(from a tutor's answer, a passage or by hand), rating them, and FSRS fitted to their log.

Every card, quiz question or learner-made, is one `ReviewCard` scheduled by the same FSRS;
learner-made ones are questions of kind `card`: a front (`prompt`), a back (`answer`) and
where it came from (`citation`), rated again/hard/good/easy after the back is shown.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from fsrs import Card
from fsrs import Rating
from fsrs import ReviewLog
from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from app.practice import scheduler as spaced
from app.practice.quiz import Question
from app.practice.scheduler import RATINGS
from app.practice.scheduler import in_words
from app.practice.scheduler import schedule
from app.records.base import Base
from app.records.base import NotFound
from app.records.base import learner_rows
from app.records.base import naive_utc
from app.records.card_sources import SOURCE_CHANGED
from app.records.card_sources import with_quote_hash
from app.records.learners import LearnerRecords
from app.text import counted


class ReviewCard(Base):
    __tablename__ = "review_cards"
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    question: Mapped[dict[str, Any]] = mapped_column(JSON)
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    due: Mapped[dt.datetime] = mapped_column(DateTime)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)  # kept, never due


TUTOR, ANKI = "tutor", "anki"  # where a review was made


class ReviewLogEntry(Base):
    """One FSRS review: what the optimizer fits a learner's parameters from, and the
    history an export carries (Anki's revlog)."""

    __tablename__ = "review_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(32))
    rating: Mapped[int] = mapped_column(Integer)  # 1 again, 2 hard, 3 good, 4 easy
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime)  # naive UTC
    # "tutor", or "anki" for a review brought back from the learner's Anki (its days are
    # counted as Anki counts them when the card's schedule is replayed)
    origin: Mapped[str] = mapped_column(String(8), default=TUTOR, server_default=TUTOR)


class FsrsFit(Base):
    """A learner's FSRS parameters fitted from their review log, with the held-out log loss
    of fitted and default parameters; `in_use` when the fitted ones are better."""

    __tablename__ = "fsrs_fits"
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    parameters: Mapped[list[Any]] = mapped_column(JSON)
    fitted_loss: Mapped[float] = mapped_column(Float)
    default_loss: Mapped[float] = mapped_column(Float)
    train_reviews: Mapped[int] = mapped_column(Integer)
    held_out_reviews: Mapped[int] = mapped_column(Integer)
    in_use: Mapped[bool] = mapped_column(Boolean)
    fitted_at: Mapped[dt.datetime] = mapped_column(DateTime)


def scheduling_parameters(session: Session, learner_id: int) -> list[float] | None:
    """The learner's fitted FSRS parameters when they beat the defaults, else None."""
    fitted = session.get(FsrsFit, learner_id)
    return fitted.parameters if fitted and fitted.in_use else None


class NotDue(ValueError):
    """A rating of a card that is not due: a second click, a retried request, a review ahead
    of time. Refused (the API's 409), so FSRS sees one review per real review: eight ratings
    in a row would otherwise take a new card's next review from 10 days to 113 (case 19)."""

    def __init__(self, card_id: str, due: dt.datetime, now: dt.datetime) -> None:
        super().__init__(
            f"card {card_id} is not due until {due:%Y-%m-%d %H:%M} UTC ({in_words(due, now)}); "
            "it keeps its schedule: a rating now would count a review that did not happen"
        )
        self.due = due


def reschedule(session: Session, card: ReviewCard, rating: str, now: dt.datetime) -> dt.datetime:
    """Review `card` rated `rating` at `now` (aware UTC): FSRS with the learner's parameters
    moves its due date, and the review goes into the log. Returns when it is due next.

    A stored card must be due (NotDue otherwise), and its new schedule is written only where
    it is still due at `now`: of two ratings at once, on two workers too, one lands and the
    other finds it rescheduled (NotDue)."""
    state, due = schedule(card.card, rating, now, scheduling_parameters(session, card.learner_id))
    if inspect(card).persistent:
        if aware(card.due) > now:
            raise NotDue(card.question_id, aware(card.due), now)
        landed = session.execute(
            update(ReviewCard)
            .where(
                ReviewCard.learner_id == card.learner_id,
                ReviewCard.question_id == card.question_id,
                ReviewCard.due <= naive_utc(now),
            )
            .values(card=state, due=naive_utc(due))
            .execution_options(synchronize_session=False)
        )
        if landed.rowcount != 1:  # type: ignore[attr-defined]
            session.expire(card)
            raise NotDue(card.question_id, aware(card.due), now)
        session.expire(card, ["card", "due"])
    else:
        card.card, card.due = state, naive_utc(due)
    session.add(
        ReviewLogEntry(
            learner_id=card.learner_id,
            question_id=card.question_id,
            rating=RATINGS.index(rating) + 1,
            reviewed_at=naive_utc(now),
        )
    )
    return due


OWN = "card"  # the question kind of a learner-made card
FRONT_CHARS = 1_000
BACK_CHARS = 4_000
PASSAGE_CHARS = 4_000
FORECAST_DAYS = (7, 30)


SOURCE_DECISIONS = ("accept", "retire")


class CardError(ValueError):
    """A card that can't be made, changed or rated as asked; the message says why."""


def aware(moment: dt.datetime) -> dt.datetime:
    """A stored naive-UTC time as aware UTC."""
    return moment.replace(tzinfo=dt.UTC)


class ReviewRecords:
    """One store's review decks, learner by learner."""

    def __init__(self, store: LearnerRecords) -> None:
        self.sessions = store.sessions

    # -- when ----------------------------------------------------------------------------

    def summary(self, learner_id: int, now: dt.datetime) -> dict[str, Any]:
        """How many cards are due now, when the next one after those is, and the deck's size:
        {"due_now", "next_due" (ISO UTC or None), "cards", "suspended", "own"}."""
        naive = naive_utc(now)
        active = (ReviewCard.learner_id == learner_id, ReviewCard.suspended.is_(False))
        with self.sessions() as session:
            due_now = session.scalar(select(func.count()).where(*active, ReviewCard.due <= naive))
            upcoming = session.scalar(
                select(func.min(ReviewCard.due)).where(*active, ReviewCard.due > naive)
            )
            cards = session.execute(
                select(ReviewCard.suspended, ReviewCard.question).where(
                    ReviewCard.learner_id == learner_id
                )
            ).all()
        return {
            "due_now": due_now,
            "next_due": aware(upcoming).isoformat() if upcoming else None,
            "cards": len(cards),
            "suspended": sum(s for s, _ in cards),
            "own": sum(q["kind"] == OWN for _, q in cards),
        }

    def forecast(self, learner_id: int, now: dt.datetime, days: int) -> list[dict[str, Any]]:
        """Reviews due on each of the next `days` UTC days, from FSRS with the learner's
        parameters: [{"date": "YYYY-MM-DD", "due": n}, ...], today (with overdue) first."""
        with self.sessions() as session:
            cards = list(
                session.scalars(
                    select(ReviewCard.card).where(
                        ReviewCard.learner_id == learner_id, ReviewCard.suspended.is_(False)
                    )
                )
            )
            parameters = scheduling_parameters(session, learner_id)
        counts = spaced.forecast(cards, now, days, parameters)
        return [
            {"date": (now.date() + dt.timedelta(days=i)).isoformat(), "due": n}
            for i, n in enumerate(counts)
        ]

    # -- learner-made cards --------------------------------------------------------------

    def add(
        self,
        learner_id: int,
        front: str,
        back: str,
        week: int,
        source: str = "",
        passage: str = "",
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """A new card, due at once. `source` is where it came from (a note, a tutor's answer);
        `passage` the words it was made from, if any. Raises CardError on an empty side."""
        front, back = _side(front, "front", FRONT_CHARS), _side(back, "back", BACK_CHARS)
        if len(passage) > PASSAGE_CHARS:
            raise CardError(
                f"a card's passage is at most {PASSAGE_CHARS} characters (this one has "
                f"{len(passage)}): quote the sentences the card is about"
            )
        question = Question(
            f"own-{secrets.token_hex(8)}",
            OWN,
            front,
            [],
            back,
            "",
            "own",
            {"source": source or "your own card", "snippet": passage, "week": week},
            "learner",
        )
        naive = naive_utc(now or dt.datetime.now(dt.UTC))
        card = ReviewCard(
            learner_id=learner_id,
            question_id=question.id,
            question=with_quote_hash(question.to_dict()),
            card=Card(due=aware(naive)).to_dict(),
            due=naive,
            suspended=False,
        )
        with self.sessions.begin() as session:
            session.add(card)
        return _card_dict(card)

    def cards(self, learner_id: int) -> list[dict[str, Any]]:
        """Every card of the learner's, quiz questions and their own, soonest due first."""
        with self.sessions() as session:
            return [
                _card_dict(c)
                for c in learner_rows(
                    session, ReviewCard, learner_id, ReviewCard.due, ReviewCard.question_id
                )
            ]

    def edit(
        self,
        learner_id: int,
        card_id: str,
        front: str | None = None,
        back: str | None = None,
        suspended: bool | None = None,
    ) -> dict[str, Any]:
        """Change a card's sides (the learner's own cards only; a quiz question's words are
        the notes') or suspend/unsuspend any card. Its schedule and history are kept."""
        with self.sessions.begin() as session:
            card = self._card(session, learner_id, card_id)
            if front is not None or back is not None:
                if card.question["kind"] != OWN:
                    raise CardError(
                        f"{card_id} is a quiz question, worded from the notes: only "
                        "your own cards can be edited (suspend it instead)"
                    )
                question = dict(card.question)
                if front is not None:
                    question["prompt"] = _side(front, "front", FRONT_CHARS)
                if back is not None:
                    question["answer"] = _side(back, "back", BACK_CHARS)
                card.question = question
            if suspended is not None:
                card.suspended = suspended
        return _card_dict(card)

    def settle_source(self, learner_id: int, card_id: str, decision: str) -> dict[str, Any]:
        """The learner's answer to a card whose source changed: "accept" takes the source's new
        sentence as the words the card quotes (its sides and schedule are kept); "retire"
        suspends the card, history kept. CardError when the card's source has not changed, or
        when there is no new text to accept (the source is gone: retire it or delete it)."""
        if decision not in SOURCE_DECISIONS:
            raise CardError(f"decide 'accept' or 'retire', not {decision!r}")
        with self.sessions.begin() as session:
            card = self._card(session, learner_id, card_id)
            question = dict(card.question)
            changed = question.pop(SOURCE_CHANGED, None)
            if changed is None:
                raise CardError(f"{card_id}'s source has not changed: nothing to settle")
            if decision == "accept":
                if not changed["text"]:
                    raise CardError(
                        f"{card_id}'s source no longer says anything like it: there is no new "
                        "text to accept; retire the card or delete it"
                    )
                question = with_quote_hash(
                    question | {"citation": question["citation"] | {"snippet": changed["text"]}}
                )
            else:
                card.suspended = True
            card.question = question
        return _card_dict(card)

    def delete(self, learner_id: int, card_id: str) -> None:
        """Remove a card and its review history. NotFound when there is no such card."""
        with self.sessions.begin() as session:
            session.delete(self._card(session, learner_id, card_id))
            session.execute(
                delete(ReviewLogEntry).where(
                    ReviewLogEntry.learner_id == learner_id, ReviewLogEntry.question_id == card_id
                )
            )

    def rate(self, learner_id: int, card_id: str, rating: str, now: dt.datetime) -> dict[str, Any]:
        """The learner's rating of their own card after seeing its back; FSRS reschedules it.
        Quiz questions are graded by their answers instead (CardError)."""
        with self.sessions.begin() as session:
            card = self._card(session, learner_id, card_id)
            if card.question["kind"] != OWN:
                raise CardError(
                    f"{card_id} is a quiz question: answer it, and the grade (or "
                    "your rating of a short answer) reschedules it"
                )
            if card.suspended:
                raise CardError(f"{card_id} is suspended; unsuspend it to review it")
            due = reschedule(session, card, rating, now)
            shown = _card_dict(card)
        return shown | comes_back(due, now)

    def first_due(self, learner_id: int, card_ids: list[str]) -> dt.datetime | None:
        """When the first of these cards is due (aware UTC), for a quiz's or a review's
        closing line; None when none of them is a card."""
        with self.sessions() as session:
            first = session.scalar(
                select(func.min(ReviewCard.due)).where(
                    ReviewCard.learner_id == learner_id, ReviewCard.question_id.in_(card_ids)
                )
            )
        return None if first is None else aware(first)

    def card(self, learner_id: int, card_id: str) -> dict[str, Any]:
        """One card, back included. NotFound when the learner has no such card."""
        with self.sessions() as session:
            return _card_dict(self._card(session, learner_id, card_id))

    @staticmethod
    def _card(session: Any, learner_id: int, card_id: str) -> ReviewCard:
        card = session.get(ReviewCard, (learner_id, card_id))
        if card is None:
            raise NotFound(f"no card {card_id}; `GET /learners/{{id}}/cards` lists yours")
        return card

    # -- history and fitting -------------------------------------------------------------

    def history(self, learner_id: int) -> list[dict[str, Any]]:
        """Every review, oldest first: {"card_id", "rating" (1-4), "reviewed_at" (ISO UTC)}."""
        with self.sessions() as session:
            rows = learner_rows(
                session, ReviewLogEntry, learner_id, ReviewLogEntry.reviewed_at, ReviewLogEntry.id
            )
            return [
                {
                    "card_id": r.question_id,
                    "rating": r.rating,
                    "reviewed_at": aware(r.reviewed_at).isoformat(),
                }
                for r in rows
            ]

    def review_logs(self, learner_id: int) -> list[ReviewLog]:
        """The log as py-fsrs's ReviewLogs (cards numbered in order of first review)."""
        numbers: dict[str, int] = {}
        return [
            ReviewLog(
                numbers.setdefault(r["card_id"], len(numbers) + 1),
                Rating(r["rating"]),
                dt.datetime.fromisoformat(r["reviewed_at"]),
                None,
            )
            for r in self.history(learner_id)
        ]

    def fit(self, learner_id: int, now: dt.datetime) -> dict[str, Any]:
        """Fit FSRS to the learner's log (see `spaced.fit`) and keep the result; the fitted
        parameters schedule their cards from now on only if they beat the defaults on
        held-out reviews. Raises spaced.NotEnoughReviews below the optimizer's minimum."""
        result = spaced.fit(self.review_logs(learner_id))
        with self.sessions.begin() as session:
            session.merge(
                FsrsFit(
                    learner_id=learner_id,
                    parameters=result.parameters,
                    fitted_loss=result.fitted_loss,
                    default_loss=result.default_loss,
                    train_reviews=result.train_reviews,
                    held_out_reviews=result.held_out_reviews,
                    in_use=result.better,
                    fitted_at=naive_utc(now),
                )
            )
        return self.fitting(learner_id)

    def fitting(self, learner_id: int) -> dict[str, Any]:
        """Where the learner stands: reviews counted, the optimizer's minimum, and the last
        fit (None before one), with `in_use` saying which parameters schedule their cards."""
        counted = spaced.counted_reviews(spaced.split(self.review_logs(learner_id))[0])
        with self.sessions() as session:
            fitted = session.get(FsrsFit, learner_id)
        last = (
            None
            if fitted is None
            else {
                "fitted_loss": round(fitted.fitted_loss, 4),
                "default_loss": round(fitted.default_loss, 4),
                "train_reviews": fitted.train_reviews,
                "held_out_reviews": fitted.held_out_reviews,
                "in_use": fitted.in_use,
                "fitted_at": aware(fitted.fitted_at).isoformat(),
                "parameters": fitted.parameters,
            }
        )
        return {
            "counted_reviews": counted,
            "min_reviews": spaced.min_reviews(),
            "ready": counted >= spaced.min_reviews(),
            "fit": last,
            "scheduling_with": "fitted" if fitted and fitted.in_use else "default",
        }


def _side(text: str, name: str, limit: int) -> str:
    text = text.strip()
    if not text:
        raise CardError(f"a card's {name} can't be empty")
    if len(text) > limit:
        raise CardError(f"a card's {name} is at most {limit} characters (this one has {len(text)})")
    return text


def _card_dict(card: ReviewCard) -> dict[str, Any]:
    """A card as the API and `tutor cards --json` show it."""
    question = card.question
    return {
        "id": card.question_id,
        "kind": question["kind"],
        "front": question["prompt"],
        "back": question["answer"],
        "options": question["options"],
        "source": question["citation"]["source"],
        "week": question["citation"]["week"],
        "passage": question["citation"].get("snippet", ""),
        "due": aware(card.due).isoformat(),
        "suspended": card.suspended,
        "state": card.card.get("state"),
        "stability": card.card.get("stability"),
        "difficulty": card.card.get("difficulty"),
        # {"since", "text" (the source's closest sentence now, or None), "removed"}: an ingest
        # changed or removed the passage this card quotes (app.records.card_sources)
        "source_changed": question.get(SOURCE_CHANGED),
    }


def due_phrase(summary: dict[str, Any], now: dt.datetime) -> str:
    """What the sidebar and `tutor review` say: "3 cards due now; after those, the next in 10
    minutes", "Nothing due now; the next card in 2 days (2026-12-02)" or "No cards yet"."""
    due, next_due = summary["due_now"], summary["next_due"]
    if not due and next_due is None:
        return "No cards yet"
    head = f"{counted(due, 'card')} due now" if due else "Nothing due now"
    if next_due is None:
        return head
    when = in_words(dt.datetime.fromisoformat(next_due), now)
    return f"{head}; after those, the next {when}" if due else f"{head}; the next card {when}"


def comes_back(due: dt.datetime, now: dt.datetime) -> dict[str, str]:
    """What an answer or a rating says of the card's next review: {"next_review" (ISO UTC),
    "comes_back" ("in 10 minutes", "in 9 days (2026-12-15)")}, both of the due time FSRS
    just set, so the words can't promise days for a card due in minutes."""
    return {"next_review": due.isoformat(), "comes_back": in_words(due, now)}

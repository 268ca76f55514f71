"""Spaced repetition with FSRS (py-fsrs): rescheduling a card after a review, forecasting the
reviews to come, and fitting a learner's own parameters from their review log.

Times are timezone-aware UTC datetimes; ratings are FSRS's four grades, 1 (again) to 4 (easy).
Fitting follows py-fsrs's Optimizer and measures what it buys the way the FSRS benchmark
(open-spaced-repetition/srs-benchmark) does: the log loss of predicted recall on reviews the fit
never saw.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import cast

from fsrs import Card
from fsrs import Rating
from fsrs import ReviewLog
from fsrs import Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

if TYPE_CHECKING:
    from fsrs.card import CardDict

RATINGS = (
    "again",
    "hard",
    "good",
    "easy",
)  # FSRS's four grades 1-4, in order, for self-graded answers
HELD_OUT_EVERY = 5  # every fifth card (in order of first review) is kept out of the fit


@functools.cache
def min_reviews() -> int:
    """The optimizer's own minimum: below this many loss-bearing reviews py-fsrs's
    `compute_optimal_parameters` returns the defaults unchanged (its mini-batch size, 512).
    Asked of the optimizer itself, which loads torch (seconds), hence only when needed."""
    from fsrs import optimizer

    return optimizer.mini_batch_size


class NotEnoughReviews(ValueError):
    """Too few reviews to fit parameters; the message says how many more are needed."""


def rating_of(name: str) -> Rating:
    """`again`/`hard`/`good`/`easy` as FSRS's Rating; ValueError names the choices."""
    if name not in RATINGS:
        raise ValueError(f"a rating is one of {', '.join(RATINGS)} (or 1-4)")
    return Rating(RATINGS.index(name) + 1)


def schedule(
    card: dict[str, Any] | None,
    rating: str,
    now: dt.datetime,
    parameters: Sequence[float] | None = None,
) -> tuple[dict[str, Any], dt.datetime]:
    """FSRS: the review card after an answer rated again/hard/good/easy at `now`, and when it
    is due next. `card` is a stored `fsrs.Card.to_dict()` (None for a first review);
    `parameters` are the learner's fitted ones, when they schedule better than the defaults."""
    current = Card.from_dict(cast("CardDict", card)) if card else Card(due=now)
    updated, _ = Scheduler(parameters or DEFAULT_PARAMETERS).review_card(
        current, rating_of(rating), review_datetime=now
    )
    return dict(updated.to_dict()), updated.due


def replay(
    reviews: Sequence[tuple[dt.datetime, int, int | None]],
    parameters: Sequence[float] | None = None,
) -> tuple[dict[str, Any], dt.datetime]:
    """FSRS: a card's state and due time after its whole history, from new. `reviews` are
    (when, aware UTC; rating 1-4; the days elapsed since the review before as counted where
    the review was made, or None for py-fsrs's own count of whole 24-hour periods), oldest
    first. A count given (Anki counts the day starts passed) is the one FSRS sees: the card's
    last review is moved back to that many days before, its only use being that count."""
    if not reviews:
        raise ValueError("a replay needs at least one review")
    card: dict[str, Any] = {}
    due = reviews[0][0]
    for moment, rating, days in reviews:
        if card and days:
            card["last_review"] = (moment - dt.timedelta(days=days)).isoformat()
        card, due = schedule(card or None, RATINGS[rating - 1], moment, parameters)
    return card, due


def forecast(
    cards: Iterable[dict[str, Any]],
    now: dt.datetime,
    days: int,
    parameters: Sequence[float] | None = None,
) -> list[int]:
    """Reviews due on each of the next `days` UTC days (index 0 is today, overdue included).

    Each card is replayed with FSRS as if recalled ("good") whenever it comes due, so a card
    learned today counts again on the days it returns within the window, as Anki's forecast
    does. No fuzz, so the same cards always give the same forecast."""
    scheduler = Scheduler(parameters or DEFAULT_PARAMETERS, enable_fuzzing=False)
    counts = [0] * days
    end = dt.datetime.combine(now.date() + dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC)
    for stored in cards:
        card = Card.from_dict(cast("CardDict", stored))
        due = max(card.due, now)
        while due < end:
            counts[(due.date() - now.date()).days] += 1
            card, _ = scheduler.review_card(card, Rating.Good, review_datetime=due)
            due = card.due
    return counts


def counted_reviews(logs: Iterable[ReviewLog]) -> int:
    """Reviews that bear on the loss (and on the optimizer's minimum): each card's reviews
    after its first, on a later day than the one before, as py-fsrs's Optimizer counts them."""
    return sum(1 for _ in _predictions(logs, DEFAULT_PARAMETERS))


def log_loss(logs: Iterable[ReviewLog], parameters: Sequence[float]) -> float:
    """Mean binary cross-entropy of FSRS's predicted recall against what happened (again =
    forgotten, anything else = recalled), over the counted reviews. NaN when there are none."""
    losses = [-math.log(p if recalled else 1 - p) for p, recalled in _predictions(logs, parameters)]
    return sum(losses) / len(losses) if losses else math.nan


def _predictions(
    logs: Iterable[ReviewLog], parameters: Sequence[float]
) -> Iterable[tuple[float, bool]]:
    """(predicted recall, recalled) at each counted review, replaying every card's history."""
    scheduler = Scheduler(parameters, enable_fuzzing=False)
    for history in _by_card(logs).values():
        card = Card(card_id=history[0].card_id, due=history[0].review_datetime)
        for log in history:
            if card.last_review and (log.review_datetime - card.last_review).days > 0:
                p = scheduler.get_card_retrievability(card, log.review_datetime)
                yield min(max(p, 1e-7), 1 - 1e-7), log.rating != Rating.Again
            card, _ = scheduler.review_card(card, log.rating, review_datetime=log.review_datetime)


def _by_card(logs: Iterable[ReviewLog]) -> dict[int, list[ReviewLog]]:
    """Each card's reviews in time order; cards in order of their first review."""
    cards: dict[int, list[ReviewLog]] = {}
    for log in sorted(logs, key=lambda log: log.review_datetime):
        cards.setdefault(log.card_id, []).append(log)
    return cards


@dataclass(frozen=True)
class Fit:
    """Parameters fitted to a learner, and how they predict recall on held-out reviews."""

    parameters: list[float]
    fitted_loss: float  # log loss on the held-out reviews with the fitted parameters
    default_loss: float  # the same reviews with FSRS's default parameters
    train_reviews: int  # counted reviews the fit learned from
    held_out_reviews: int  # counted reviews it was measured on

    @property
    def better(self) -> bool:
        """Schedule with the fitted parameters only when they predict the learner better."""
        return self.fitted_loss < self.default_loss

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "fitted_loss": round(self.fitted_loss, 4),
            "default_loss": round(self.default_loss, 4),
            "train_reviews": self.train_reviews,
            "held_out_reviews": self.held_out_reviews,
            "better": self.better,
        }


def split(logs: Iterable[ReviewLog]) -> tuple[list[ReviewLog], list[ReviewLog]]:
    """(train, held out): whole cards, every `HELD_OUT_EVERY`-th in order of first review, go
    to the held-out side, so no card's history informs the fit that is judged on it."""
    train: list[ReviewLog] = []
    held: list[ReviewLog] = []
    for i, history in enumerate(_by_card(logs).values(), 1):
        (held if i % HELD_OUT_EVERY == 0 else train).extend(history)
    return train, held


def fit(logs: Sequence[ReviewLog]) -> Fit:
    """Fit FSRS parameters to a learner's review log with py-fsrs's Optimizer.

    Raises NotEnoughReviews while the training part has fewer counted reviews than the
    optimizer needs (`min_reviews()`). Takes seconds per thousand reviews (torch, CPU)."""
    from fsrs import Optimizer

    train, held = split(logs)
    have, minimum = counted_reviews(train), min_reviews()
    if have < minimum:
        needed = math.ceil((minimum - have) * HELD_OUT_EVERY / (HELD_OUT_EVERY - 1))
        raise NotEnoughReviews(
            f"{have} reviews count towards a fit and the FSRS optimizer needs {minimum}: "
            f"about {needed} more reviews on later days (same-day repeats don't count)"
        )
    parameters = [float(p) for p in Optimizer(train).compute_optimal_parameters()]
    return Fit(
        parameters,
        log_loss(held, parameters),
        log_loss(held, DEFAULT_PARAMETERS),
        have,
        counted_reviews(held),
    )


def in_words(moment: dt.datetime, now: dt.datetime) -> str:
    """How far off `moment` is: "now", "in a minute", "in 40 minutes", "in 5 hours", "in 3
    days (2026-12-03)". Every "comes back ..." a learner reads is this of a real due time."""
    seconds = (moment - now).total_seconds()
    if seconds <= 0:
        return "now"
    if seconds < 90:
        return "in a minute"
    if seconds < 3600:
        return f"in {round(seconds / 60)} minutes"
    if seconds < 2 * 86400:
        return f"in {round(seconds / 3600)} hours"
    return f"in {round(seconds / 86400)} days ({moment.date().isoformat()})"

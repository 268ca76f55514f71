"""A synthetic but realistic learner's review log, to measure what fitting FSRS buys.

The learner's memory follows FSRS with parameters of their own (`LEARNER`: they forget a
first-seen card faster than FSRS's defaults assume, and a consolidated one slower), while
their cards are scheduled, as in the tutor, by FSRS with the default parameters. At each
review they recall with the probability their own memory gives (a coin flip, so the log is
noisy like a real one), rate "again" when they forget and hard/good/easy by how sure the
recall was; they add new cards most days and skip some days, so reviews come late. The fit
then has to recover, from ratings alone, a memory the defaults mis-predict.
"""

from __future__ import annotations

import datetime as dt
import random

from fsrs import Card
from fsrs import Rating
from fsrs import ReviewLog
from fsrs import Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

LEARNER = (
    0.1,
    0.6,
    1.5,
    5.0,
    *DEFAULT_PARAMETERS[4:8],
    2.3,
    0.1666,
    1.1,
    *DEFAULT_PARAMETERS[11:20],
    0.35,
)
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def simulated_log(
    days: int, new_per_day: int = 8, seed: int = 0, memory: tuple[float, ...] = LEARNER
) -> list[ReviewLog]:
    """`days` days of studying: up to `new_per_day` new cards a day (fewer on some), every
    due card reviewed on the day the learner studies (one day in six they skip). Returns the
    reviews in time order, cards numbered from 1."""
    rng = random.Random(seed)
    scheduler = Scheduler(enable_fuzzing=False)  # what schedules the learner's cards
    truth = Scheduler(memory, enable_fuzzing=False)  # how the learner actually remembers
    cards: list[tuple[Card, Card]] = []  # (as scheduled, as remembered)
    logs: list[ReviewLog] = []
    for day in range(days):
        if rng.random() < 1 / 6:
            continue
        now = START + dt.timedelta(days=day, minutes=rng.randint(0, 600))
        cards += [
            (Card(card_id=len(cards) + i + 1, due=now), Card(card_id=len(cards) + i + 1, due=now))
            for i in range(rng.randint(new_per_day // 2, new_per_day))
        ]
        for index, (card, memory_card) in enumerate(cards):
            moment = now
            while card.due <= now + dt.timedelta(hours=1):  # learning steps within the session
                moment = max(moment, card.due)
                rating = _rating(
                    rng,
                    truth.get_card_retrievability(memory_card, moment)
                    if memory_card.last_review
                    else None,
                )
                card, log = scheduler.review_card(card, rating, review_datetime=moment)
                memory_card, _ = truth.review_card(memory_card, rating, review_datetime=moment)
                logs.append(log)
                moment += dt.timedelta(minutes=1)
            cards[index] = (card, memory_card)
    return sorted(logs, key=lambda log: log.review_datetime)


def _rating(rng: random.Random, recall: float | None) -> Rating:
    """Again when forgotten; when recalled, easy/good/hard by how likely recall was. A card
    seen for the first time is rated by how it felt (mostly good)."""
    if recall is None:
        return rng.choices(list(Rating), weights=(2, 2, 5, 1))[0]
    if rng.random() > recall:
        return Rating.Again
    sure = rng.random() * recall
    return Rating.Easy if sure > 0.85 else Rating.Good if sure > 0.25 else Rating.Hard

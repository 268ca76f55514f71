"""How well a learner knows each concept of the plan, from everything they have done on it.

Sources, each read as an observation of one concept at one moment: quiz answers (right or
wrong), reviews of cards (their rating), self-ratings of a week (out of 10, for each of the
week's concepts) and `tutor check` results (passed or failed, for the checked week's concepts).

The estimate is the chance that the learner's next answer on the concept is right, now:
- **FSRS retrievability per concept** (py-fsrs): each concept is replayed as one FSRS card
  reviewed at every observation, and its retrievability at a later day is the estimate. Only
  with parameters fitted to learners' concept logs by py-fsrs's Optimizer (`fit`), and only
  while that fit predicts held-out answers better than the running accuracy does.
- **Running accuracy** otherwise, and always within 24 hours of the concept's last observation
  (FSRS counts whole days, so it reads every answer within one as certain): right answers on the
  concept, with one answer at the learner's accuracy over all concepts so far, over answers + 1.

Why these two and not Bayesian knowledge tracing: pyBKT, its maintained implementation, fails
on import with scikit-learn 1.8+ and in its EM fit with NumPy 2 (pyBKT 1.4.3), and FSRS is the
memory model the reviews already run on. `evals/mastery.py` measures all three that run: FSRS
with the default parameters loses to running accuracy, the fitted one wins on later days and
loses within a day, hence the split above.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Literal

from fsrs import Card
from fsrs import Rating
from fsrs import ReviewLog
from fsrs import Scheduler

Source = Literal["quiz", "review", "self-rating", "check"]
Key = tuple[int, str]  # (week, concept)
HELD_OUT_EVERY = 5  # every fifth concept sequence, in order of first observation, is held out


@dataclass(frozen=True)
class Observation:
    """One thing the learner did on a concept (`week`, `concept`: as the notes name it) at
    `at` (naive UTC). `value`: 1/0 for a quiz answer or a check, the rating 1-4 (again..easy)
    for a review, 1-10 for a self-rating."""

    week: int
    concept: str
    at: dt.datetime
    source: Source
    value: int

    @property
    def key(self) -> Key:
        return self.week, self.concept

    @property
    def answered(self) -> bool:
        """An answer that was right or wrong (a self-rating is how it felt, not an answer)."""
        return self.source != "self-rating"

    @property
    def correct(self) -> bool:
        """A right answer: a quiz answer or check that passed, a review not rated "again"."""
        if self.source == "review":
            return self.value > Rating.Again
        return bool(self.value)

    @property
    def rating(self) -> Rating:
        """As FSRS reads it: a review's own rating; a wrong answer "again" and a right one
        "good"; a self-rating 1-3 again, 4-5 hard, 6-8 good, 9-10 easy."""
        if self.source == "review":
            return Rating(self.value)
        if self.source == "self-rating":
            return Rating(1 + (self.value >= 4) + (self.value >= 6) + (self.value >= 9))
        return Rating.Good if self.value else Rating.Again


@dataclass
class ConceptState:
    """What one concept's observations add up to: right answers of `answered`, the concept
    as an FSRS card, and the last observation's moment."""

    right: int = 0
    answered: int = 0
    card: Card = field(default_factory=lambda: Card(card_id=1))
    last: dt.datetime | None = None


class Estimator:
    """Replays a learner's observations and says the chance of a right answer next.

    `parameters`: FSRS parameters fitted to concept logs and in use (None: running accuracy
    only). One estimator per learner: the running accuracy's prior is the learner's own."""

    def __init__(self, parameters: Sequence[float] | None = None) -> None:
        self._scheduler = Scheduler(parameters, enable_fuzzing=False) if parameters else None
        self._replay = self._scheduler or Scheduler(enable_fuzzing=False)
        self.states: dict[Key, ConceptState] = {}
        self._right = 0
        self._answered = 0

    @property
    def prior(self) -> float:
        """The learner's accuracy over every concept so far, with one right and one wrong
        answer to start from (0.5 before any answer)."""
        return (self._right + 1) / (self._answered + 2)

    def chance(self, key: Key, at: dt.datetime) -> tuple[float, str]:
        """(chance the next answer on `key` at `at` is right, the model that said it:
        "fsrs" or "running accuracy")."""
        state = self.states.get(key)
        if state is None or state.last is None:
            return self.prior, "running accuracy"
        if self._scheduler is not None and (at - state.last).days >= 1:
            moment = at.replace(tzinfo=dt.UTC)
            return self._scheduler.get_card_retrievability(state.card, moment), "fsrs"
        return (state.right + self.prior) / (state.answered + 1), "running accuracy"

    def see(self, observation: Observation) -> None:
        """Take in one observation (in time order)."""
        state = self.states.setdefault(observation.key, ConceptState())
        if observation.answered:
            state.right += observation.correct
            state.answered += 1
            self._right += observation.correct
            self._answered += 1
        state.card, _ = self._replay.review_card(
            state.card, observation.rating, review_datetime=observation.at.replace(tzinfo=dt.UTC)
        )
        state.last = observation.at


@dataclass(frozen=True)
class Prediction:
    """One held-out answer: the chance given before it, whether it was right, and whether it
    came on a later day than the concept's observation before it."""

    chance: float
    right: bool
    later_day: bool


def predictions(
    learners: Iterable[Sequence[Observation]],
    parameters: Sequence[float] | None,
    keep: set[tuple[int, Key]] | None = None,
) -> Iterator[Prediction]:
    """Each answer after a concept's first observation, predicted before it is seen, for each
    learner's observations (in time order). `keep`: only those (learner index, concept)
    sequences (None: all)."""
    for index, observations in enumerate(learners):
        estimator = Estimator(parameters)
        for observation in observations:
            state = estimator.states.get(observation.key)
            kept = keep is None or (index, observation.key) in keep
            if kept and observation.answered and state is not None and state.last is not None:
                chance, _ = estimator.chance(observation.key, observation.at)
                later = (observation.at - state.last).days >= 1
                yield Prediction(chance, observation.correct, later)
            estimator.see(observation)


def log_loss(found: Sequence[Prediction]) -> float:
    """Mean binary cross-entropy (natural log, scikit-learn's); NaN for none."""
    from sklearn.metrics import log_loss as cross_entropy

    if not found:
        return math.nan
    return float(cross_entropy([p.right for p in found], [p.chance for p in found], labels=[0, 1]))


def concept_logs(
    learners: Sequence[Sequence[Observation]], keep: set[tuple[int, Key]] | None = None
) -> list[ReviewLog]:
    """Every observation as py-fsrs's ReviewLog, one card per (learner, concept): what the
    Optimizer fits concept memory from."""
    numbers: dict[tuple[int, Key], int] = {}
    return [
        ReviewLog(
            numbers.setdefault((index, o.key), len(numbers) + 1),
            o.rating,
            o.at.replace(tzinfo=dt.UTC),
            None,
        )
        for index, observations in enumerate(learners)
        for o in observations
        if keep is None or (index, o.key) in keep
    ]


def split(learners: Sequence[Sequence[Observation]]) -> tuple[set[tuple[int, Key]], ...]:
    """(train, held out) (learner index, concept) sequences: every HELD_OUT_EVERY-th in order
    of first observation is held out, so one learner alone still has both sides."""
    first: dict[tuple[int, Key], dt.datetime] = {}
    for index, observations in enumerate(learners):
        for o in observations:
            first.setdefault((index, o.key), o.at)
    ordered = sorted(first, key=lambda k: (first[k], k))
    held = {k for i, k in enumerate(ordered, 1) if i % HELD_OUT_EVERY == 0}
    return set(ordered) - held, held


@dataclass(frozen=True)
class MasteryFit:
    """FSRS parameters fitted to concept logs, and how they predict later-day answers they
    never saw against the running accuracy (log losses over `held_out_answers`)."""

    parameters: list[float]
    fsrs_loss: float
    running_loss: float
    train_reviews: int
    held_out_answers: int

    @property
    def better(self) -> bool:
        """Use FSRS only where it predicts better than the running accuracy."""
        return self.fsrs_loss < self.running_loss


def fit(learners: Sequence[Sequence[Observation]]) -> MasteryFit:
    """Fit FSRS parameters to the learners' concept logs (each list in time order) with
    py-fsrs's Optimizer, measured on held-out concept sequences (`split`).

    Raises scheduler.NotEnoughReviews below the Optimizer's minimum (512 reviews on a later
    day than the one before), or when no held-out answer can judge the fit. Takes about 13 ms
    per observation (torch, CPU)."""
    from fsrs import Optimizer

    from app.practice import scheduler as spaced

    train, held = split(learners)
    logs = concept_logs(learners, train)
    have, minimum = spaced.counted_reviews(logs), spaced.min_reviews()
    if have < minimum:
        raise spaced.NotEnoughReviews(
            f"{have} concept reviews on a later day count towards a fit and the FSRS "
            f"optimizer needs {minimum}; until then mastery is the running accuracy"
        )
    parameters = [float(p) for p in Optimizer(logs).compute_optimal_parameters()]
    result = measured(learners, parameters, held, have)
    if not result.held_out_answers:
        raise spaced.NotEnoughReviews(
            f"the fit learned from {have} concept reviews, but none of the concepts kept out "
            "to judge it has an answer on a later day yet, so it could not be compared with "
            "the running accuracy; try again after more reviews"
        )
    return result


def measured(
    learners: Sequence[Sequence[Observation]],
    parameters: list[float],
    held: set[tuple[int, Key]] | None,
    train_reviews: int,
) -> MasteryFit:
    """`parameters` judged on the later-day answers of the `held` sequences (None: all)."""
    fitted = [p for p in predictions(learners, parameters, held) if p.later_day]
    running = [p for p in predictions(learners, None, held) if p.later_day]
    return MasteryFit(parameters, log_loss(fitted), log_loss(running), train_reviews, len(fitted))

"""FSRS fitted to a learner vs FSRS's defaults: log loss on held-out reviews (lower predicts
the learner better), on synthetic learners (evals/review_log.py) of growing review logs.

Two learners: one whose memory differs from the defaults (`LEARNER`), and a control whose
memory is the defaults themselves, where a fit has nothing to find and must not be used
unless it is at least as good. Each row is a fresh log (seeds 0-2), fitted as `tutor fsrs
--fit` does (py-fsrs Optimizer on four cards in five; loss on the fifth).

    python bench/fsrs_fit.py            # 60, 120 and 240 days
    python bench/fsrs_fit.py 120        # only these lengths
"""

from __future__ import annotations

import statistics
import sys
import time

from common import REPO  # noqa: F401 - puts the repository on sys.path
from fsrs.scheduler import DEFAULT_PARAMETERS

from app.practice import scheduler as spaced
from evals.review_log import LEARNER
from evals.review_log import simulated_log

LEARNERS = {"own memory": LEARNER, "memory = defaults": tuple(DEFAULT_PARAMETERS)}
DAYS = (60, 120, 240)
SEEDS = (0, 1, 2)


def main(days_run: tuple[int, ...]) -> None:
    print("learner             days  reviews  train  held-out  fitted  default  better  fit s")
    for name, memory in LEARNERS.items():
        for days in days_run:
            fits, seconds, sizes = [], [], []
            for seed in SEEDS:
                logs = simulated_log(days, seed=seed, memory=memory)
                started = time.perf_counter()
                fits.append(spaced.fit(logs))
                seconds.append(time.perf_counter() - started)
                sizes.append(len(logs))
            print(
                f"{name:<18} {days:>5} {statistics.mean(sizes):>8.0f} "
                f"{statistics.mean(f.train_reviews for f in fits):>6.0f} "
                f"{statistics.mean(f.held_out_reviews for f in fits):>9.0f} "
                f"{statistics.mean(f.fitted_loss for f in fits):>7.4f} "
                f"{statistics.mean(f.default_loss for f in fits):>8.4f} "
                f"{sum(f.better for f in fits):>5}/{len(fits)} "
                f"{statistics.mean(seconds):>6.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or DAYS)

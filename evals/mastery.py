"""The mastery estimate on answers it never saw: synthetic learners (`evals/mastery_log.py`),
FSRS per concept fitted on some and judged on others, against per-concept running accuracy.

    python -m evals.mastery [--train 30] [--test 30] [--weeks 12]

Prints a table and writes evals/reports/mastery-<time>.json. Each answer after a concept's
first observation is predicted before it is seen; log loss (lower is better) and AUC (higher
is better), on every such answer and apart on later-day and same-day ones (the product uses
the fitted FSRS only on a later day, so same-day rows are the running accuracy's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from fsrs import Optimizer
from fsrs.scheduler import DEFAULT_PARAMETERS
from sklearn.metrics import roc_auc_score

from app.course.notes import read_notes
from app.practice.mastery import Prediction
from app.practice.mastery import concept_logs
from app.practice.mastery import log_loss
from app.practice.mastery import predictions
from evals.mastery_log import learners

REPORTS = Path(__file__).parent / "reports"


def scores(found: list[Prediction]) -> dict[str, float | int]:
    """Log loss, AUC and count of `found` (AUC NaN when all answers agree)."""
    rights = {p.right for p in found}
    return {
        "log_loss": round(log_loss(found), 4),
        "auc": round(float(roc_auc_score([p.right for p in found], [p.chance for p in found])), 4)
        if len(rights) == 2
        else float("nan"),
        "answers": len(found),
    }


def evaluate(train_count: int, test_count: int, weeks: int) -> dict[str, Any]:
    """Fit FSRS on `train_count` learners' concept logs, judge every model on `test_count`
    others (different seeds: no learner on both sides)."""
    notes = read_notes()
    train = learners(notes, train_count, weeks, seed=1)
    test = learners(notes, test_count, weeks, seed=2)
    started = time.perf_counter()
    fitted = [float(p) for p in Optimizer(concept_logs(train)).compute_optimal_parameters()]
    fit_seconds = time.perf_counter() - started
    models = {
        "running accuracy": None,
        "FSRS, default parameters": list(DEFAULT_PARAMETERS),
        "FSRS, fitted (the product)": fitted,
    }
    rows = {}
    for name, parameters in models.items():
        found = list(predictions(test, parameters))
        rows[name] = {
            "all": scores(found),
            "later day": scores([p for p in found if p.later_day]),
            "same day": scores([p for p in found if not p.later_day]),
        }
    return {
        "learners": {"train": train_count, "test": test_count, "weeks": weeks},
        "observations": {"train": sum(map(len, train)), "test": sum(map(len, test))},
        "fit_seconds": round(fit_seconds, 1),
        "parameters": fitted,
        "models": rows,
    }


def table(report: dict[str, Any]) -> str:
    """The report as a Markdown table (the README's)."""
    lines = [
        "| model | log loss, all | AUC, all | log loss, later day | AUC, later day |",
        "|---|---|---|---|---|",
    ]
    for name, row in report["models"].items():
        lines.append(
            f"| {name} | {row['all']['log_loss']:.4f} | {row['all']['auc']:.4f} "
            f"| {row['later day']['log_loss']:.4f} | {row['later day']['auc']:.4f} |"
        )
    sizes = report["models"]["running accuracy"]
    lines.append(
        f"\n{sizes['all']['answers']} held-out answers ({sizes['later day']['answers']} on a "
        f"later day) of {report['learners']['test']} learners; FSRS fitted on "
        f"{report['learners']['train']} others in {report['fit_seconds']} s."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=30, help="learners to fit on")
    parser.add_argument("--test", type=int, default=30, help="learners to judge on")
    parser.add_argument("--weeks", type=int, default=12, help="plan weeks each works through")
    args = parser.parse_args()
    report = evaluate(args.train, args.test, args.weeks)
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"mastery-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"report: {path}")


if __name__ == "__main__":
    main()

"""Is the quiz grader fair? Learner answers to real quiz questions, labelled right or wrong by
a teacher, graded as the product grades them (`app.practice.grading.grade` with the packaged
MiniLM embedder and the notes' glossary, no judge model).

`evals/grading/graded_answers.jsonl` holds one answer a line: {"id", "week", "kind" (short or
cloze), "prompt", "expected", "response", "label" (right or wrong), "why", "split" (dev or
test)}. It was written before the grader of issue #24 was, with answers as learners type them:
abbreviations, typos, inflections, near-synonyms, paraphrases, and wrong answers that share
the expected answer's words. All the answers to one question share a split: the threshold is
calibrated on dev and judged on test questions it never saw.

Per split: accuracy, the false-reject rate (right answers graded wrong, over right answers)
and the false-accept rate (wrong answers graded right, over wrong answers), beside the figures
in `evals/baselines/grading.json` (the grader before issue #24).

    python -m evals.grading                  # the table: before and now, per split
    python -m evals.grading --json           # the same, and every miss, as JSON
    python -m evals.grading --save-baseline "the grader at <commit>"  # record "before"
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import Field

from app.course.notes import read_notes
from app.practice.distractors import default_embedder
from app.practice.grading import SHORT_ANSWER_CUT
from app.practice.grading import Grade
from app.practice.grading import glossary
from app.practice.grading import grade
from app.practice.quiz import Question

HERE = Path(__file__).resolve().parent
ANSWERS = HERE / "grading" / "graded_answers.jsonl"
BASELINE = HERE / "baselines" / "grading.json"
Similarity = Callable[[str, str], float]


class LabelledAnswer(BaseModel):
    """A learner's answer to a quiz question and a teacher's verdict on it."""

    id: str
    week: int = Field(ge=1, le=72)
    kind: Literal["short", "cloze"]
    prompt: str = Field(min_length=1)
    expected: str = Field(min_length=1)
    response: str
    label: Literal["right", "wrong"]
    why: str = Field(min_length=1)
    split: Literal["dev", "test"]

    @property
    def right(self) -> bool:
        return self.label == "right"

    def question(self) -> Question:
        """The question as the quiz asks it: the check-yourself answer (short) or the concept
        (cloze) is the answer, and the quote."""
        citation = {"source": "", "snippet": self.expected, "week": self.week}
        return Question(
            self.id, self.kind, self.prompt, [], self.expected, "", "", citation, "eval"
        )


def load_answers(path: Path = ANSWERS) -> list[LabelledAnswer]:
    """Every labelled answer in `path`; ids must be unique."""
    rows = [
        LabelledAnswer.model_validate_json(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    ids = [row.id for row in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path.name}: ids must be unique")
    return rows


def graded(
    rows: Iterable[LabelledAnswer], similarity: Similarity, terms: Iterable[str] = ()
) -> list[tuple[LabelledAnswer, Grade]]:
    """Each answer with the grader's verdict on it."""
    terms = frozenset(terms)
    return [(row, grade(row.question(), row.response, similarity, None, terms)) for row in rows]


def rates(results: list[tuple[LabelledAnswer, Grade]]) -> dict[str, float | int]:
    """{"answers", "right", "wrong", "accuracy", "false_reject", "false_accept"}; the rates
    are shares (0-1) of all answers, of the right ones and of the wrong ones."""
    right = [g.correct for row, g in results if row.right]
    wrong = [g.correct for row, g in results if not row.right]
    agree = sum(right) + len(wrong) - sum(wrong)
    return {
        "answers": len(results),
        "right": len(right),
        "wrong": len(wrong),
        "accuracy": round(agree / len(results), 4) if results else 0.0,
        "false_reject": round(1 - sum(right) / len(right), 4) if right else 0.0,
        "false_accept": round(sum(wrong) / len(wrong), 4) if wrong else 0.0,
    }


def figures(results: list[tuple[LabelledAnswer, Grade]]) -> dict[str, dict[str, float | int]]:
    """`rates` per split (dev, test, all) and per kind over all answers (short, cloze)."""
    groups = {
        "dev": [r for r in results if r[0].split == "dev"],
        "test": [r for r in results if r[0].split == "test"],
        "all": results,
        "short": [r for r in results if r[0].kind == "short"],
        "cloze": [r for r in results if r[0].kind == "cloze"],
    }
    return {name: rates(group) for name, group in groups.items()}


def calibrated_cut(results: list[tuple[LabelledAnswer, Grade]]) -> float:
    """The short-answer score cut that grades the dev answers best: fewest wrong verdicts,
    then fewest false accepts; midway between two neighbouring scores, so it does not hang on
    one answer's rounding. What SHORT_ANSWER_CUT is set from."""
    scored = [
        (g.score, row.right) for row, g in results if row.split == "dev" and row.kind == "short"
    ]
    scores = sorted({score for score, _ in scored})
    cuts = [(low + high) / 2 for low, high in zip(scores, scores[1:])]

    def errors(cut: float) -> tuple[int, int]:
        accepted = sum(score >= cut and not right for score, right in scored)
        return accepted + sum(score < cut and right for score, right in scored), accepted

    best: float = min(cuts, key=errors)
    return round(best, 3)


def misses(results: list[tuple[LabelledAnswer, Grade]]) -> list[dict[str, Any]]:
    """The answers the grader got wrong: what a change to it should look at first."""
    return [
        {
            "id": row.id,
            "split": row.split,
            "label": row.label,
            "score": g.score,
            "response": row.response,
            "expected": row.expected,
            "feedback": g.feedback,
        }
        for row, g in results
        if g.correct != row.right
    ]


def measure(path: Path = ANSWERS) -> list[tuple[LabelledAnswer, Grade]]:
    """Every labelled answer graded with the product's embedder and the notes' glossary."""
    return graded(load_answers(path), default_embedder().similarity, glossary(read_notes()))


def table(now: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]] | None) -> str:
    """Markdown: per split and kind, each figure before (the baseline) and now."""
    lines = [
        "| answers | n | accuracy | false reject | false accept |",
        "|---|---|---|---|---|",
    ]
    for name, got in now.items():
        was = (before or {}).get(name, {})
        cells = [
            f"{was[key]:.1%} → {got[key]:.1%}" if key in was else f"{got[key]:.1%}"
            for key in ("accuracy", "false_reject", "false_accept")
        ]
        lines.append(f"| {name} | {got['answers']} | {' | '.join(cells)} |")
    return "\n".join(lines)


def save_baseline(now: dict[str, dict[str, Any]], grader: str, path: Path = BASELINE) -> None:
    """Record `now`, the figures of `grader` (which one, in words), as those to compare with."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "grader": grader,
        "date": dt.date.today().isoformat(),
        "measured": f"app.practice.grading.grade on {ANSWERS.relative_to(HERE.parent)} "
        "(packaged all-MiniLM-L6-v2 similarity, the notes' glossary, no judge model)",
        "figures": now,
    }
    path.write_text(json.dumps(record, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.grading", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON, misses included")
    parser.add_argument(
        "--save-baseline",
        metavar="GRADER",
        help=f"record the figures now in {BASELINE.name} as those of GRADER (say which)",
    )
    args = parser.parse_args(argv)
    results = measure()
    now = figures(results)
    if args.save_baseline:
        save_baseline(now, args.save_baseline)
    before = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
    cut = {"grader": SHORT_ANSWER_CUT, "calibrated_on_dev": calibrated_cut(results)}
    if args.json:
        report = {"now": now, "before": before, "short_answer_cut": cut, "misses": misses(results)}
        print(json.dumps(report, indent=2))
        return 0
    if before:
        print(f"before: {before['grader']}, measured {before['date']}")
    print(table(now, before["figures"] if before else None))
    print(
        f"short-answer cut: {cut['grader']} in the grader, {cut['calibrated_on_dev']} "
        "calibrated on dev now"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The measurement of `tutor check`: every check against the reference, correct learner-style
variants and seeded common bugs (the files in evals/checks/).

Each case file starts with a header line saying what it should get:

    # week 1 pca: pass (a learner's PCA through the SVD)
    # week 1 pca: fail "data is centred first" (PCA without centring)
    # week 13 softmax: fail "ordinary logits" [wrong axis] (softmax down axis 0)

A `fail` case must fail the property whose name contains the quoted words, with that
property's hint; with a bracketed name, the verdict must also diagnose that bug (the hint
names it, not another). A check whose result has the wrong form (`wrong_interface`) counts
as failing with its diagnosis. `python -m evals.check_cases` prints the README's table.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.checks.catalog import CHECKS
from app.checks.engine import run_checks
from app.config import Settings

CASES_DIR = Path(__file__).with_name("checks")
_HEADER = re.compile(r'# week (\d+) (\w+): (pass|fail "([^"]+)"(?: \[([^\]]+)\])?) \((.+)\)')


@dataclass(frozen=True)
class Case:
    """One learner file and what it should get."""

    path: Path
    week: int
    check: str
    expected_failure: str | None  # words of the property it must fail; None: must pass
    what: str
    diagnosis: str | None = None  # the bug the verdict must name, when the header says one

    @property
    def is_reference(self) -> bool:
        return self.what == "reference"


def cases() -> list[Case]:
    """The reference for every check, then every case file, in name order."""
    found = [Case(c.reference, c.week, c.name, None, "reference") for c in CHECKS]
    for path in sorted(CASES_DIR.glob("w*.py")):
        match = _HEADER.match(path.read_text().splitlines()[0])
        if match is None:
            raise ValueError(f"{path.name}: the first line must be a case header")
        week, check, _, failure, diagnosis, what = match.groups()
        found.append(Case(path, int(week), check, failure, what, diagnosis))
    return found


def measure(case: Case, settings: Settings) -> dict[str, Any]:
    """Run the case's check; `ok` says whether it got what its header says."""
    verdict = run_checks(case.week, case.path.read_text(), settings, only=case.check)
    failed = [p for c in verdict["checks"] for p in c["properties"] if not p["passed"]]
    wrong_form = [c["wrong_interface"] for c in verdict["checks"] if c["wrong_interface"]]
    diagnosed = [p["diagnosis"] for p in failed] + [w["diagnosis"] for w in wrong_form]
    if case.expected_failure is None:
        ok = verdict["passed"]
    elif case.diagnosis is not None:
        ok = case.diagnosis in diagnosed
    else:
        ok = any(case.expected_failure in p["name"] and p["hint"] for p in failed)
    return {
        "case": case,
        "ok": ok,
        "verdict": verdict,
        "failed": failed,
        "diagnosed": [d for d in diagnosed if d],
    }


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| week | check | file | kind | expected | got | diagnosis | hint cited | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        case: Case = r["case"]
        kind = (
            "reference"
            if case.is_reference
            else ("variant" if case.expected_failure is None else "bug")
        )
        expected = "pass" if case.expected_failure is None else f"fail: {case.expected_failure}"
        diagnosis = (
            f"{case.diagnosis} → {', '.join(r['diagnosed']) or 'none'}"
            if case.diagnosis
            else ", ".join(r["diagnosed"]) or "-"
        )
        got = (
            "pass"
            if r["verdict"]["passed"]
            else "fail: " + "; ".join(p["name"] for p in r["failed"])
        )
        hints = "; ".join(sorted({p["hint"]["source"] for p in r["failed"]})) or "-"
        name = case.path.name
        lines.append(
            f"| {case.week} | {case.check} | {name} ({case.what}) | {kind} | "
            f"{expected} | {'✅' if r['ok'] else '❌'} {got} | {diagnosis} | {hints} | "
            f"{r['verdict']['seconds']} |"
        )
    return "\n".join(lines)


def main() -> int:
    settings = Settings()
    started = time.monotonic()
    results = [measure(case, settings) for case in cases()]
    print(table(results))
    wrong = sum(not r["ok"] for r in results)
    print(
        f"\n{len(results)} cases, {wrong} not as expected, "
        f"{time.monotonic() - started:.1f} s in all"
    )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

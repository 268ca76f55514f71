"""Run a week's checks on a learner's file and give the verdict.

The learner's file runs in the sandbox; Hypothesis, in this process, draws the inputs,
compares with the references and shrinks a failing input to a small one to show. The verdict
is plain data (the CLI prints it, the API returns it, the UI draws it):

    {"week", "passed", "mechanism", "isolation", "seconds",
     "checks": [{"name", "title", "interface", "passed", "properties": [
         {"name", "passed", "example", "detail", "hint": {"advice", "source", "quote"},
          "diagnosis": the common bug it looks like, or None}],
         "wrong_interface": {"detail", "example", "interface", "diagnosis"} | None}],
                                                           # then no properties
     "not_checked": [{"name", "missing", "interface"}],   # checks whose names the file lacks
     "stopped": {"kind", "message"} | None}                # the sandbox stopped the code
"""

from __future__ import annotations

import logging
import time
from typing import Any

from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import HypothesisException
from hypothesis.errors import Unsatisfiable

from app.checks.catalog import check_weeks
from app.checks.catalog import checks_of
from app.checks.hints import cite
from app.checks.properties import Check
from app.checks.properties import Learner
from app.checks.properties import Mismatch
from app.checks.properties import Property
from app.checks.properties import WrongInterface
from app.checks.properties import show
from app.checks.sandbox import ISOLATION
from app.checks.sandbox import Sandbox
from app.checks.sandbox import SandboxFailure
from app.config import Settings

MAX_SOURCE_BYTES = 200_000


class CheckError(ValueError):
    """The request cannot be checked (no checks that week, an unknown check, an empty or
    oversized file); the message says what to do."""


log = logging.getLogger(__name__)


def interfaces(week: int) -> str:
    """What a file for `week` must define, one line per check."""
    return "\n".join(f"- {c.name}: {c.interface}" for c in checks_of(week))


def select(week: int, only: str | None) -> list[Check]:
    """The checks to run for `week` (all of them, or the one named `only`)."""
    checks = checks_of(week)
    if not checks:
        raise CheckError(
            f"week {week} has no checked from-scratch assignment; weeks with "
            f"checks: {', '.join(map(str, check_weeks()))}"
        )
    if only is None:
        return checks
    chosen = [c for c in checks if c.name == only]
    if not chosen:
        raise CheckError(
            f"week {week} has no check {only!r}; its checks: " + ", ".join(c.name for c in checks)
        )
    return chosen


def _example_text(prop: Property, example: Any) -> str:
    if prop.describe is not None:
        return prop.describe(example)
    items = example if isinstance(example, tuple) else (example,)
    return ", ".join(show(item) for item in items)


def _run_property(prop: Property, learner: Learner, examples: int) -> dict[str, Any]:
    failure: dict[str, Any] = {}
    stopped: list[SandboxFailure] = []

    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
        report_multiple_bugs=False,
        print_blob=False,
    )
    @given(prop.inputs)
    def law(example: Any) -> None:
        if stopped:  # the sandbox is gone: fail at once so shrinking ends quickly
            raise stopped[0]
        try:
            try:
                prop.test(learner, example)
            except (Mismatch, SandboxFailure, HypothesisException):
                raise
            except Exception as exc:  # noqa: BLE001 - what the learner returned broke the check
                raise WrongInterface(
                    f"your function's result could not be read ({type(exc).__name__}: {exc})"
                ) from exc
        except Mismatch as exc:
            failure.update(
                example=_example_text(prop, example),
                detail=str(exc),
                wrong_interface=isinstance(exc, WrongInterface),
                diagnosis=prop.diagnose(example, exc.got),
            )
            raise
        except SandboxFailure as exc:
            stopped.append(exc)
            raise

    try:
        law()
    except SandboxFailure:
        raise stopped[0] from None
    except Mismatch:
        pass
    except HypothesisException as exc:
        if not failure and isinstance(exc, Unsatisfiable):  # no usable input: nothing wrong
            return {
                "name": prop.name,
                "passed": True,
                "example": None,
                "detail": None,
                "hint": None,
                "note": type(exc).__name__,
            }
        failure.setdefault("example", "-")
        failure.setdefault("detail", "your function does not give the same result twice")
        failure.setdefault("wrong_interface", False)
        failure.setdefault("diagnosis", None)
        failure["detail"] += " (and the same input does not always fail: is it random?)"
    if not failure:
        return {"name": prop.name, "passed": True, "example": None, "detail": None, "hint": None}
    diagnosis = failure["diagnosis"]
    hint = cite((diagnosis.hint or prop.hint) if diagnosis else prop.hint)
    if diagnosis is not None:
        hint["advice"] = diagnosis.says
        if failure["wrong_interface"]:  # the verdict then shows the detail, not the hint
            failure["detail"] += f". {diagnosis.says}"
    return {
        "name": prop.name,
        "passed": False,
        "example": failure["example"],
        "detail": failure["detail"],
        "hint": hint,
        "diagnosis": diagnosis.name if diagnosis else None,
        "wrong_interface": failure["wrong_interface"],
    }


def run_checks(
    week: int,
    source: str,
    settings: Settings,
    only: str | None = None,
    filename: str = "learner.py",
) -> dict[str, Any]:
    """Check `source` (a learner's Python file, named `filename` in error messages) against
    week `week`'s assignments.

    Raises CheckError for requests that cannot be checked; everything about the learner's code
    (missing names, wrong results, exceptions, limits hit) is part of the verdict."""
    chosen = select(week, only)
    if not source.strip():
        raise CheckError("the file is empty; it should define:\n" + interfaces(week))
    if len(source.encode()) > MAX_SOURCE_BYTES:
        raise CheckError(
            f"the file is over {MAX_SOURCE_BYTES // 1000} kB; check one assignment's code at a time"
        )
    started = time.monotonic()
    verdict: dict[str, Any] = {
        "week": week,
        "passed": False,
        "checks": [],
        "not_checked": [],
        "stopped": None,
        "mechanism": None,
        "isolation": None,
    }
    try:
        sandbox = Sandbox(source, settings, filename)
        verdict["mechanism"] = sandbox.mechanism
        verdict["isolation"] = ISOLATION[sandbox.mechanism]
        with sandbox:
            learner = Learner(sandbox)
            for check in chosen:
                missing = [n for n in check.requires if n not in sandbox.names]
                if missing:
                    verdict["not_checked"].append(
                        {"name": check.name, "missing": missing, "interface": check.interface}
                    )
                    continue
                result: dict[str, Any] = {
                    "name": check.name,
                    "title": check.title,
                    "interface": check.interface,
                    "properties": [],
                    "wrong_interface": None,
                }
                verdict["checks"].append(result)
                for prop in check.properties:
                    outcome = _run_property(prop, learner, settings.check_examples)
                    if outcome.pop("wrong_interface", False):
                        result["wrong_interface"] = {
                            "detail": outcome["detail"],
                            "example": outcome["example"],
                            "interface": check.interface,
                            "diagnosis": outcome["diagnosis"],
                        }
                        result["properties"] = []
                        break
                    result["properties"].append(outcome)
                result["passed"] = result["wrong_interface"] is None and all(
                    p["passed"] for p in result["properties"]
                )
    except SandboxFailure as exc:
        verdict["stopped"] = {"kind": exc.kind, "message": str(exc)}
    except Exception as exc:  # noqa: BLE001 - whatever the learner's code did, a verdict
        log.exception("a check ended in an error of the tutor's")
        verdict["stopped"] = {
            "kind": "protocol",
            "message": f"the check could not read what your code sent ({type(exc).__name__})",
        }
    if verdict["stopped"] is not None:  # a check cut short did not pass
        for result in verdict["checks"]:
            result.setdefault("passed", False)
    verdict["passed"] = (
        verdict["stopped"] is None
        and bool(verdict["checks"])
        and all(c["passed"] for c in verdict["checks"])
    )
    verdict["seconds"] = round(time.monotonic() - started, 2)
    return verdict

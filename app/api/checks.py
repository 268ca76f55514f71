"""Checked code: run a week's from-scratch assignment checks on a learner's file, in the
sandbox, and keep the attempt in the learner's progress when a token comes with it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import HTTPException
from fastapi import Request
from pydantic import Field

from app.api.deps import AskerDep
from app.api.deps import LearnerDep
from app.api.deps import ServicesDep
from app.api.deps import from_this_machine
from app.api.params import WeekPath
from app.api.params import WeekQuery
from app.api.schemas import Body
from app.checks.catalog import CHECKS
from app.checks.engine import MAX_SOURCE_BYTES
from app.checks.engine import CheckError
from app.checks.engine import run_checks
from app.records.checks import CheckRecords

router = APIRouter()


class CodeIn(Body):
    code: str = Field(
        min_length=1, max_length=MAX_SOURCE_BYTES, description="The Python file to check, as text."
    )
    check: str | None = Field(
        default=None,
        description="One of the week's checks (default: "
        "every check whose functions the file defines).",
    )
    filename: str = Field(
        default="learner.py",
        max_length=255,
        description="The file's name, as errors name it ('my_pca.py, line 8: ...').",
    )


@router.get("/checks")
def checks() -> list[dict[str, Any]]:
    """The checked assignments: week, name, title and the interface the file must define."""
    return [
        {
            "week": c.week,
            "name": c.name,
            "title": c.title,
            "requires": list(c.requires),
            "interface": c.interface,
        }
        for c in CHECKS
    ]


@router.post("/checks/{week}")
def check_code(
    week: WeekPath, body: CodeIn, request: Request, svc: ServicesDep, learner: AskerDep
) -> dict[str, Any]:
    """Run the week's checks on the code: each property passes or fails, a failure with the
    input shrunk to a small example and a hint citing the week's notes. With a learner's
    token the attempt is kept in their progress (`attempt_id`).

    A check runs the caller's code, so: without a token only from this machine to an API
    that listens on loopback only (401 otherwise: on a server, every check needs a token), TUTOR_CHECKS_PER_MINUTE per learner (429), and TUTOR_CHECKS_AT_ONCE at once
    (503 with Retry-After when a check cannot start within TUTOR_CHECK_CALL_S)."""
    if learner is None and not (from_this_machine(request) and svc.listens_locally):
        raise HTTPException(
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
            detail="a check runs your code: send `Authorization: Bearer <token>` "
            "(POST /learners gives one); anonymous checks are for this machine only",
        )
    who = f"learner {learner.id}" if learner else (request.client.host if request.client else "")
    wait = svc.limits["checks"].hit(who)
    if wait:
        raise HTTPException(
            status_code=429,
            headers={"Retry-After": str(wait)},
            detail=f"too many checks: try again in {wait} s",
        )
    if not svc.checks_running.acquire(timeout=svc.settings.check_call_s):
        raise HTTPException(
            status_code=503,
            headers={"Retry-After": "10"},
            detail=f"{svc.settings.checks_at_once} checks are running: try again in a few seconds",
        )
    try:
        verdict = run_checks(week, body.code, svc.settings, only=body.check, filename=body.filename)
    except CheckError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    finally:
        svc.checks_running.release()
    if learner is not None:
        verdict["attempt_id"] = CheckRecords(svc.learners).record(learner.id, verdict)
    return verdict


@router.get("/learners/{learner_id}/checks")
def attempts(learner: LearnerDep, svc: ServicesDep, week: WeekQuery = None) -> list[dict[str, Any]]:
    """Your checked-code attempts, newest first (of one week with ?week=)."""
    return CheckRecords(svc.learners).attempts(learner.id, week)

"""The learning plan: its 72 weeks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from app.api.deps import CurriculumDep
from app.api.schemas import WeekSummary
from ingest.curriculum import LAST_WEEK, WeekOutOfRange

router = APIRouter()


@router.get("/weeks", response_model=list[WeekSummary])
def weeks(cur: CurriculumDep) -> list[WeekSummary]:
    plans = [cur.week(n) for n in range(1, LAST_WEEK + 1)]
    return [WeekSummary(number=p.number, title=p.title, month=p.month.number,
                        phase=p.phase.number, detailed=p.week is not None) for p in plans]

@router.get("/weeks/{number}")
def week(number: int, cur: CurriculumDep) -> dict[str, Any]:
    try:
        return cur.week(number).model_dump(mode="json")
    except WeekOutOfRange as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc

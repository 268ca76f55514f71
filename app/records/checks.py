"""A learner's checked code, kept in the learner database: every `tutor check` run's week,
whether it passed and which checks and properties failed (not the code itself)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from app.records.base import Base
from app.records.learners import LearnerRecords


class CheckAttempt(Base):
    __tablename__ = "check_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True
    )
    week: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    failed: Mapped[list[Any]] = mapped_column(JSON, default=list)  # "check: property" names
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


def failures(verdict: dict[str, Any]) -> list[str]:
    """What failed in a verdict: "check: property", a check the file lacks, or the limit."""
    failed = [
        f"{c['name']}: {p['name']}"
        for c in verdict["checks"]
        for p in c["properties"]
        if not p["passed"]
    ]
    failed += [
        f"{c['name']}: not defined ({', '.join(c['missing'])})" for c in verdict["not_checked"]
    ]
    if verdict["stopped"]:
        failed.append(f"stopped: {verdict['stopped']['kind']}")
    return failed


class CheckRecords:
    """Checked code of the learners of one store."""

    def __init__(self, store: LearnerRecords) -> None:
        self.sessions = store.sessions

    def record(self, learner_id: int, verdict: dict[str, Any]) -> int:
        """Keep a verdict as an attempt of `learner_id`; returns the attempt's id."""
        with self.sessions.begin() as session:
            row = CheckAttempt(
                learner_id=learner_id,
                week=verdict["week"],
                passed=verdict["passed"],
                failed=failures(verdict),
            )
            session.add(row)
            session.flush()
            return row.id

    def attempts(self, learner_id: int, week: int | None = None) -> list[dict[str, Any]]:
        """The learner's attempts, newest first (of one week when given)."""
        query = select(CheckAttempt).where(CheckAttempt.learner_id == learner_id)
        if week is not None:
            query = query.where(CheckAttempt.week == week)
        with self.sessions() as session:
            rows = session.scalars(query.order_by(CheckAttempt.id.desc())).all()
            return [
                {
                    "id": r.id,
                    "week": r.week,
                    "passed": r.passed,
                    "failed": r.failed,
                    "at": r.created_at.isoformat(),
                }
                for r in rows
            ]

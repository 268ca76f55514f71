"""A learner's capstone work, kept per quarter in the learner database: the deliverables
ticked, links to their repository and report, and their self-review against the rubric
(`app.course.rubric`), each criterion scored 1-4 with a note."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import JSON
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from app.course.rubric import SCORES
from app.course.rubric import Rubric
from app.records.base import Base
from app.records.learners import LearnerRecords

LINK_CHARS = 500
LINKS = ("repository", "report")  # what a learner links: their code, and their write-up


class CapstoneWork(Base):
    __tablename__ = "capstone_work"
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # deliverable id -> done
    repository: Mapped[str | None] = mapped_column(String(LINK_CHARS), nullable=True)
    report: Mapped[str | None] = mapped_column(String(LINK_CHARS), nullable=True)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # criterion id -> 1-4
    note: Mapped[str] = mapped_column(Text, default="")
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )


def check_link(url: str, what: str) -> str:
    """`url` if it is a web address (http or https, with a host, at most 500 characters); a
    ValueError naming `what` otherwise."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > LINK_CHARS:
        raise ValueError(
            f"{what} must be a web address such as https://github.com/you/project "
            f"(http or https, at most {LINK_CHARS} characters)"
        )
    return url


def check_scores(scores: dict[str, int], rubric: Rubric) -> dict[str, int]:
    """Scores of the rubric's own criteria, each 1-4; a ValueError names what is wrong."""
    ids = [c.id for c in rubric.criteria]
    unknown = [key for key in scores if key not in ids]
    if unknown:
        raise ValueError(
            f"the Q{rubric.quarter} rubric has no criterion {', '.join(unknown)}; "
            f"its criteria are: {', '.join(ids)}"
        )
    wrong = [key for key, score in scores.items() if score not in SCORES]
    if wrong:
        raise ValueError(
            f"{', '.join(wrong)}: a score is 1-4 ("
            + ", ".join(f"{n} = {meaning}" for n, meaning in SCORES.items())
            + ")"
        )
    return scores


class CapstoneRecords:
    """Capstone work of the learners of one store."""

    def __init__(self, store: LearnerRecords) -> None:
        self.sessions = store.sessions

    def _row(self, session: Session, learner_id: int, quarter: int) -> CapstoneWork:
        row = session.get(CapstoneWork, (learner_id, quarter))
        if row is None:
            row = CapstoneWork(learner_id=learner_id, quarter=quarter, ticks={}, scores={}, note="")
            session.add(row)
        return row

    def read(self, learner_id: int, rubric: Rubric) -> dict[str, Any]:
        """The rubric with the learner's work on it: each deliverable's tick, each criterion's
        score, the links, the note and when they last reviewed."""
        with self.sessions() as session:
            row = session.get(CapstoneWork, (learner_id, rubric.quarter))
        ticks = row.ticks if row else {}
        scores = row.scores if row else {}
        criteria = [
            asdict(c)
            | {
                "done": bool(ticks.get(c.id)) if c.kind == "deliverable" else None,
                "score": scores.get(c.id),
            }
            for c in rubric.criteria
        ]
        return {
            **rubric.to_dict(),
            "criteria": criteria,
            "repository": row.repository if row else None,
            "report": row.report if row else None,
            "note": row.note if row else "",
            "reviewed_on": row.reviewed_on.isoformat() if row and row.reviewed_on else None,
        }

    def tick(self, learner_id: int, rubric: Rubric, deliverable: str, done: bool) -> None:
        """Tick a deliverable; a KeyError names the rubric's deliverables."""
        rubric.criterion(deliverable, "deliverable")
        with self.sessions.begin() as session:
            row = self._row(session, learner_id, rubric.quarter)
            row.ticks = {**row.ticks, deliverable: done}

    def link(self, learner_id: int, rubric: Rubric, links: dict[str, str | None]) -> None:
        """Set (or, with None, clear) the `repository` and `report` links given."""
        with self.sessions.begin() as session:
            row = self._row(session, learner_id, rubric.quarter)
            for name, url in links.items():
                setattr(row, name, None if url is None else check_link(url, name))

    def review(
        self, learner_id: int, rubric: Rubric, scores: dict[str, int], note: str | None, on: dt.date
    ) -> None:
        """Score criteria 1-4 (the ones given; the rest keep theirs) and keep the note."""
        check_scores(scores, rubric)
        with self.sessions.begin() as session:
            row = self._row(session, learner_id, rubric.quarter)
            row.scores = {**row.scores, **scores}
            if note is not None:
                row.note = note
            row.reviewed_on = on

    def summaries(self, learner_id: int, rubrics: list[Rubric]) -> list[dict[str, Any]]:
        """One line per capstone the learner has worked on, for progress: deliverables done,
        links, and the mean self-review score."""
        with self.sessions() as session:
            rows = {
                row.quarter: row
                for row in session.scalars(
                    select(CapstoneWork).where(CapstoneWork.learner_id == learner_id)
                )
            }
        found = []
        for rubric in rubrics:
            row = rows.get(rubric.quarter)
            if row is None:
                continue
            deliverables = rubric.by_kind("deliverable")
            scores = [row.scores[c.id] for c in rubric.criteria if c.id in row.scores]
            found.append(
                {
                    "quarter": rubric.quarter,
                    "title": rubric.title,
                    "deliverables_done": sum(bool(row.ticks.get(c.id)) for c in deliverables),
                    "deliverables": len(deliverables),
                    "repository": row.repository,
                    "report": row.report,
                    "scored": len(scores),
                    "criteria": len(rubric.criteria),
                    "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
                    "reviewed_on": row.reviewed_on.isoformat() if row.reviewed_on else None,
                }
            )
        return found

"""A learner's schedule kept in the learner database: their pace read from their ticks, and
re-plans, each one recorded.

The arithmetic is `app.course.pacing`'s; this module only reads what it needs (the learner, the weeks
whose checklists are all ticked) and writes what a re-plan changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from app.course.curriculum import Curriculum
from app.course.pacing import Schedule
from app.course.pacing import Standing
from app.course.pacing import replan
from app.course.pacing import standing
from app.course.today import TodayTask
from app.course.today import today_task
from app.records.base import Base
from app.records.base import learner_rows
from app.records.learners import Learner
from app.records.learners import LearnerRecords
from app.records.learners import TaskTick
from app.records.learners import learner_in
from app.records.learners import schedule_of


class Replan(Base):
    """One re-plan: on `made_on` the schedule moved from `from_week` (where it had the learner)
    to `to_week` (where their ticks had them), and the pace from `pace_before` to `pace`."""

    __tablename__ = "replans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    made_on: Mapped[dt.date] = mapped_column(Date)
    from_week: Mapped[int] = mapped_column(Integer)
    to_week: Mapped[int] = mapped_column(Integer)
    pace_before: Mapped[float] = mapped_column(Float)
    pace: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    def to_dict(self) -> dict[str, Any]:
        """As `GET /learners/{id}/replans` and `tutor progress --json` show it."""
        return {
            "made_on": self.made_on.isoformat(),
            "from_week": self.from_week,
            "to_week": self.to_week,
            "pace_before": self.pace_before,
            "pace": self.pace,
        }


def completed_weeks(session: Session, learner_id: int, curriculum: Curriculum) -> set[int]:
    """The plan weeks whose every task the learner has ticked done."""
    counts = session.execute(
        select(TaskTick.week, func.count())
        .where(TaskTick.learner_id == learner_id, TaskTick.done.is_(True))
        .group_by(TaskTick.week)
    ).all()
    complete = set()
    for week, done in counts:
        plan = curriculum.week(week).week
        if plan is not None and done >= len(plan.fields()):
            complete.add(week)
    return complete


def standing_in(
    session: Session, learner: Learner, curriculum: Curriculum, on: dt.date
) -> Standing:
    """Where `learner` stands on `on` (their local date), read in `session`: the one function
    behind every view of their week, start week, pace, next capstone and finish."""
    done = completed_weeks(session, learner.id, curriculum)
    schedule = schedule_of(learner)
    start = learner.start_week or 1
    return standing(schedule, done, curriculum, start, learner.start_date, on)


class ScheduleRecords:
    """Pace reports and re-plans for the learners of one store."""

    def __init__(self, store: LearnerRecords) -> None:
        self.sessions = store.sessions

    def standing(self, learner: Learner, curriculum: Curriculum, on: dt.date) -> Standing:
        """Where `learner` stands on `on` (their local date): see `standing_in`."""
        with self.sessions() as session:
            return standing_in(session, learner, curriculum, on)

    def current_week(self, learner: Learner, curriculum: Curriculum, on: dt.date) -> int:
        """The week `learner` is on, on `on`: what answers, quizzes, cards and the journal
        use when no week is given."""
        return self.standing(learner, curriculum, on).current_week

    def replan(
        self, learner_id: int, curriculum: Curriculum, on: dt.date, pace: float | None = None
    ) -> tuple[Learner, Replan]:
        """Resume the plan on `on` from where the learner's ticks have them, at `pace` (their
        own when None); the re-plan is recorded."""
        with self.sessions.begin() as session:
            learner = learner_in(session, learner_id)
            before = standing_in(session, learner, curriculum, on)
            moved: Schedule = replan(before, on, learner.pace if pace is None else pace)
            record = Replan(
                learner_id=learner_id,
                made_on=on,
                from_week=before.scheduled_week,
                to_week=moved.week,
                pace_before=learner.pace,
                pace=float(moved.pace),
            )
            learner.current_week, learner.week_set_on = moved.week, moved.since
            learner.pace = float(moved.pace)
            session.add(record)
        return learner, record

    def today(self, learner: Learner, curriculum: Curriculum, on: dt.date) -> TodayTask:
        """The learner's task on `on`: the plan's day applied to their week, with their ticks."""
        with self.sessions() as session:
            week = standing_in(session, learner, curriculum, on).current_week
            ticks = dict(
                session.execute(
                    select(TaskTick.task, TaskTick.done).where(
                        TaskTick.learner_id == learner.id, TaskTick.week == week
                    )
                ).all()
            )
        return today_task(curriculum.week(week), ticks, curriculum.study_method.weekly_schedule, on)

    def history(self, learner_id: int) -> list[Replan]:
        """The learner's re-plans, oldest first."""
        with self.sessions() as session:
            return learner_rows(session, Replan, learner_id, Replan.made_on, Replan.id)

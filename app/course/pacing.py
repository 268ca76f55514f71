"""Pacing: where a learner stands against the plan's calendar, and the plan moved to fit them.

A learner's schedule is a straight line through the calendar: on day `since` they were in plan
week `week`, and they move on `pace` plan weeks per calendar week (1.0 is the plan's own
rhythm, 5-6 hours a week). The line starts at their start date in week 1; setting a week or
re-planning starts a new line from that day. Their ticks say how far they really are: the week
after the last one whose checklist is all done. The two together give ahead or behind, the
projected finish and when the next capstone falls due.

Pure arithmetic on dates and numbers; the learner store and the API call it. Dates are calendar
days in the learner's own time zone (the caller decides what "today" is), so nothing here
depends on the server's clock or zone.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from typing import Literal

from app.course.curriculum import DETAILED_WEEKS
from app.course.curriculum import LAST_WEEK
from app.course.curriculum import Curriculum

Status = Literal["not started", "ahead", "on track", "behind", "finished"]
MAX_PACE = 4.0  # plan weeks per calendar week: four times the plan's rhythm is already a sprint
MIN_PACE = 0.1  # a tenth of it would take the 18 months 15 years; slower is a pause, not a pace


@dataclass(frozen=True)
class Schedule:
    """The plan laid on the calendar: on `since` the learner was in `week` (1-72), moving on
    `pace` plan weeks per calendar week (0 < pace <= 4)."""

    since: dt.date
    week: int
    pace: Fraction

    @classmethod
    def of(cls, since: dt.date, week: int, pace: float) -> Schedule:
        """Pace as stored (a float such as 0.7) made exact, so that a week's first day maps
        back to that week without rounding surprises."""
        if not MIN_PACE <= pace <= MAX_PACE:
            raise ValueError(f"pace is plan weeks per calendar week, {MIN_PACE:g}-{MAX_PACE:g}")
        return cls(since, week, Fraction(pace).limit_denominator(1000))

    def raw_week(self, day: dt.date) -> int:
        """The plan week on `day`, not capped at 72 (73 and on: past the plan's end). Days
        before `since` stay in `week`: a schedule never runs backwards."""
        days = max(0, (day - self.since).days)
        return self.week + math.floor(days * self.pace / 7)

    def week_on(self, day: dt.date) -> int:
        """The plan week on `day`, 1-72."""
        return min(LAST_WEEK, self.raw_week(day))

    def starts(self, week: int) -> dt.date:
        """The first day of plan week `week` (>= the schedule's own week; past 72 extrapolates,
        for projections of a learner behind)."""
        if week < self.week:
            raise ValueError(f"week {week} comes before this schedule's week {self.week}")
        try:
            return self.since + dt.timedelta(days=math.ceil((week - self.week) * 7 / self.pace))
        except OverflowError:  # a start date near 9999 stored before dates were checked
            return dt.date.max

    def ends(self, week: int) -> dt.date:
        """The last day of plan week `week` (the last date there is, past 9999-12-31)."""
        first_after = self.starts(week + 1)
        return first_after if first_after == dt.date.max else first_after - dt.timedelta(days=1)


def weeks_done(completed: set[int], schedule: Schedule, day: dt.date) -> int:
    """How many plan weeks are behind the learner on `day` (0-72): the weeks before the
    schedule's own week (the learner said they were past them), then each week from there
    whose checklist is all ticked, in a row. A week ticked further on, past one still open,
    does not count yet: the learner is on the first week they have not finished. Months 13-18
    (weeks 49-72) have no checklist, so once week 48 is done they count as the calendar
    passes them."""
    done = schedule.week - 1
    while done + 1 in completed:
        done += 1
    if done >= DETAILED_WEEKS:
        done = max(done, min(schedule.raw_week(day) - 1, LAST_WEEK))
    return done


def weeks_ahead(done: int, scheduled: int) -> int:
    """Plan weeks ahead of the schedule (negative: behind), for a learner with `done` weeks
    behind them in scheduled week `scheduled` (uncapped). Working on the scheduled week is on
    track, and so is having finished it early: a learner is a week ahead only once the week
    after it is done too, so ticking off this week's work on time never moves the finish."""
    return done - scheduled if done >= scheduled else done + 1 - scheduled


@dataclass(frozen=True)
class CapstoneDue:
    """The next quarter's capstone: plan weeks of work left before it (the current week
    included), and the day it falls due at the learner's real position and pace."""

    quarter: int
    title: str
    after_week: int
    weeks_left: int
    due_on: dt.date


@dataclass(frozen=True)
class Standing:
    """Where a learner stands on `on`, the one answer every view shows (sidebar, plan column,
    pace, progress, `tutor today`, `tutor progress`), and the week answers and quizzes use:

    - `start_week`: the week they joined in (set once; a re-plan, a milestone or a review
      never moves it);
    - `current_week`: the week they are on: where the calendar puts them, or further when
      they have done more (finishing a week early moves them on; not ticking holds nobody
      back, it makes them behind);
    - `scheduled_week`: where the calendar puts them;
    - `resume_week`: the first week not yet done, where a re-plan resumes;
    - `weeks_ahead`: the difference in plan weeks (positive: ahead), and what follows from it:
      the status, the projected finish and the next capstone's weeks of work left and due day.
    """

    on: dt.date
    start_week: int
    current_week: int
    scheduled_week: int
    resume_week: int
    weeks_ahead: int
    status: Status
    pace: float
    hours_per_week: float
    schedule_since: dt.date
    schedule_week: int
    finish_on: dt.date
    next_capstone: CapstoneDue | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings."""
        return _iso(asdict(self))


def _iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    return value.isoformat() if isinstance(value, dt.date) else value


def plan_hours(curriculum: Curriculum) -> float:
    """Hours a week the plan's day-by-day schedule adds up to (Monday-Friday: 6)."""
    return sum(slot.hours for slot in curriculum.study_method.weekly_schedule)


def pace_from_hours(hours: float, curriculum: Curriculum) -> float:
    """Hours a week as a pace: the plan's own hours (6) are 1.0. A ValueError names the hours
    a week that make a pace."""
    per_week = plan_hours(curriculum)
    if not MIN_PACE * per_week <= hours <= MAX_PACE * per_week:
        raise ValueError(
            f"hours_per_week={hours:g} is outside {MIN_PACE * per_week:g}-"
            f"{MAX_PACE * per_week:g} ({MIN_PACE:g} to {MAX_PACE:g} times the "
            f"plan's {per_week:g} hours)"
        )
    return hours / per_week


def standing(
    schedule: Schedule,
    completed: set[int],
    curriculum: Curriculum,
    start_week: int,
    start_date: dt.date,
    on: dt.date,
) -> Standing:
    """Where the learner stands on `on`, given the plan weeks whose checklists are all done,
    the week they joined in and the day they started."""
    raw = schedule.raw_week(on)
    done = weeks_done(completed, schedule, on)
    resume = min(done + 1, LAST_WEEK)
    scheduled = min(raw, LAST_WEEK)
    ahead = weeks_ahead(done, scheduled)
    # The learner's own line: the schedule shifted by the plan weeks they are behind (or, when
    # negative, ahead), counted on the uncapped calendar so a learner late at the end is late.
    lag = -weeks_ahead(done, raw) if done < LAST_WEEK else 0
    capstone = next((c for c in curriculum.capstones if c.after_week > done), None)
    due = (
        None
        if capstone is None
        else CapstoneDue(
            quarter=capstone.quarter,
            title=capstone.title,
            after_week=capstone.after_week,
            weeks_left=capstone.after_week - done,
            due_on=schedule.ends(capstone.after_week + lag),
        )
    )
    if on < start_date:
        status: Status = "not started"
    elif done >= LAST_WEEK:
        status = "finished"
    else:
        status = "ahead" if ahead > 0 else "behind" if ahead < 0 else "on track"
    return Standing(
        on=on,
        start_week=start_week,
        current_week=max(resume, scheduled),
        scheduled_week=scheduled,
        resume_week=resume,
        weeks_ahead=ahead,
        status=status,
        pace=float(schedule.pace),
        hours_per_week=round(float(schedule.pace) * plan_hours(curriculum), 2),
        schedule_since=schedule.since,
        schedule_week=schedule.week,
        finish_on=schedule.ends(LAST_WEEK + lag),
        next_capstone=due,
    )


def replan(report: Standing, on: dt.date, pace: float) -> Schedule:
    """The schedule that resumes on `on` from where the learner really is (the first week not
    yet done), at `pace`. Capstones keep their place after their quarter's weeks: the
    schedule is one line, so a capstone's day moves with the weeks before it."""
    return Schedule.of(on, report.resume_week, pace)

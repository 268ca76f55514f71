"""Today's task: the plan's weekly rhythm (Monday theory ... Friday review) applied to the
learner's week.

Each weekday of the plan's schedule works on some of the week's fields: Monday's theory on the
reading, Tuesday's videos on the videos and course, and so on. Today's task is that day's part
of the week, with the learner's ticks; when the week has nothing for the day (week 13 has no
reading), or at the weekend, it is what is still unticked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from app.course.curriculum import WEEKS_PER_MONTH
from app.course.curriculum import ScheduleSlot
from app.course.curriculum import WeekPlan

# The schedule's day -> the week's fields that day works on; every field has one day.
DAY_FIELDS: dict[str, tuple[str, ...]] = {
    "Monday": ("reading", "research", "planning"),
    "Tuesday": ("videos", "course"),
    "Wednesday": ("practice", "setup"),
    "Thursday": ("assignment", "project_planning"),
    "Friday": ("review",),
}


@dataclass(frozen=True)
class TodayTask:
    """What to do on `on` (the learner's date) in plan week `week`: the schedule's activity for
    the day and its hours (none at the weekend), the week's tasks for it with their ticks
    (`{task, text, done}`), and one sentence saying what to do."""

    on: dt.date
    day: str
    week: int
    title: str
    activity: str | None
    hours: float
    tasks: list[dict[str, Any]] = field(default_factory=list)
    advice: str = ""
    milestone_month: int | None = None  # set in a month's last week: its milestone is due

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"on": self.on.isoformat()}


def today_task(
    plan: WeekPlan, ticks: dict[str, bool], slots: list[ScheduleSlot], on: dt.date
) -> TodayTask:
    """Today's part of the week. `ticks`: task name -> done, as the learner's checklist has
    them; `slots`: the plan's weekly schedule."""
    day = on.strftime("%A")
    slot = next((s for s in slots if s.day == day), None)
    base: dict[str, Any] = dict(
        on=on,
        day=day,
        week=plan.number,
        title=plan.title,
        activity=slot.activity if slot else None,
        hours=slot.hours if slot else 0.0,
        milestone_month=plan.month.number if plan.number % WEEKS_PER_MONTH == 0 else None,
    )
    if plan.week is None:
        tracks = ", ".join(s.title for s in plan.extended.sections) if plan.extended else ""
        return TodayTask(
            **base,
            advice=f"Months 13-18 go by tracks, not by week: {tracks}. "
            + (f"{slot.activity} on the one you chose." if slot else "A free day."),
        )
    fields = plan.week.fields()
    todo = [
        {"task": name, "text": item.text, "done": ticks.get(name, False)} for name, item in fields
    ]
    planned = [t for t in todo if t["task"] in DAY_FIELDS.get(day, ())]
    open_ = [t for t in todo if not t["done"]]
    if slot is None:
        advice = (
            f"No session planned today: catch up on {open_[0]['task']} if you like."
            if open_
            else "No session planned today, and the week is done: rest."
        )
        return TodayTask(**base, tasks=open_, advice=advice)
    if day == "Friday":
        advice = (
            f"{slot.activity}: rate your understanding of week {plan.number} (1-10) and "
            "write a line in your journal."
        )
        return TodayTask(**base, tasks=planned or open_, advice=advice)
    if planned:
        left = [t for t in planned if not t["done"]]
        advice = (
            f"{slot.activity}: {left[0]['text']}."
            if left
            else f"Today's {planned[0]['task']} is done; go on with the rest of the week."
        )
        return TodayTask(**base, tasks=planned, advice=advice)
    advice = f"Week {plan.number} has no {' or '.join(DAY_FIELDS[day])}; " + (
        f"go on with its {open_[0]['task']}: {open_[0]['text']}."
        if open_
        else "its tasks are all done."
    )
    return TodayTask(**base, tasks=open_[:1], advice=advice)

"""Where a learner stands, in the words every view uses (the UI's sidebar, plan column and
pace panel, `tutor today`, `tutor progress`): one phrasing over one set of numbers
(`app.course.pacing.Standing`, as JSON), so two screens can't say two things.
"""

from __future__ import annotations

from typing import Any

from app.course.curriculum import LAST_WEEK
from app.text import counted


def week_words(pace: dict[str, Any]) -> str:
    """ "on week 19 of 72", and beside it the calendar's week when the learner is past it, or
    the weeks not done yet when they are behind."""
    current, resume = pace["current_week"], pace["resume_week"]
    said = f"on week {current} of {LAST_WEEK}"
    if pace["scheduled_week"] < current:
        said += f" (the calendar has you in week {pace['scheduled_week']})"
    elif resume < current:
        open_weeks = f"week {resume}" if resume == current - 1 else f"weeks {resume}-{current - 1}"
        said += f" ({open_weeks} not done yet)"
    return said


def capstone_words(capstone: dict[str, Any] | None) -> str:
    """ "Q2 capstone: 6 plan weeks of work left, due 2027-02-28" ("" when none is left).
    The weeks are plan weeks of work (the current one included), the date is the calendar's
    at the learner's pace and position: the same two numbers wherever they are shown."""
    if not capstone:
        return ""
    left = capstone["weeks_left"]
    work = "due this week" if left <= 1 else f"{counted(left, 'plan week')} of work left"
    return f"Q{capstone['quarter']} capstone: {work}, due {capstone['due_on']}"

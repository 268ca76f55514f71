"""Pacing: the plan on the calendar, where the ticks put a learner against it, re-plans, and
today's task; at the plan's boundaries (the capstones after weeks 12 and 48, months 13-18
without checklists from week 49, the end at week 72)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.course.curriculum import WEEK_FIELDS
from app.course.curriculum import load_curriculum
from app.course.pacing import Schedule
from app.course.pacing import plan_hours
from app.course.pacing import replan
from app.course.pacing import standing
from app.course.pacing import weeks_done
from app.course.today import DAY_FIELDS
from app.course.today import today_task

CURRICULUM = load_curriculum()
START = dt.date(2026, 1, 5)  # a Monday
ONE_A_WEEK = Schedule.of(START, 1, 1.0)


def day_of_week(week: int, schedule: Schedule = ONE_A_WEEK) -> dt.date:
    return schedule.starts(week)


def through(week: int) -> set[int]:
    """Every checklist of weeks 1..week ticked."""
    return set(range(1, min(week, 48) + 1))


def report(done: set[int], on: dt.date, schedule: Schedule = ONE_A_WEEK):
    return standing(schedule, done, CURRICULUM, schedule.week, START, on)


@pytest.mark.parametrize("pace", [0.25, 0.5, 0.7, 1.0, 1.5, 2.0, 3.3, 4.0])
def test_each_weeks_first_day_maps_back_to_that_week_at_any_pace(pace) -> None:
    schedule = Schedule.of(START, 3, pace)
    for week in range(3, 90):
        first = schedule.starts(week)
        assert schedule.raw_week(first) == week
        if week > 3:
            assert schedule.raw_week(first - dt.timedelta(days=1)) == week - 1
        assert schedule.ends(week) == schedule.starts(week + 1) - dt.timedelta(days=1)


def test_a_schedule_never_runs_backwards_and_stops_at_week_72() -> None:
    assert ONE_A_WEEK.week_on(START - dt.timedelta(days=30)) == 1
    assert ONE_A_WEEK.week_on(START + dt.timedelta(days=5000)) == 72
    with pytest.raises(ValueError, match="0.1-4"):
        Schedule.of(START, 1, 4.5)
    with pytest.raises(ValueError, match="comes before"):
        Schedule.of(START, 10, 1.0).starts(9)


def test_a_schedule_past_the_last_date_stops_at_it() -> None:
    late = Schedule.of(dt.date(9999, 6, 1), 1, 0.1)
    assert late.ends(72) == dt.date.max
    assert standing(late, set(), CURRICULUM, 1, late.since, late.since).finish_on == dt.date.max


def test_the_plans_weekly_schedule_is_six_hours_so_pace_one_is_six_hours_a_week() -> None:
    assert plan_hours(CURRICULUM) == 6
    assert report(set(), START).hours_per_week == 6
    assert report(set(), START, Schedule.of(START, 1, 0.5)).hours_per_week == 3


def test_week_12_is_the_q1_capstones_week_and_week_13_looks_to_q2() -> None:
    at_12 = report(through(11), day_of_week(12))
    assert (at_12.scheduled_week, at_12.current_week, at_12.status) == (12, 12, "on track")
    # one plan week of work left: week 12 itself
    assert at_12.next_capstone.quarter == 1 and at_12.next_capstone.weeks_left == 1
    assert at_12.next_capstone.due_on == dt.date(2026, 3, 29)  # the Sunday ending week 12
    at_13 = report(through(12), day_of_week(13))
    assert at_13.next_capstone.quarter == 2 and at_13.next_capstone.weeks_left == 12
    assert at_13.next_capstone.due_on == ONE_A_WEEK.ends(24)


def test_weeks_48_and_49_the_last_capstone_then_months_without_checklists() -> None:
    at_48 = report(through(47), day_of_week(48))
    assert at_48.current_week == 48 and at_48.next_capstone.quarter == 4
    assert at_48.next_capstone.weeks_left == 1
    at_49 = report(through(48), day_of_week(49))
    assert (at_49.current_week, at_49.status, at_49.next_capstone) == (49, "on track", None)
    # months 13-18 can't be ticked: once week 48 is done the calendar carries the learner on
    assert report(through(48), day_of_week(60)).current_week == 60
    behind = report(through(47), day_of_week(49))
    assert (behind.resume_week, behind.weeks_ahead, behind.status) == (48, -1, "behind")
    assert behind.next_capstone.due_on == ONE_A_WEEK.ends(49)  # a week late, as the learner is


def test_week_72_is_the_last_and_then_the_plan_is_finished() -> None:
    last = report(through(48), day_of_week(72))
    assert (last.scheduled_week, last.current_week, last.status) == (72, 72, "on track")
    assert last.finish_on == START + dt.timedelta(days=72 * 7 - 1)
    for later in (day_of_week(73), day_of_week(80)):
        done = report(through(48), later)
        assert (done.scheduled_week, done.current_week, done.status) == (72, 72, "finished")
        assert done.finish_on == last.finish_on


def test_before_the_start_date_the_plan_has_not_started() -> None:
    early = report(set(), START - dt.timedelta(days=3))
    assert (early.status, early.scheduled_week, early.current_week) == ("not started", 1, 1)


def test_ticks_ahead_of_the_calendar_make_the_learner_ahead_and_finish_early() -> None:
    ahead = report(through(6), day_of_week(5))  # weeks 5 and 6 done in week 5
    assert (ahead.current_week, ahead.weeks_ahead, ahead.status) == (7, 1, "ahead")
    assert ahead.finish_on == ONE_A_WEEK.ends(71)


def test_finishing_the_scheduled_week_on_time_is_on_track_and_moves_nothing() -> None:
    working = report(through(17), day_of_week(18))
    finished = report(through(18), day_of_week(18))
    assert (working.current_week, finished.current_week) == (18, 19)
    assert (working.status, finished.status) == ("on track", "on track")
    assert working.finish_on == finished.finish_on == ONE_A_WEEK.ends(72)
    # the capstone after week 24: weeks 18-24 of work left, then 19-24; its day stays
    assert (working.next_capstone.weeks_left, finished.next_capstone.weeks_left) == (7, 6)
    assert working.next_capstone.due_on == finished.next_capstone.due_on == ONE_A_WEEK.ends(24)


def test_the_current_week_is_the_calendars_or_further_and_a_replan_resumes_at_the_first_open_one() -> (
    None
):
    """A week ticked further on, past one still open, does not move the learner on; weeks
    before the schedule's own week count as done (the learner said they were past them)."""
    assert report(through(4) | {5, 6, 8}, day_of_week(5)).current_week == 7
    at_18 = Schedule.of(START, 18, 1.0)
    assert report({18, 20}, START, at_18).current_week == 19
    # a learner sent back to week 5 who has done 5 and 6 already is on week 7
    assert report({5, 6, 18}, START, Schedule.of(START, 5, 1.0)).current_week == 7
    # not ticking holds nobody back: the calendar carries them on, and they are behind
    idle = report(through(17), day_of_week(20))
    assert (idle.current_week, idle.resume_week, idle.weeks_ahead) == (20, 18, -2)


def test_a_week_set_by_the_learner_counts_the_weeks_before_it_as_done() -> None:
    schedule = Schedule.of(START, 18, 1.0)
    assert weeks_done(set(), schedule, START) == 17
    assert report(set(), START, schedule).status == "on track"


def test_a_replan_after_a_three_week_gap_resumes_where_the_ticks_are() -> None:
    back = START + dt.timedelta(days=49)  # the first day of week 8; weeks 5-7 went by unstudied
    before = report(through(4), back)
    assert (before.scheduled_week, before.resume_week, before.weeks_ahead) == (8, 5, -3)
    assert before.finish_on == ONE_A_WEEK.ends(72) + dt.timedelta(weeks=3)
    moved = replan(before, back, 1.0)
    assert (moved.since, moved.week, moved.week_on(back)) == (back, 5, 5)
    after = report(through(4), back, moved)
    assert (after.status, after.weeks_ahead, after.finish_on) == ("on track", 0, before.finish_on)
    # every capstone stays after its quarter's weeks, three weeks later than first planned
    for capstone in CURRICULUM.capstones:
        due = moved.ends(capstone.after_week)
        assert moved.starts(capstone.after_week) < due < moved.starts(capstone.after_week + 1)
        assert due == ONE_A_WEEK.ends(capstone.after_week) + dt.timedelta(weeks=3)
    assert after.next_capstone.due_on == moved.ends(12)


def test_a_slower_replan_stretches_the_rest_of_the_plan() -> None:
    back = START + dt.timedelta(days=49)
    moved = replan(report(through(7), back), back, 0.5)
    assert moved.week == 8 and moved.ends(72) == back + dt.timedelta(days=65 * 14 - 1)


# -- today's task ------------------------------------------------------------------------------


def test_every_week_field_has_one_day_of_the_schedule() -> None:
    days = [day for day, fields in DAY_FIELDS.items() for _ in fields]
    assert sorted(f for fields in DAY_FIELDS.values() for f in fields) == sorted(WEEK_FIELDS)
    assert set(days) == {slot.day for slot in CURRICULUM.study_method.weekly_schedule}


def task(week: int, on: dt.date, ticks: dict[str, bool] | None = None):
    return today_task(
        CURRICULUM.week(week), ticks or {}, CURRICULUM.study_method.weekly_schedule, on
    )


@pytest.mark.parametrize(
    "offset, day, tasks",
    [
        (0, "Monday", ["reading"]),
        (1, "Tuesday", ["videos"]),
        (2, "Wednesday", ["practice"]),
        (3, "Thursday", ["assignment"]),
        (4, "Friday", ["reading", "videos", "practice", "assignment"]),
    ],
)
def test_each_weekday_works_on_its_part_of_the_week(offset, day, tasks) -> None:
    today = task(18, START + dt.timedelta(days=offset))
    assert today.day == day and [t["task"] for t in today.tasks] == tasks
    slot = next(s for s in CURRICULUM.study_method.weekly_schedule if s.day == day)
    assert (today.activity, today.hours) == (slot.activity, slot.hours)


def test_monday_without_a_reading_goes_on_with_what_is_unticked() -> None:
    today = task(13, START, {"videos": True})
    assert [t["task"] for t in today.tasks] == ["practice"]
    assert "Week 13 has no reading" in today.advice


def test_the_weekend_is_for_catching_up_and_a_done_week_for_rest() -> None:
    saturday = START + dt.timedelta(days=5)
    assert task(18, saturday, {"reading": True}).tasks[0]["task"] == "videos"
    done = dict.fromkeys(["reading", "videos", "practice", "assignment"], True)
    rest = task(18, saturday, done)
    assert rest.tasks == [] and "rest" in rest.advice and rest.hours == 0


def test_a_months_last_week_says_its_milestone_is_due() -> None:
    assert task(8, START).milestone_month == 2
    assert task(7, START).milestone_month is None
    assert task(72, START).milestone_month == 18


def test_months_13_to_18_point_to_their_tracks() -> None:
    today = task(65, START)  # month 17
    assert today.tasks == [] and "Portfolio Development" in today.advice

"""Pace and re-plans kept in the learner database (SQLite, and PostgreSQL when a server is
given), through the API and the command line: a learner back after a three-week gap sees
they are behind, re-plans, and the re-plan is recorded."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.course.curriculum import load_curriculum
from app.records.learners import LearnerRecords
from app.records.learners import schedule_of
from app.records.schedules import ScheduleRecords
from tests.conftest import new_learner
from tests.conftest import tutor

CURRICULUM = load_curriculum()
START = dt.date(2026, 1, 5)


def tick_weeks(store: LearnerRecords, learner_id: int, weeks: range) -> None:
    for week in weeks:
        for name, _ in CURRICULUM.week(week).week.fields():
            store.tick(learner_id, week, name, True, CURRICULUM)


def test_a_replan_after_a_three_week_gap_is_recorded_and_moves_the_week(database_url) -> None:
    store = LearnerRecords(database_url)
    learner, token = store.create("Ada", START)
    tick_weeks(store, learner.id, range(1, 5))
    store.tick(learner.id, 5, "videos", True, CURRICULUM)  # a week half done doesn't count
    back = START + dt.timedelta(days=49)
    schedules = ScheduleRecords(store)
    before = schedules.standing(learner, CURRICULUM, back)
    assert (before.scheduled_week, before.resume_week, before.status) == (8, 5, "behind")
    moved, record = schedules.replan(learner.id, CURRICULUM, back)
    assert record.to_dict() == {
        "made_on": "2026-02-23",
        "from_week": 8,
        "to_week": 5,
        "pace_before": 1.0,
        "pace": 1.0,
    }
    reopened = LearnerRecords(database_url).by_token(token)  # what a later request sees
    assert (reopened.current_week, reopened.week_set_on) == (5, back)
    assert (
        schedule_of(reopened).week_on(back) == 5
        and schedule_of(reopened).week_on(back + dt.timedelta(days=7)) == 6
    )
    after = ScheduleRecords(store).standing(moved, CURRICULUM, back)
    assert (after.status, after.finish_on) == ("on track", before.finish_on)
    assert [r.to_week for r in ScheduleRecords(store).history(learner.id)] == [5]


def test_a_replan_can_slow_the_pace(database_url) -> None:
    store = LearnerRecords(database_url)
    learner, _ = store.create("Ada", START, current_week=10)
    moved, record = ScheduleRecords(store).replan(learner.id, CURRICULUM, START, pace=0.5)
    assert (record.pace_before, record.pace, moved.pace) == (1.0, 0.5, 0.5)
    assert schedule_of(moved).week_on(START + dt.timedelta(days=14)) == 11


# -- the API -----------------------------------------------------------------------------------


def test_the_api_shows_the_gap_replans_and_keeps_the_record(api_client) -> None:
    today = dt.date.today()
    base, auth = new_learner(api_client, start_date=(today - dt.timedelta(days=49)).isoformat())
    for week in range(1, 5):
        for name, _ in CURRICULUM.week(week).week.fields():
            api_client.put(f"{base}/weeks/{week}/tasks/{name}", json={"done": True}, headers=auth)
    pace = api_client.get(f"{base}/pace", headers=auth).json()
    assert (pace["scheduled_week"], pace["resume_week"], pace["weeks_ahead"]) == (8, 5, -3)
    assert pace["next_capstone"]["quarter"] == 1 and pace["status"] == "behind"
    replanned = api_client.post(f"{base}/replan", json={"hours_per_week": 3}, headers=auth).json()
    assert replanned["replan"]["from_week"] == 8 and replanned["replan"]["to_week"] == 5
    assert replanned["pace"]["status"] == "on track"
    assert replanned["pace"]["hours_per_week"] == 3 and replanned["pace"]["pace"] == 0.5
    assert api_client.get(base, headers=auth).json()["current_week"] == 5
    assert [r["to_week"] for r in api_client.get(f"{base}/replans", headers=auth).json()] == [5]
    progress = api_client.get(f"{base}/progress", headers=auth).json()
    assert progress["pace"]["current_week"] == 5 and len(progress["replans"]) == 1


def test_todays_task_follows_the_learners_week_and_local_date(api_client) -> None:
    base, auth = new_learner(api_client, current_week=18)
    today = api_client.get(f"{base}/today", headers=auth).json()
    assert today["week"] == 18 and today["day"] == dt.date.today().strftime("%A")
    utc = dt.datetime.now(dt.UTC).date()
    tomorrow = api_client.get(
        f"{base}/today", params={"today": str(utc + dt.timedelta(days=1))}, headers=auth
    ).json()
    assert tomorrow["on"] == str(utc + dt.timedelta(days=1))


@pytest.mark.parametrize(
    "method, path, body, params, detail",
    [
        ("get", "/pace", None, {"today": "2020-01-01"}, "is not today in any time zone"),
        ("get", "/today", None, {"today": "2026-02-30"}, "valid date"),
        ("post", "/replan", {}, {"today": "2999-01-01"}, "is not today in any time zone"),
        ("post", "/replan", {"pace": 1, "hours_per_week": 6}, None, "not both"),
        ("post", "/replan", {"pace": 5}, None, "less than or equal to 4"),
        ("post", "/replan", {"pace": 0}, None, "greater than or equal to 0.1"),
        ("post", "/replan", {"hours_per_week": 30}, None, "hours_per_week=30 is outside 0.6-24"),
        ("post", "/replan", {"hours_per_week": 1e-300}, None, "is outside 0.6-24"),
    ],
)
def test_bad_pacing_input_is_a_422_naming_what_is_wrong(
    api_client, method, path, body, params, detail
) -> None:
    base, auth = new_learner(api_client)
    response = api_client.request(method, f"{base}{path}", json=body, params=params, headers=auth)
    assert response.status_code == 422 and detail in response.text, response.text


@pytest.mark.parametrize("start", ["1999-12-31", "9999-12-01"])
def test_a_start_date_outside_the_plans_calendar_is_a_422(api_client, start) -> None:
    response = api_client.post("/learners", json={"name": "Ada", "start_date": start})
    assert response.status_code == 422 and f"start_date {start} is outside" in response.text


def test_nobody_else_sees_or_replans_a_learners_plan(api_client) -> None:
    ada, _ = new_learner(api_client)
    _, bob_auth = new_learner(api_client)
    for method, path in [
        ("get", "/pace"),
        ("get", "/today"),
        ("post", "/replan"),
        ("get", "/replans"),
    ]:
        response = api_client.request(method, f"{ada}{path}", json={}, headers=bob_auth)
        assert response.status_code == 404, (method, path)


# -- the command line ----------------------------------------------------------------------------


def test_tutor_today_replan_and_progress(data_dir) -> None:
    assert tutor(data_dir, "week", "5").returncode == 0
    today = json.loads(tutor(data_dir, "today", "--json").stdout)
    assert today["today"]["week"] == 5 and today["pace"]["status"] == "on track"
    plain = tutor(data_dir, "today")
    assert plain.returncode == 0 and "week 5" in plain.stdout and "Pace" in plain.stdout
    moved = json.loads(tutor(data_dir, "replan", "--hours", "3", "--json").stdout)
    assert moved["replan"]["to_week"] == 5 and moved["pace"]["hours_per_week"] == 3
    progress = json.loads(tutor(data_dir, "progress", "--json").stdout)
    assert progress["pace"]["pace"] == 0.5 and progress["replans"][0]["pace"] == 0.5
    shown = tutor(data_dir, "progress")
    assert "on track" in shown.stdout and "Re-planned" in shown.stdout
    both = tutor(data_dir, "replan", "--pace", "1", "--hours", "3")
    assert both.returncode == 2 and "not both" in both.stderr
    too_much = tutor(data_dir, "replan", "--hours", "100")
    assert too_much.returncode == 2 and "--hours=100 is outside 0.6-24" in too_much.stderr


def test_a_pace_stored_before_pace_had_bounds_is_held_within_them() -> None:
    from app.records.learners import Learner

    crawling = Learner(start_date=START, pace=0.0001, current_week=None, week_set_on=None)
    assert (
        schedule_of(crawling).week_on(START + dt.timedelta(days=70)) == 2
    )  # at 0.1: one week in ten

"""One learner, one truth: every view of where a learner stands (the learner, pace, today's
task, progress; the command line's `tutor week`, `tutor today` and `tutor progress`) shows the
same current week and start week, across the plan's boundaries (weeks 12/13, 48/49, 72),
after ticks, after a re-plan and after a milestone quiz; what a rating says of a card's next
review is its real due time; and a card that is not due can't be rated again (case 19)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.course.curriculum import load_curriculum
from app.practice.grading import RATING_MEANINGS
from app.practice.grading import score_summary
from app.practice.scheduler import RATINGS
from app.practice.scheduler import in_words
from app.records.learners import LearnerRecords
from app.records.reviews import NotDue
from app.records.reviews import ReviewRecords
from app.records.reviews import comes_back
from tests.conftest import new_learner
from tests.conftest import served
from tests.conftest import tutor

CURRICULUM = load_curriculum()
CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"


def tasks_of(week: int) -> list[str]:
    plan = CURRICULUM.week(week).week
    return [] if plan is None else [name for name, _ in plan.fields()]


def views(client, base: str, auth: dict[str, str]) -> dict[str, tuple[int, int]]:
    """(current week, start week) as each of the API's views shows it."""
    learner = client.get(base, headers=auth).json()
    pace = client.get(f"{base}/pace", headers=auth).json()
    progress = client.get(f"{base}/progress", headers=auth).json()
    today = client.get(f"{base}/today", headers=auth).json()
    return {
        "learner": (learner["current_week"], learner["start_week"]),
        "pace": (pace["current_week"], pace["start_week"]),
        "progress": (progress["current_week"], progress["start_week"]),
        "progress pace": (progress["pace"]["current_week"], progress["pace"]["start_week"]),
        "today": (today["week"], pace["start_week"]),
    }


def agreed(client, base: str, auth: dict[str, str]) -> tuple[int, int]:
    seen = views(client, base, auth)
    assert len(set(seen.values())) == 1, seen
    return next(iter(seen.values()))


@pytest.mark.parametrize("week", [12, 13, 48, 49, 72])
def test_every_view_agrees_at_the_plans_boundaries_after_ticks_and_a_replan(
    api_client, week
) -> None:
    base, auth = new_learner(api_client, current_week=week)
    assert agreed(api_client, base, auth) == (week, week)
    for task in tasks_of(week):
        api_client.put(f"{base}/weeks/{week}/tasks/{task}", json={"done": True}, headers=auth)
    finished = week + 1 if tasks_of(week) else week  # weeks 49-72 have no checklist
    assert agreed(api_client, base, auth) == (finished, week)
    pace = api_client.get(f"{base}/pace", headers=auth).json()
    assert pace["status"] == "on track"  # a week done in its own week is on time, not ahead
    moved = api_client.post(f"{base}/replan", json={}, headers=auth)
    assert moved.status_code == 200, moved.text
    assert agreed(api_client, base, auth) == (finished, week)


def test_a_milestone_quiz_on_earlier_weeks_moves_neither_the_start_nor_the_current_week(
    api_client,
) -> None:
    base, auth = new_learner(api_client, current_week=18)  # month 5 is weeks 17-20
    quiz = api_client.post(f"{base}/milestones/5/quiz", json={"n": 4}, headers=auth).json()
    for question in quiz["questions"]:
        api_client.post(
            f"{base}/quizzes/{quiz['quiz_id']}/answers",
            json={"question_id": question["id"], "response": "A"},
            headers=auth,
        )
    assert {q["citation"]["week"] for q in quiz["questions"]} >= {17}
    assert agreed(api_client, base, auth) == (18, 18)
    progress = api_client.get(f"{base}/progress", headers=auth).json()
    assert [w["week"] for w in progress["completion"]] == [18]


def test_the_command_line_shows_the_same_week_everywhere(data_dir) -> None:
    assert tutor(data_dir, "week", "18").returncode == 0
    tutor(data_dir, "tasks", *tasks_of(18))
    week = json.loads(tutor(data_dir, "week", "--json").stdout)["week"]
    today = json.loads(tutor(data_dir, "today", "--json").stdout)
    progress = json.loads(tutor(data_dir, "progress", "--json").stdout)
    assert week == today["today"]["week"] == today["pace"]["current_week"] == 19
    assert (progress["current_week"], progress["start_week"]) == (19, 18)
    store = LearnerRecords(f"sqlite:///{data_dir / 'tutor.db'}")
    learner = store.existing_local_learner()
    assert learner is not None and learner.start_week == 18


def test_a_first_week_given_on_the_command_line_becomes_yours_and_says_so_once(data_dir) -> None:
    first = tutor(data_dir, "journal", "Attention clicked today.", "--week", "7")
    assert first.returncode == 0, first.stderr
    assert "Week 7 is now your week" in first.stderr and "tutor week N" in first.stderr
    again = tutor(data_dir, "journal", "Back to week 5 for a look.", "--week", "5")
    assert "now your week" not in again.stderr
    today = json.loads(tutor(data_dir, "today", "--json").stdout)
    progress = json.loads(tutor(data_dir, "progress", "--json").stdout)
    assert today["today"]["week"] == progress["current_week"] == 7


# -- what a rating says of the next review is its due time -----------------------------------


def test_words_of_a_due_time_say_that_due_time() -> None:
    now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    for delta, said in [
        (dt.timedelta(0), "now"),
        (dt.timedelta(seconds=60), "in a minute"),
        (dt.timedelta(minutes=10), "in 10 minutes"),
        (dt.timedelta(hours=5), "in 5 hours"),
        (dt.timedelta(days=9, hours=3), "in 9 days (2026-12-14)"),
    ]:
        assert in_words(now + delta, now) == said


def said_interval(words: str, due: dt.datetime, now: dt.datetime) -> None:
    """`words` ("in 10 minutes", "in 9 days (2026-12-14)") is how far `due` is from `now`."""
    seconds = (due - now).total_seconds()
    if words == "in a minute":
        assert 0 < seconds < 90
        return
    number, unit = re.match(r"in (\d+) (minutes|hours|days)", words).groups()
    size = {"minutes": 60, "hours": 3600, "days": 86400}[unit]
    assert round(seconds / size) == int(number), (words, seconds)
    if unit == "days":
        assert words.endswith(f"({due.date().isoformat()})")


def test_every_rating_in_every_card_state_says_the_due_time_fsrs_set(tmp_path) -> None:
    """New, learning, review and relearning cards, each rated again/hard/good/easy when due:
    the words of every reply are its own due time, and no rating's meaning promises one."""
    store = LearnerRecords(f"sqlite:///{tmp_path / 'tutor.db'}")
    learner, _ = store.create("Ada", dt.date(2026, 12, 1))
    deck = ReviewRecords(store)
    # how to bring a new card to each state before the rating under test
    paths = {
        "new": [],
        "learning": ["again"],
        "review": ["good", "good"],
        "relearning": ["good", "good", "again"],
    }
    states = set()
    for state, before in paths.items():
        for rating in RATINGS:
            card = deck.add(learner.id, f"{state} {rating}: what is softmax?", "A distribution", 13)
            now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)  # a new card is due now
            for earlier in before:
                rated = deck.rate(learner.id, card["id"], earlier, now)
                now = dt.datetime.fromisoformat(rated["next_review"]) + dt.timedelta(seconds=1)
            states.add(deck.card(learner.id, card["id"])["state"])
            rated = deck.rate(learner.id, card["id"], rating, now)
            due = dt.datetime.fromisoformat(rated["next_review"])
            assert rated["comes_back"] == in_words(due, now) == comes_back(due, now)["comes_back"]
            said_interval(rated["comes_back"], due, now)
    assert states == {1, 2, 3}  # py-fsrs' Learning, Review, Relearning (a new card is Learning)
    for meaning in RATING_MEANINGS.values():
        assert not re.search(r"comes back|minute|hour|day|soon|later", meaning)


def test_a_quizs_closing_line_says_when_its_first_question_really_comes_back() -> None:
    now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    soon = score_summary(5, 5, now + dt.timedelta(minutes=10), now)
    assert soon["tone"] == "success" and "comes back in 10 minutes" in soon["text"]
    assert "days" not in soon["text"]
    assert "comes back" not in score_summary(0, 0, None, now)["text"]


# -- case 19: a rating of a card that is not due ---------------------------------------------


def test_a_second_rating_of_a_card_is_refused_with_when_it_is_due(api_client) -> None:
    base, auth = new_learner(api_client)
    card = api_client.post(
        f"{base}/cards",
        json={"front": "What does softmax return?", "back": "A distribution"},
        headers=auth,
    ).json()
    first = api_client.post(
        f"{base}/cards/{card['id']}/rating", json={"rating": "easy"}, headers=auth
    )
    assert first.status_code == 200 and first.json()["comes_back"].startswith("in ")
    again = api_client.post(
        f"{base}/cards/{card['id']}/rating", json={"rating": "easy"}, headers=auth
    )
    assert again.status_code == 409
    detail = again.json()["detail"]
    assert "not due until" in detail and first.json()["next_review"][:10] in detail


def test_ratings_at_once_count_once(database_url, tmp_path) -> None:
    """Eight ratings of one due card from eight threads (a retrying client, two workers): one
    lands, the others are NotDue, and the log holds one review (SQLite and PostgreSQL)."""
    store = LearnerRecords(database_url)
    learner, _ = store.create("Ada", dt.date(2026, 12, 1))
    deck = ReviewRecords(store)
    card = deck.add(learner.id, "What does softmax return?", "A distribution", 13)
    now = dt.datetime.now(dt.UTC)

    def rate(_: int) -> str:
        try:
            deck.rate(learner.id, card["id"], "easy", now)
            return "rated"
        except NotDue:
            return "not due"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(rate, range(8)))
    assert outcomes.count("rated") == 1 and outcomes.count("not due") == 7
    assert len(deck.history(learner.id)) == 1


def test_case_19_ratings_of_cards_not_due_count_once(tmp_path) -> None:
    case = CASES / "19-ratings-of-cards-not-due" / "rate.py"
    if not case.is_file():
        pytest.skip(f"case inputs not found at {case}")
    data_dir = tmp_path / "data"
    with served(data_dir) as server:
        run = subprocess.run(
            [sys.executable, str(case), server.url], capture_output=True, text=True, timeout=300
        )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    ratings = [line for line in lines if line.startswith("rating ")]
    assert ratings[0].split(": ")[1].startswith("200")
    assert all(": 409" in line for line in ratings[1:]), ratings
    reviews = [line for line in lines if line.startswith("review ")]
    assert reviews and all(": 409" in line for line in reviews), reviews
    # about 9 days after one "easy" (fuzzed a few days either way), not 113
    summary = next(line for line in lines if line.startswith("summary:"))
    assert re.search(r"in ([5-9]|1[0-4]) days", summary), summary  # FSRS fuzzes the interval
    rows = sqlite3.connect(data_dir / "tutor.db").execute("select count(*) from review_logs")
    assert rows.fetchone()[0] == 2  # the card's one rating and the quiz's one answer

"""Learners: private progress in a migrated SQLite database; one learner never sees another's."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.learners import LearnerStore, LearnerStoreError, NotFound, week_on
from ingest.curriculum import WeekOutOfRange, load_curriculum

CURRICULUM = load_curriculum()


@pytest.fixture
def store(tmp_path: Path) -> LearnerStore:
    return LearnerStore(f"sqlite:///{tmp_path / 'tutor.db'}")


def test_a_learner_is_found_by_token_and_the_token_is_stored_hashed(store, tmp_path) -> None:
    learner, token = store.create("Ada", dt.date(2026, 1, 5))
    assert store.by_token(token).name == "Ada"
    assert store.by_token("not-a-token") is None
    assert token.encode() not in (tmp_path / "tutor.db").read_bytes()


@pytest.mark.parametrize("days, pace, week", [(0, 1.0, 1), (6, 1.0, 1), (7, 1.0, 2), (70, 1.0, 11),
                                             (70, 0.5, 6), (14, 2.0, 5), (5000, 1.0, 72)])
def test_the_week_follows_start_date_and_pace(store, days, pace, week) -> None:
    start = dt.date(2026, 1, 1)
    learner, _ = store.create("Ada", start, pace=pace)
    assert week_on(learner, start + dt.timedelta(days=days)) == week


def test_an_explicit_week_wins_and_can_be_cleared(store) -> None:
    learner, _ = store.create("Ada", dt.date(2026, 1, 1))
    assert week_on(store.set_week(learner.id, 18), dt.date(2026, 1, 1)) == 18
    assert week_on(store.set_week(learner.id, None), dt.date(2026, 1, 1)) == 1
    with pytest.raises(WeekOutOfRange):
        store.set_week(learner.id, 73)


def test_ticks_persist_and_unknown_tasks_are_named(store, tmp_path) -> None:
    learner, _ = store.create("Ada", dt.date(2026, 1, 1))
    store.tick(learner.id, 18, "assignment", True, CURRICULUM)
    reopened = LearnerStore(f"sqlite:///{tmp_path / 'tutor.db'}")
    tasks = {t.task: t.done for t in reopened.checklist(learner.id, 18, CURRICULUM)}
    assert tasks == {"reading": False, "videos": False, "practice": False, "assignment": True}
    with pytest.raises(NotFound, match="its tasks are: reading, videos, practice, assignment"):
        store.tick(learner.id, 18, "homework", True, CURRICULUM)
    assert reopened.checklist(learner.id, 60, CURRICULUM) == []


def test_ratings_and_journal(store) -> None:
    learner, _ = store.create("Ada", dt.date(2026, 1, 1))
    store.rate(learner.id, 3, 7)
    store.rate(learner.id, 3, 8)  # a second rating of a week replaces the first
    assert store.ratings(learner.id) == {3: 8}
    with pytest.raises(ValueError, match="1-10"):
        store.rate(learner.id, 3, 11)
    store.write_journal(learner.id, 3, "Bayes finally clicked.")
    store.write_journal(learner.id, 4, "Trees overfit fast.")
    assert [e.text for e in store.journal(learner.id)] == ["Bayes finally clicked.", "Trees overfit fast."]


def test_reopening_an_existing_database_migrates_it_without_losing_data(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'tutor.db'}"
    learner, token = LearnerStore(url).create("Ada", dt.date(2026, 1, 1))
    LearnerStore(url).write_journal(learner.id, 1, "kept")
    again = LearnerStore(url)  # runs the migrations again: a no-op at head
    assert again.by_token(token).name == "Ada"
    assert [e.text for e in again.journal(learner.id)] == ["kept"]
    with sqlite3.connect(tmp_path / "tutor.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)


def test_a_corrupt_database_file_is_reported_and_left_untouched(tmp_path) -> None:
    path = tmp_path / "tutor.db"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(LearnerStoreError, match="cannot be opened.*restore a backup"):
        LearnerStore(f"sqlite:///{path}")
    assert path.read_bytes() == before


# -- the API ---------------------------------------------------------------------------------


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as client:
        yield client


def signup(client, name: str, **extra) -> tuple[int, dict[str, str]]:
    response = client.post("/learners", json={"name": name, **extra})
    assert response.status_code == 201
    body = response.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}"}


def test_creating_a_learner_returns_its_token_once(client) -> None:
    learner_id, auth = signup(client, "Ada", current_week=18)
    me = client.get(f"/learners/{learner_id}", headers=auth).json()
    assert me["name"] == "Ada" and me["current_week"] == 18 and "token" not in me


@pytest.mark.parametrize("headers, detail", [
    ({}, "Authorization: Bearer"),
    ({"Authorization": "Bearer wrong"}, "unknown token"),
    ({"Authorization": "Basic abc"}, "Authorization: Bearer"),
])
def test_learner_endpoints_need_a_valid_token(client, headers, detail) -> None:
    learner_id, _ = signup(client, "Ada")
    response = client.get(f"/learners/{learner_id}", headers=headers)
    assert response.status_code == 401 and detail in response.json()["detail"]


def test_one_learner_can_never_read_or_change_anothers_data(client) -> None:
    ada, ada_auth = signup(client, "Ada")
    bob, bob_auth = signup(client, "Bob")
    client.post(f"/learners/{ada}/journal?week=2", json={"text": "private"}, headers=ada_auth)
    for method, path, body in [
        ("get", f"/learners/{ada}", None),
        ("get", f"/learners/{ada}/journal", None),
        ("get", f"/learners/{ada}/ratings", None),
        ("get", f"/learners/{ada}/weeks/18/tasks", None),
        ("put", f"/learners/{ada}/weeks/18/tasks/assignment", {"done": True}),
        ("put", f"/learners/{ada}/week", {"week": 30}),
        ("post", f"/learners/{ada}/journal", {"text": "graffiti"}),
    ]:
        response = client.request(method, path, json=body, headers=bob_auth)
        assert response.status_code == 404, (method, path)
    assert [e["text"] for e in client.get(f"/learners/{ada}/journal", headers=ada_auth).json()] == ["private"]
    assert client.get(f"/learners/{bob}/journal", headers=bob_auth).json() == []


def test_the_checklist_rating_and_journal_flow(client) -> None:
    learner_id, auth = signup(client, "Ada", current_week=18)
    base = f"/learners/{learner_id}"
    ticked = client.put(f"{base}/weeks/18/tasks/assignment", json={"done": True}, headers=auth)
    assert {t["task"]: t["done"] for t in ticked.json()}["assignment"] is True
    assert client.get(f"{base}/weeks/18/tasks", headers=auth).json()[3]["done"] is True
    assert client.put(f"{base}/weeks/18/rating", json={"rating": 7}, headers=auth).status_code == 204
    assert client.get(f"{base}/ratings", headers=auth).json() == {"18": 7}
    entry = client.post(f"{base}/journal", json={"text": "Attention makes sense."}, headers=auth)
    assert entry.json()["week"] == 18  # defaults to the learner's week


@pytest.mark.parametrize("method, path, body, status, detail", [
    ("put", "/weeks/18/tasks/homework", {"done": True}, 404, "its tasks are"),
    ("get", "/weeks/99/tasks", None, 404, "valid weeks are 1-72"),
    ("put", "/weeks/18/rating", {"rating": 11}, 422, "less than or equal to 10"),
    ("put", "/week", {"week": 0}, 422, "greater than or equal to 1"),
    ("post", "/journal", {"text": ""}, 422, "at least 1 character"),
])
def test_bad_learner_input_is_a_clear_4xx(client, method, path, body, status, detail) -> None:
    learner_id, auth = signup(client, "Ada")
    response = client.request(method, f"/learners/{learner_id}{path}", json=body, headers=auth)
    assert response.status_code == status and detail in response.text


def test_a_corrupt_database_is_a_503_and_other_routes_still_work(settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "tutor.db").write_bytes(b"garbage" * 500)
    with TestClient(create_app(settings)) as client:
        response = client.post("/learners", json={"name": "Ada"})
        assert response.status_code == 503 and "restore a backup" in response.json()["detail"]
        assert client.get("/weeks/18").status_code == 200

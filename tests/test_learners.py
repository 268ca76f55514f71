"""Learners: private progress in a migrated database (SQLite, and PostgreSQL when a server is
given); one learner never sees another's."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy.exc import DataError
from sqlalchemy.exc import IntegrityError

from app.answering.memory import Turn
from app.api import create_app
from app.course.curriculum import WeekOutOfRange
from app.course.curriculum import load_curriculum
from app.course.notes import read_notes
from app.records.base import LearnerRecordsError
from app.records.base import NotFound
from app.records.conversations import ConversationRecords
from app.records.learners import LearnerRecords
from app.records.learners import schedule_of
from app.records.quizzes import QuizRecords
from tests.conftest import REPO
from tests.conftest import at_revision
from tests.conftest import due_now
from tests.conftest import local_client
from tests.test_api import sse_events

CURRICULUM = load_curriculum()
HEAD = "0013"  # the newest migration


@pytest.fixture
def store(database_url: str) -> LearnerRecords:
    """A fresh store on SQLite, and on PostgreSQL when a server is given."""
    return LearnerRecords(database_url)


def test_a_learner_is_found_by_token_and_the_token_is_stored_hashed(store) -> None:
    from sqlalchemy import text

    from app.records.learners import hash_token

    learner, token = store.create("Ada", dt.date(2026, 1, 5))
    assert store.by_token(token).name == "Ada"
    assert store.by_token("not-a-token") is None
    with store.engine.connect() as db:
        assert db.execute(text("SELECT token_hash FROM learners")).scalars().all() == [
            hash_token(token)
        ]


@pytest.mark.parametrize(
    "days, pace, week",
    [
        (0, 1.0, 1),
        (6, 1.0, 1),
        (7, 1.0, 2),
        (70, 1.0, 11),
        (70, 0.5, 6),
        (14, 2.0, 5),
        (5000, 1.0, 72),
    ],
)
def test_the_week_follows_start_date_and_pace(store, days, pace, week) -> None:
    start = dt.date(2026, 1, 1)
    learner, _ = store.create("Ada", start, pace=pace)
    assert schedule_of(learner).week_on(start + dt.timedelta(days=days)) == week


def test_a_week_set_moves_on_with_the_calendar_and_can_be_cleared(store) -> None:
    learner, _ = store.create("Ada", dt.date(2026, 1, 1))
    on = dt.date(2026, 3, 2)
    assert schedule_of(store.set_week(learner.id, 18, on)).week_on(on) == 18
    assert schedule_of(store.set_week(learner.id, 18, on)).week_on(on + dt.timedelta(days=14)) == 20
    assert schedule_of(store.set_week(learner.id, None, on)).week_on(dt.date(2026, 1, 1)) == 1
    with pytest.raises(WeekOutOfRange):
        store.set_week(learner.id, 73, on)


def test_a_week_given_at_sign_up_is_the_week_on_the_start_date(store) -> None:
    learner, _ = store.create("Ada", dt.date(2026, 1, 5), current_week=18)
    assert schedule_of(learner).week_on(dt.date(2026, 1, 5)) == 18
    assert schedule_of(learner).week_on(dt.date(2026, 1, 19)) == 20


def test_ticks_persist_and_unknown_tasks_are_named(store) -> None:
    learner, _ = store.create("Ada", dt.date(2026, 1, 1))
    store.tick(learner.id, 18, "assignment", True, CURRICULUM)
    reopened = LearnerRecords(store.url)
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
    assert [e.text for e in store.journal(learner.id)] == [
        "Bayes finally clicked.",
        "Trees overfit fast.",
    ]


def test_an_older_database_is_migrated_to_the_newest_schema_keeping_its_data(tmp_path) -> None:
    from app.records.base import migrate
    from app.records.learners import hash_token

    path = tmp_path / "tutor.db"
    migrate(f"sqlite:///{path}", revision="0001")  # a database from before quizzes existed
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO learners (name, token_hash, start_date, pace) "
            "VALUES ('Ada', ?, '2026-01-01', 1.0)",
            (hash_token("old-token"),),
        )
        db.execute("INSERT INTO journal_entries (learner_id, week, text) VALUES (1, 1, 'kept')")
    store = LearnerRecords(f"sqlite:///{path}")  # upgrades on open
    learner = store.by_token("old-token")
    assert learner.name == "Ada" and [e.text for e in store.journal(learner.id)] == ["kept"]
    again = LearnerRecords(f"sqlite:///{path}")  # at head already: a no-op
    assert again.by_token("old-token").id == learner.id
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"quizzes", "attempts", "review_cards"} <= tables


@pytest.mark.parametrize(
    "start", [None, "0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009"]
)
def test_migrations_reach_the_newest_schema_from_empty_and_from_each_older_revision(
    database_url, start
) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy import inspect
    from sqlalchemy import text

    from app.ingest.manifest import IngestFile
    from app.ingest.runs import IngestRun
    from app.records.base import Base
    from app.records.base import migrate
    from app.records.checks import CheckAttempt
    from app.records.conversations import AnonymousTurn

    if start:
        migrate(database_url, revision=start)
    store = LearnerRecords(database_url)  # upgrades to head on open
    learner, token = store.create("Ada", dt.date(2026, 1, 5))
    assert store.by_token(token).id == learner.id
    assert store.local_learner(dt.date(2026, 1, 5)).local  # 0004's partial unique index
    engine = create_engine(database_url)
    with engine.connect() as db:
        assert db.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        assert set(Base.metadata.tables) <= set(inspect(db).get_table_names())
    assert {
        AnonymousTurn.__tablename__,
        IngestFile.__tablename__,
        IngestRun.__tablename__,
        CheckAttempt.__tablename__,
    } <= set(Base.metadata.tables)  # 0005's tables were checked
    engine.dispose()


# A worker in a process of its own: ready once imported, opens (and migrates) on a line in.
OPEN_WHEN_TOLD = """
import sys
from app.records.learners import LearnerRecords
print("ready", flush=True)
sys.stdin.readline()
LearnerRecords(sys.argv[1]).close()
print("opened", flush=True)
"""


def test_workers_starting_together_on_a_new_database_all_open_it(database_url) -> None:
    """`tutor serve --workers 4` on a new database: each worker migrates it at start. Without
    a lock all but one failed ("table learners already exists"), told to move a sound file
    aside.

    Plain processes told to go on one line each once all have imported: a worker that fails
    shows its own traceback here, where a multiprocessing child that died on import left the
    test waiting on an empty queue."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_WHEN_TOLD, database_url],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline() == "ready\n", (
            worker.communicate()[1]
        )
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outcomes = [worker.communicate(timeout=300) for worker in workers]
    assert [(out, worker.returncode) for (out, _), worker in zip(outcomes, workers)] == [
        ("opened\n", 0)
    ] * 4, [err for _, err in outcomes]


def test_a_week_set_before_pacing_is_kept_as_set_on_the_day_of_the_upgrade(database_url) -> None:
    """Before 0006 a set week stayed put; after it, it moves on from the upgrade, not from
    whenever it was set (nobody jumps ahead by upgrading)."""
    from sqlalchemy import text

    from app.records.learners import hash_token

    with at_revision(database_url, "0005") as db:
        db.execute(
            text(
                "INSERT INTO learners (name, token_hash, start_date, pace, current_week,"
                " local) VALUES ('Ada', :token, '2025-06-02', 1.0, 18, false)"
            ),
            {"token": hash_token("old")},
        )
    learner = LearnerRecords(database_url).by_token("old")
    assert learner.week_set_on is not None
    assert abs((learner.week_set_on - dt.date.today()).days) <= 1  # the database's date
    assert schedule_of(learner).week_on(learner.week_set_on) == 18


def test_a_corrupt_database_file_is_reported_and_left_untouched(tmp_path) -> None:
    path = tmp_path / "tutor.db"
    path.write_bytes(b"this is not a database" * 100)
    path.chmod(0o644)
    before = path.read_bytes()
    with pytest.raises(LearnerRecordsError, match="cannot be opened.*restore a backup"):
        LearnerRecords(f"sqlite:///{path}")
    assert path.read_bytes() == before and path.stat().st_mode & 0o777 == 0o644  # not made private


def test_a_database_that_cannot_be_reached_is_not_called_damaged(tmp_path) -> None:
    """A folder where the file should be is no damaged database: moving it aside is not the
    advice, checking the path and its permissions is."""
    path = tmp_path / "tutor.db"
    path.mkdir()
    with pytest.raises(LearnerRecordsError) as raised:
        LearnerRecords(f"sqlite:///{path}")
    said = str(raised.value)
    assert "cannot be opened or written here" in said and "you may read and write" in said
    assert "mv " not in said and "damaged" not in said
    assert path.is_dir()


def test_a_new_database_file_is_private_from_its_first_write(tmp_path) -> None:
    path = tmp_path / "data" / "tutor.db"
    LearnerRecords(f"sqlite:///{path}")
    assert path.stat().st_mode & 0o777 == 0o600


# -- the API ---------------------------------------------------------------------------------


@pytest.fixture
def client(settings, database_url):
    with local_client(
        create_app(settings.model_copy(update={"database_url": database_url}))
    ) as client:
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


@pytest.mark.parametrize(
    "headers, detail",
    [
        ({}, "Authorization: Bearer"),
        ({"Authorization": "Bearer wrong"}, "unknown token"),
        ({"Authorization": "Basic abc"}, "Authorization: Bearer"),
    ],
)
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
    assert [e["text"] for e in client.get(f"/learners/{ada}/journal", headers=ada_auth).json()] == [
        "private"
    ]
    assert client.get(f"/learners/{bob}/journal", headers=bob_auth).json() == []


def test_the_checklist_rating_and_journal_flow(client) -> None:
    learner_id, auth = signup(client, "Ada", current_week=18)
    base = f"/learners/{learner_id}"
    ticked = client.put(f"{base}/weeks/18/tasks/assignment", json={"done": True}, headers=auth)
    assert {t["task"]: t["done"] for t in ticked.json()}["assignment"] is True
    assert client.get(f"{base}/weeks/18/tasks", headers=auth).json()[3]["done"] is True
    assert (
        client.put(f"{base}/weeks/18/rating", json={"rating": 7}, headers=auth).status_code == 204
    )
    assert client.get(f"{base}/ratings", headers=auth).json() == {"18": 7}
    entry = client.post(f"{base}/journal", json={"text": "Attention makes sense."}, headers=auth)
    assert entry.json()["week"] == 18  # defaults to the learner's week


@pytest.mark.parametrize(
    "method, path, body, status, detail",
    [
        ("put", "/weeks/18/tasks/homework", {"done": True}, 404, "its tasks are"),
        ("get", "/weeks/99/tasks", None, 404, "valid weeks are 1-72"),
        ("put", "/weeks/18/rating", {"rating": 11}, 422, "less than or equal to 10"),
        ("put", "/week", {"week": 0}, 422, "greater than or equal to 1"),
        ("post", "/journal", {"text": ""}, 422, "at least 1 character"),
    ],
)
def test_bad_learner_input_is_a_clear_4xx(client, method, path, body, status, detail) -> None:
    learner_id, auth = signup(client, "Ada")
    response = client.request(method, f"/learners/{learner_id}{path}", json=body, headers=auth)
    assert response.status_code == status and detail in response.text


@pytest.mark.parametrize(
    "raw, detail",
    [
        ('{"name": "\\ud800"}', "name is not valid Unicode"),
        ('{"name": "Ada \\udfff"}', "lone surrogate at character 4"),
        ('{"name": "Ada", "pace": NaN}', "finite number"),
        ('{"name": "Ada", "pace": Infinity}', "finite number"),
        ('{"name": "Ada", "pace": -Infinity}', "finite number"),
        ('{"name": "   "}', "name is blank"),
        ('{"name": "Ada\\u0000"}', "name holds a NUL character (\\\\x00) at character 3"),
    ],
)
def test_a_body_that_is_not_text_or_numbers_is_a_422_that_says_why(client, raw, detail) -> None:
    response = client.post("/learners", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and detail in response.text


@pytest.mark.parametrize(
    "method, path, body, where",
    [
        ("post", "/journal", {"text": "Attention\x00"}, "text holds a NUL character"),
        ("get", "/conversations/ab%00cd", None, "conversation_id"),
        ("post", "/quizzes/ab%00cd/answers", {"question_id": "q1", "response": "x"}, "quiz_id"),
        ("post", "/reviews/ab%00cd", {"response": "x"}, "question_id"),
        ("post", "/reviews/ab%00cd/check", {"response": "x"}, "question_id"),
    ],
)
def test_a_nul_character_is_a_422_and_the_database_goes_on(
    client, method, path, body, where
) -> None:
    """PostgreSQL refuses NUL in any text, a lookup included, and its error took the learner
    database out of service until a restart (the fuzz's NUL in an ingest path, a 500, led
    here)."""
    learner_id, auth = signup(client, "Ada")
    response = client.request(method, f"/learners/{learner_id}{path}", json=body, headers=auth)
    assert response.status_code == 422, response.text
    assert "NUL character" in response.text and where in response.text
    assert client.get("/health").json()["status"] == "ok"
    assert client.get(f"/learners/{learner_id}", headers=auth).status_code == 200


@pytest.mark.parametrize(
    "error, status",
    [
        (DataError("INSERT …", {}, ValueError("value out of range")), 422),
        (IntegrityError("INSERT …", {}, ValueError("duplicate key")), 409),
    ],
)
def test_data_the_database_refuses_is_the_requests_fault_not_an_outage(
    settings, error, status
) -> None:
    """Only a failing database turns /health degraded; a value it refuses is a 4xx (no route
    is known to reach one today: every input is checked first, so a route raises it here)."""
    app = create_app(settings)

    @app.get("/refused")
    def refused() -> None:
        raise error

    with local_client(app) as client:
        response = client.get("/refused")
        assert response.status_code == status and "stor" in response.json()["detail"]
        assert client.get("/health").json()["status"] == "ok"


def test_a_body_that_is_not_utf_8_is_a_400_that_says_so(client) -> None:
    response = client.post(
        "/learners",
        content='{"name": "Ad\xe9"}'.encode("latin-1"),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"]


def test_a_lone_surrogate_in_any_body_is_a_422(client) -> None:
    learner_id, auth = signup(client, "Ada")
    for path in (f"/learners/{learner_id}/journal", "/ask"):
        response = client.post(
            path,
            content='{"text": "\\ud800", "question": "\\ud800"}',
            headers={**auth, "Content-Type": "application/json"},
        )
        assert response.status_code == 422 and "not valid Unicode" in response.text, path


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+10:00"])
def test_a_review_date_beyond_the_calendar_in_utc_is_a_422(client, until) -> None:
    learner_id, auth = signup(client, "Ada")
    response = client.get(
        f"/learners/{learner_id}/reviews/due", params={"until": until}, headers=auth
    )
    assert response.status_code == 422 and "out of range in UTC" in response.json()["detail"]


# -- quizzes and reviews through the API ------------------------------------------------------


def quiz_for_ada(client, n: int, kinds: list[str]) -> tuple[str, dict[str, str], dict]:
    """A new learner at week 18 and a quiz of `n` questions of `kinds` made for her: her
    records' path, her token header and the quiz."""
    learner_id, auth = signup(client, "Ada", current_week=18)
    base = f"/learners/{learner_id}"
    quiz = client.post(f"{base}/quizzes", json={"n": n, "kinds": kinds}, headers=auth).json()
    return base, auth, quiz


def test_a_quiz_is_taken_graded_and_comes_back_for_review(client, database_url) -> None:
    import datetime as dt

    base, auth, quiz = quiz_for_ada(client, 4, ["mcq", "truefalse"])
    assert quiz["week"] == 18 and len(quiz["questions"]) == 4
    assert all("answer" not in q and "snippet" not in q["citation"] for q in quiz["questions"])
    mcq = next(q for q in quiz["questions"] if q["kind"] == "mcq")
    wrong = client.post(
        f"{base}/quizzes/{quiz['quiz_id']}/answers",
        json={"question_id": mcq["id"], "response": "Z"},
        headers=auth,
    ).json()
    assert wrong["correct"] is False and wrong["answer"] in mcq["options"]
    assert wrong["feedback"] == f"Not quite: the answer is {wrong['answer']}."
    assert wrong["tone"] == "error" and wrong["quote"] is None  # the prompt showed the sentence
    assert wrong["citation"]["source"] == "notes/w18-attention.md"
    again = client.post(
        f"{base}/quizzes/{quiz['quiz_id']}/answers",
        json={"question_id": mcq["id"], "response": "A"},
        headers=auth,
    )
    assert again.status_code == 409 and "already answered" in again.json()["detail"]
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    due = client.get(f"{base}/reviews/due", params={"until": tomorrow}, headers=auth).json()
    assert [q["id"] for q in due] == [mcq["id"]]  # missed, so it is due again soon
    due_now(database_url)  # ...and a minute later it is
    right = client.post(
        f"{base}/reviews/{mcq['id']}", json={"response": wrong["answer"]}, headers=auth
    ).json()
    assert right["correct"] is True
    assert dt.datetime.fromisoformat(right["next_review"]) > dt.datetime.fromisoformat(
        wrong["next_review"]
    )
    fresh = client.post(
        f"{base}/quizzes", json={"n": 3, "kinds": ["mcq", "truefalse"]}, headers=auth
    ).json()
    assert mcq["id"] not in [q["id"] for q in fresh["questions"]]  # no repeat of recent ones


def test_quizzes_are_private_and_bad_requests_say_why(client) -> None:
    ada, ada_auth = signup(client, "Ada", current_week=6)
    bob, bob_auth = signup(client, "Bob")
    quiz = client.post(f"/learners/{ada}/quizzes", json={"n": 2}, headers=ada_auth).json()
    question = quiz["questions"][0]["id"]
    stolen = client.post(
        f"/learners/{bob}/quizzes/{quiz['quiz_id']}/answers",
        json={"question_id": question, "response": "A"},
        headers=bob_auth,
    )
    assert stolen.status_code == 404 and "no quiz" in stolen.json()["detail"]
    unknown = client.post(
        f"/learners/{ada}/quizzes/{quiz['quiz_id']}/answers",
        json={"question_id": "nope", "response": "A"},
        headers=ada_auth,
    )
    assert unknown.status_code == 404 and "has no question" in unknown.json()["detail"]
    for body, message in [
        ({"week": 73}, "less than or equal to 72"),
        ({"kinds": ["essay"]}, "'mcq', 'truefalse', 'short', 'cloze' or 'llm'"),
        ({"n": 30, "kinds": ["short"]}, "new questions available"),
        ({"passages": [{"text": "x"}]}, "passages come with a topic"),
        ({"topic": "attention", "kinds": ["llm"]}, "leave llm out"),
    ]:
        response = client.post(f"/learners/{ada}/quizzes", json=body, headers=ada_auth)
        assert response.status_code == 422 and message in response.text


def test_a_short_answer_in_review_takes_the_learners_own_rating(client, database_url) -> None:
    base, auth, quiz = quiz_for_ada(client, 2, ["short", "mcq"])
    ids = {q["kind"]: q["id"] for q in quiz["questions"]}
    for question_id in ids.values():
        client.post(
            f"{base}/quizzes/{quiz['quiz_id']}/answers",
            json={"question_id": question_id, "response": "no idea"},
            headers=auth,
        )
    answered = client.get(f"{base}/progress", headers=auth).json()["quiz_accuracy_by_week"]
    check = client.post(
        f"{base}/reviews/{ids['short']}/check", json={"response": "no idea"}, headers=auth
    ).json()
    assert check["answer"] and check["rate_with"] == ["again", "hard", "good", "easy"]
    assert "next_review" not in check  # a check shows the answer, records and schedules nothing
    assert client.get(f"{base}/progress", headers=auth).json()["quiz_accuracy_by_week"] == answered
    assert (
        client.post(
            f"{base}/reviews/{ids['mcq']}/check", json={"response": "A"}, headers=auth
        ).json()["rate_with"]
        == []
    )  # graded exactly: nothing to rate
    due_now(database_url)
    easy = client.post(
        f"{base}/reviews/{ids['short']}",
        json={"response": "no idea", "rating": "easy"},
        headers=auth,
    )
    assert easy.status_code == 200 and easy.json()["correct"] is True
    assert easy.json()["feedback"].startswith("You rated it Easy: you recalled it easily")
    assert "The grader's estimate was different" in easy.json()["feedback"]
    assert easy.json()["tone"] == "info"  # recorded as recalled, but no green check
    due = dt.datetime.fromisoformat(easy.json()["next_review"])
    assert due > dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)  # easy: not back today
    refused = client.post(
        f"{base}/reviews/{ids['mcq']}", json={"response": "A", "rating": "easy"}, headers=auth
    )
    assert refused.status_code == 422 and "graded exactly" in refused.json()["detail"]
    assert (
        client.post(
            f"{base}/reviews/{ids['short']}", json={"response": "x", "rating": "meh"}, headers=auth
        ).status_code
        == 422
    )


def test_a_quiz_may_ask_for_model_written_questions(client) -> None:
    """The API wiring, with a fake writer: the model's question is served like any other."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from app.config import Settings
    from app.practice.quiz import question_writer

    model = GenericFakeChatModel(messages=iter([AIMessage("not JSON")] * 40))
    client.app.state.services.writer = question_writer(Settings(), model=model)
    learner_id, auth = signup(client, "Ada", current_week=18)
    response = client.post(
        f"/learners/{learner_id}/quizzes", json={"n": 3, "kinds": ["llm"]}, headers=auth
    )
    assert response.status_code == 201 and len(response.json()["questions"]) == 3  # filled in


# -- progress ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offsets, streak_days",
    [
        ([], 0),
        ([0], 1),
        ([0, 1, 2], 3),
        ([1, 2], 2),
        ([0, 2, 3], 1),
        ([2, 3], 0),
    ],
)
def test_the_streak_counts_consecutive_active_days_up_to_today(offsets, streak_days) -> None:
    from app.progress.overview import streak

    today = dt.date(2026, 3, 10)
    assert streak({today - dt.timedelta(days=d) for d in offsets}, today) == streak_days


def test_progress_shows_completion_accuracy_ratings_and_weak_concepts(client) -> None:
    learner_id, auth = signup(client, "Ada", current_week=2)
    base = f"/learners/{learner_id}"
    client.put(f"{base}/weeks/1/tasks/assignment", json={"done": True}, headers=auth)
    client.put(f"{base}/weeks/1/rating", json={"rating": 6}, headers=auth)
    quiz = client.post(
        f"{base}/quizzes", json={"week": 1, "n": 2, "kinds": ["mcq"]}, headers=auth
    ).json()
    for question in quiz["questions"]:
        client.post(
            f"{base}/quizzes/{quiz['quiz_id']}/answers",
            json={"question_id": question["id"], "response": "wrong on purpose"},
            headers=auth,
        )
    report = client.get(f"{base}/progress", headers=auth).json()
    assert report["current_week"] == 2
    # counted from week 2, where Ada joined: week 1's tick is hers but before her start
    assert [c["week"] for c in report["completion"]] == [2]
    assert report["quiz_accuracy_by_week"] == [{"week": 1, "answered": 2, "accuracy": 0.0}]
    assert report["self_ratings"] == [{"week": 1, "rating": 6}]
    assert report["streak_days"] == 1
    weak = report["weak_concepts"]
    assert len(weak) == 2 and all(w["week"] == 1 and w["missed"] == 1 for w in weak)
    concepts = {c for n in read_notes() if n.meta.week == 1 for c in n.meta.concepts}
    assert {w["concept"] for w in weak} <= concepts


def test_a_new_learner_has_an_empty_but_valid_progress_report(client) -> None:
    learner_id, auth = signup(client, "Ada")
    report = client.get(f"/learners/{learner_id}/progress", headers=auth).json()
    assert report["quiz_accuracy_by_day"] == [] and report["weak_concepts"] == []
    assert report["streak_days"] == 0 and report["completion"][0]["done"] == 0


# -- conversations, the command line's learner, damaged and interrupted databases ------------


def test_quiz_history_survives_the_migrations_that_add_conversations(tmp_path) -> None:
    from app.records.base import migrate
    from app.records.learners import hash_token

    path = tmp_path / "tutor.db"
    migrate(f"sqlite:///{path}", revision="0002")  # a database with quizzes, before conversations
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO learners (name, token_hash, start_date, pace) "
            "VALUES ('Ada', ?, '2026-01-01', 1.0)",
            (hash_token("old-token"),),
        )
        db.execute(
            "INSERT INTO quizzes (id, learner_id, week, questions) VALUES ('q1', 1, 18, '[]')"
        )
        db.execute(
            "INSERT INTO attempts (learner_id, quiz_id, question_id, week, kind, response, "
            "correct, score) VALUES (1, 'q1', 'abc', 18, 'mcq', 'A', 1, 1.0)"
        )
    store = LearnerRecords(f"sqlite:///{path}")
    learner = store.by_token("old-token")
    assert learner.local is False and QuizRecords(store).recent_ids(learner.id) == {"abc"}
    assert ConversationRecords(store, learner.id).summaries() == []


def test_the_command_line_has_one_local_learner_made_on_first_use(store) -> None:
    first = store.local_learner(dt.date(2026, 1, 5))
    again = LearnerRecords(store.url).local_learner(dt.date(2026, 3, 1))
    assert first.id == again.id and again.local and again.start_date == dt.date(2026, 1, 5)
    other, _ = store.create("Ada", dt.date(2026, 1, 5))
    assert not other.local and store.local_learner(dt.date.today()).id == first.id


def test_a_conversation_is_kept_per_learner_and_read_back_in_order(store) -> None:
    ada, _ = store.create("Ada", dt.date(2026, 1, 5))
    bob, _ = store.create("Bob", dt.date(2026, 1, 5))
    log = ConversationRecords(store, ada.id, turns=2)
    cite = [{"n": 1, "source": "notes/w18-attention.md"}]
    for i in range(3):
        log.add(Turn("c1", f"question {i}", f"answer {i} [1]", cite, 18))
    assert log.history("c1") == [("question 1", "answer 1 [1]"), ("question 2", "answer 2 [1]")]
    [summary] = log.summaries()
    assert summary["id"] == "c1" and summary["title"] == "question 0" and summary["turns"] == 3
    messages = log.read("c1")["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    assert messages[1]["citations"] == cite and messages[0]["citations"] == []
    with pytest.raises(NotFound):
        ConversationRecords(store, bob.id).read("c1")
    with pytest.raises(NotFound):
        ConversationRecords(store, bob.id).add(Turn("c1", "hijack", "no", [], 18))


def test_a_follow_up_is_condensed_from_the_history_in_the_database(
    corpus_dir, embedder, store
) -> None:
    """A new tutor (as after a restart) continues the learner's conversation from the database."""
    from tests.test_tutor import fake
    from tests.test_tutor import tutor_on

    learner, _ = store.create("Ada", dt.date(2026, 1, 5))
    first = tutor_on(
        corpus_dir, embedder, fake("Scaled dot-product attention compares queries with keys [1].")
    ).ask(
        "What is scaled dot-product attention?",
        week=18,
        memory=ConversationRecords(store, learner.id),
    )
    model = fake(
        "Why does scaled dot-product attention divide by the square root of d_k?",
        "Dividing by the square root of d_k keeps the variance of the scores near one [1].",
    )
    second = tutor_on(corpus_dir, embedder, model, condense_with_model=True).ask(
        "Why divide by that?",
        week=18,
        conversation_id=first.conversation_id,
        memory=ConversationRecords(store, learner.id),
    )
    assert "What is scaled dot-product attention?" in model.prompts[0][0].content
    assert second.standalone_question.startswith("Why does scaled dot-product attention")
    assert ConversationRecords(store, learner.id).summaries()[0]["turns"] == 2


@pytest.fixture
def library(corpus_dir, database_url):
    """The shared course index, with a database of its own (the index is only read)."""
    from app.config import Settings

    settings = Settings(data_dir=corpus_dir, database_url=database_url)
    with local_client(create_app(settings)) as client:
        yield client


def test_asking_with_a_token_uses_the_learners_week_and_keeps_the_conversation(library) -> None:
    """Plan questions need no model, so this runs the real API end to end quickly."""
    ada, auth = signup(library, "Ada", current_week=18)
    first = library.post(
        "/ask", json={"question": "What is my assignment this week?"}, headers=auth
    ).json()
    assert first["week"] == 18 and "week 18" in first["answer"]
    cid = first["conversation_id"]
    again = library.post(
        "/ask/stream",
        json={
            "question": "Which video should I watch this week?",
            "week": 6,
            "conversation_id": cid,
        },
        headers=auth,
    )
    assert "week 6" in sse_events(again.text)[-1][1]["answer"]  # an explicit week wins
    [summary] = library.get(f"/learners/{ada}/conversations", headers=auth).json()
    assert summary == {
        "id": cid,
        "title": "What is my assignment this week?",
        "updated": summary["updated"],
        "turns": 2,
    }
    messages = library.get(f"/learners/{ada}/conversations/{cid}", headers=auth).json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1]["citations"][0]["source"] == "curriculum/week-18"
    assert messages[3]["week"] == 6
    # A follow-up without a week is asked from its conversation's (6), not the learner's (18).
    follow_up = library.post(
        "/ask",
        json={"question": "and the reading?", "conversation_id": cid},
        headers=auth,
    ).json()
    assert follow_up["week"] == 6 and "In week 6 (" in follow_up["answer"]


def test_answers_and_quizzes_follow_the_pace_adjusted_week(library) -> None:
    """Week 18 set two weeks ago is week 20 today: the tutor answers and quizzes from there."""
    start = (dt.date.today() - dt.timedelta(days=14)).isoformat()
    ada, auth = signup(library, "Ada", current_week=18, start_date=start)
    answer = library.post(
        "/ask", json={"question": "What is my assignment this week?"}, headers=auth
    ).json()
    assert answer["week"] == 20 and "week 20" in answer["answer"]
    quiz = library.post(f"/learners/{ada}/quizzes", json={"n": 2}, headers=auth).json()
    assert quiz["week"] == 20
    assert library.get(f"/learners/{ada}", headers=auth).json()["current_week"] == 20


def test_another_learners_conversation_is_a_404_and_anonymous_asking_is_unchanged(library) -> None:
    ada, ada_auth = signup(library, "Ada", current_week=18)
    bob, bob_auth = signup(library, "Bob", current_week=3)
    cid = library.post(
        "/ask", json={"question": "What is my assignment this week?"}, headers=ada_auth
    ).json()["conversation_id"]
    for response in [
        library.post(
            "/ask", json={"question": "And the video?", "conversation_id": cid}, headers=bob_auth
        ),
        library.get(f"/learners/{bob}/conversations/{cid}", headers=bob_auth),
        library.get(f"/learners/{ada}/conversations/{cid}", headers=bob_auth),
    ]:
        assert response.status_code == 404
    assert (
        library.post(
            "/ask",
            json={"question": "What is my assignment this week?"},
            headers={"Authorization": "Bearer wrong"},
        ).status_code
        == 401
    )
    anonymous = library.post(
        "/ask",
        json={"question": "What is my assignment this week?", "week": 18, "conversation_id": cid},
    ).json()
    assert anonymous["conversation_id"] == cid and anonymous["week"] == 18
    kept = library.get(f"/learners/{ada}/conversations/{cid}", headers=ada_auth).json()
    assert len(kept["messages"]) == 2  # the anonymous turn did not join Ada's conversation
    assert library.get(f"/learners/{bob}/conversations", headers=bob_auth).json() == []


def test_a_declined_first_question_s_conversation_goes_on_with_the_follow_up(library) -> None:
    """A declined answer is not kept, yet it hands back its conversation id, which the UI
    keeps: the follow-up with it was a 404, and so was every question after it."""
    ada, auth = signup(library, "Ada", current_week=18)
    declined = library.post(
        "/ask", json={"question": "What is the capital of Mongolia?"}, headers=auth
    ).json()
    assert not declined["grounded"]
    follow_up = library.post(
        "/ask",
        json={
            "question": "What is my assignment this week?",
            "conversation_id": declined["conversation_id"],
        },
        headers=auth,
    )
    assert follow_up.status_code == 200 and follow_up.json()["grounded"]
    kept = library.get(
        f"/learners/{ada}/conversations/{declined['conversation_id']}", headers=auth
    ).json()
    assert [m["role"] for m in kept["messages"]] == ["user", "assistant"]


def test_a_damaged_database_is_named_in_health_and_503s_until_moved_aside(settings) -> None:
    path = settings.data_dir / "tutor.db"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"garbage" * 500)
    with local_client(create_app(settings)) as client:
        health = client.get("/health").json()
        assert health["status"] == "degraded" and str(path.resolve()) in health["detail"]
        refused = client.post("/learners", json={"name": "Ada"})
        assert refused.status_code == 503 and f"mv {path.resolve()}" in refused.json()["detail"]
        assert client.get("/weeks/18").status_code == 200  # what needs no learner still works
        path.rename(path.with_suffix(".broken"))  # what the message says to do
        assert client.post("/learners", json={"name": "Ada"}).status_code == 201
        assert client.get("/health").json()["status"] == "ok"


@pytest.mark.parametrize(
    "damage, fix",
    [
        (
            lambda path: [p.unlink() for p in path.parent.glob("tutor.db*")],
            "restore it from a backup",
        ),
        (lambda path: path.write_bytes(b""), "Move it aside"),
        (lambda path: path.write_bytes(b"garbage" * 500), "Move it aside"),
    ],
)
def test_a_database_lost_while_serving_is_a_503_and_no_write_is_acknowledged(
    settings, damage, fix
) -> None:
    path = settings.data_dir / "tutor.db"
    with local_client(create_app(settings)) as client:
        learner_id, auth = signup(client, "Ada")
        damage(path)
        refused = client.post(
            f"/learners/{learner_id}/journal", json={"text": "kept?"}, headers=auth
        )
        assert refused.status_code == 503 and fix in refused.json()["detail"]
        assert client.post("/learners", json={"name": "Bob"}).status_code == 503
        health = client.get("/health").json()
        assert health["status"] == "degraded" and fix in health["detail"]
        assert client.get("/weeks/18").status_code == 200  # what needs no learner still works


WRITER = """
import datetime as dt, sys
from app.records.learners import LearnerRecords
from app.records.quizzes import QuizRecords
from app.practice.grading import Grade
from app.practice.quiz import make_quiz
from app.course.notes import read_notes

store = LearnerRecords(sys.argv[1])
learner, _ = store.create("Ada", dt.date(2026, 1, 5))
records = QuizRecords(store)
questions = make_quiz(read_notes(), 18, n=8, seed=1)
for i in range(100_000):
    entry = store.write_journal(learner.id, 18, f"entry {i} " + "x" * 500)
    print("journal", entry.id, flush=True)
    quiz_id = records.save(learner.id, 18, questions[:1])
    records.answer(learner.id, quiz_id, questions[i % 8], "A", Grade(i % 2 == 0, 1.0, ""),
                   dt.datetime.now(dt.UTC))
    print("attempt", quiz_id, flush=True)
"""


def test_a_writer_killed_mid_write_leaves_a_sound_database_with_every_committed_row(
    tmp_path,
) -> None:
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    url = f"sqlite:///{tmp_path / 'tutor.db'}"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    committed: dict[str, set[str]] = {"journal": set(), "attempt": set()}
    for line in writer.stdout:
        kind, key = line.split()
        committed[kind].add(key)
        if len(committed["attempt"]) >= 150:
            writer.send_signal(signal.SIGKILL)  # mid-write: it never stops between commits
            break
    writer.wait(timeout=30)
    for line in writer.stdout:  # printed after commit but not read before the kill
        kind, key = line.split()
        committed[kind].add(key)
    assert writer.returncode == -signal.SIGKILL, writer.stderr.read()
    with sqlite3.connect(tmp_path / "tutor.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        journal = {str(row[0]) for row in db.execute("SELECT id FROM journal_entries")}
        answered = {row[0] for row in db.execute("SELECT quiz_id FROM attempts")}
    assert committed["journal"] <= journal and committed["attempt"] <= answered
    LearnerRecords(url).create("Bob", dt.date(2026, 1, 5))  # and it opens for writing


def test_the_newest_migration_is_found_without_alembic_and_an_up_to_date_database_skips_it(
    tmp_path,
) -> None:
    """A cold command opens a database already at head with one query: the newest revision
    is read from the migrations' file names, which must agree with Alembic's own head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.records.base import MIGRATIONS
    from app.records.base import head_revision
    from app.records.base import migrate
    from app.records.base import revisions

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert head_revision() == script.get_current_head() == HEAD
    assert revisions() == {r.revision for r in script.walk_revisions()}

    url = f"sqlite:///{tmp_path / 'tutor.db'}"
    migrate(url)
    probe = (
        "import sys; from app.records.base import migrate;"
        f"migrate({url!r}); print('alembic' in sys.modules)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "False"


def test_a_database_from_a_newer_version_is_refused_by_name_and_left_as_it_was(tmp_path) -> None:
    path = tmp_path / "tutor.db"
    LearnerRecords(f"sqlite:///{path}").create("Ada", dt.date(2026, 1, 1))
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(LearnerRecordsError, match=f"revision '9999'.*newest is '{HEAD}'.*Upgrade"):
        LearnerRecords(f"sqlite:///{path}")
    assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999",)]
    assert db.execute("SELECT name FROM learners").fetchall() == [("Ada",)]
    db.close()

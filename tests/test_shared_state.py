"""What workers share lives in the database, not in one process's data dir or memory: the ingest
lock, runs and manifest, and anonymous conversations (on SQLite, and PostgreSQL when a server is
given). And whether an API owns an embedded index is decided by a lock it holds, not by an HTTP
call that can time out."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from app.answering.memory import Turn
from app.api import create_app
from app.cli.api_client import running_api_for
from app.config import Settings
from app.ingest.manifest import Entry
from app.ingest.manifest import Manifest
from app.ingest.runs import DIED
from app.ingest.runs import IngestBusy
from app.ingest.runs import IngestRun
from app.ingest.runs import Runs
from app.records.base import utcnow
from app.records.conversations import AnonymousConversationRecords
from app.records.conversations import AnonymousTurn
from app.records.learners import LearnerRecords
from app.search.lock import claim
from tests.conftest import ChromaServer
from tests.conftest import free_port
from tests.conftest import local_client
from tests.conftest import tutor
from tests.conftest import write


def test_one_ingest_runs_at_a_time_for_every_process_sharing_the_database(database_url) -> None:
    here, elsewhere = (
        Runs(LearnerRecords(database_url).sessions),
        Runs(LearnerRecords(database_url).sessions),
    )
    run = here.begin(["notes"])
    with pytest.raises(IngestBusy, match="another ingest is running"):
        elsewhere.begin(["other"])
    here.progress(run.id, 3, 1, 7)
    assert elsewhere.get(run.id).to_dict() | {"id": ""} == {
        "id": "",
        "paths": ["notes"],
        "state": "running",
        "files_total": 3,
        "files_done": 1,
        "chunks": 7,
        "summary": None,
        "error": "",
        "usage_error": False,
    }
    here.finish(run.id, {"added": 3})
    assert elsewhere.get(run.id).summary == {"added": 3}
    elsewhere.fail(elsewhere.begin(["other"]).id, "no such folder", usage_error=True)
    assert elsewhere.get("nope") is None


def test_a_run_whose_process_died_frees_the_lock_and_says_why(database_url) -> None:
    store = LearnerRecords(database_url)
    runs = Runs(store.sessions)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    killed = runs.begin(["notes"])
    with store.sessions.begin() as session:  # as if that process, now gone, had begun it
        session.execute(
            update(IngestRun)
            .where(IngestRun.id == killed.id)
            .values(owner=killed.owner.rsplit(":", 1)[0] + f":{gone}")
        )
    silent = runs.begin(["notes"])  # the lock was free at once: its process is not running
    assert runs.get(killed.id).state == "failed" and runs.get(killed.id).error == DIED
    with store.sessions.begin() as session:  # another host's run that stopped beating
        session.execute(
            update(IngestRun)
            .where(IngestRun.id == silent.id)
            .values(owner="elsewhere:1", heartbeat_at=utcnow() - dt.timedelta(minutes=5))
        )
    runs.begin(["notes"])
    assert runs.get(silent.id).state == "failed"


def test_a_live_run_on_another_host_keeps_the_lock(database_url) -> None:
    store = LearnerRecords(database_url)
    runs = Runs(store.sessions)
    run = runs.begin(["notes"])
    with store.sessions.begin() as session:  # its pid means nothing here: only its heartbeat
        session.execute(update(IngestRun).where(IngestRun.id == run.id).values(owner="elsewhere:1"))
    with pytest.raises(IngestBusy):
        runs.begin(["notes"])


def test_an_older_data_dirs_manifest_is_taken_over_once(database_url, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "manifest.sqlite") as db:  # as the previous version kept it
        db.executescript("""
            CREATE TABLE files (root TEXT NOT NULL, file TEXT NOT NULL, hash TEXT NOT NULL,
                state TEXT NOT NULL, chunks INTEGER NOT NULL DEFAULT 0,
                chars INTEGER NOT NULL DEFAULT 0, weeks TEXT NOT NULL DEFAULT '',
                updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (root, file));
            INSERT INTO files (root, file, hash, state, chunks, chars)
                VALUES ('/notes', 'a.md', 'h1', 'done', 4, 900), ('/notes', 'b.md', 'h2', 'pending', 0, 0);
        """)
    db.close()
    manifest = Manifest(LearnerRecords(database_url).sessions)
    assert manifest.import_legacy(tmp_path) == 2
    assert manifest.entries("/notes") == {
        "a.md": Entry("h1", "done", 4),
        "b.md": Entry("h2", "pending", 0),
    }
    assert not (tmp_path / "manifest.sqlite").exists()
    assert (tmp_path / "manifest.sqlite.imported").exists()
    assert manifest.import_legacy(tmp_path) == 0


def test_anonymous_conversations_are_seen_by_every_worker_and_forgotten_in_time(
    database_url,
) -> None:
    one, other = LearnerRecords(database_url), LearnerRecords(database_url)
    here = AnonymousConversationRecords(one.sessions, turns=2, keep_hours=1)
    there = AnonymousConversationRecords(other.sessions, turns=2, keep_hours=1)
    for n in range(3):
        here.add(Turn("c1", f"question {n}", f"answer {n}"))
    assert there.history("c1") == [("question 1", "answer 1"), ("question 2", "answer 2")]
    assert there.history("c2") == []
    with one.sessions.begin() as session:  # two hours pass for c1
        session.execute(update(AnonymousTurn).values(created_at=utcnow() - dt.timedelta(hours=2)))
    assert there.history("c1") == []
    there.add(Turn("c2", "question", "answer", [], 18))
    with one.sessions() as session:  # c1's turns are gone from the database, not just hidden
        assert {t.conversation_id for t in session.query(AnonymousTurn)} == {"c2"}


# -- two API processes sharing one database ------------------------------------------------------


def test_any_worker_reports_an_ingest_another_started_and_continues_its_conversations(
    database_url, tmp_path: Path, embedder, chroma_server: ChromaServer
) -> None:
    notes = tmp_path / "notes"
    write(
        notes / "pooling.md",
        "---\ntitle: Pooling\n---\n# Pooling\n\nMax pooling keeps the "
        "largest activation in each window.\n",
    )
    # Two apps, each with the process state a worker has (jobs, memory), one index (a Chroma
    # server, as workers need) and one database between them (two processes on two data dirs:
    # test_scale_out).
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        chroma_url=chroma_server.url,
        ingest_roots=[notes],
    )
    with local_client(create_app(settings)) as one, local_client(create_app(settings)) as other:
        started = one.post("/ingest", json={"paths": [str(notes)]})
        assert started.status_code == 202, started.text
        job = started.json()
        deadline = time.monotonic() + 300
        while job["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
            job = other.get(f"/ingest/{job['id']}").json()  # the other worker answers
        assert job["state"] == "done", job
        assert job["summary"]["added"] == 1 and job["files_done"] == 1
        assert other.post("/ingest", json={"paths": [str(notes)]}).status_code == 202
        question = {
            "question": "What is my assignment this week?",
            "week": 18,
            "conversation_id": "c" * 32,
        }
        assert one.post("/ask", json=question).status_code == 200
        assert other.post("/ask", json=question).status_code == 200
        memory = AnonymousConversationRecords(LearnerRecords(database_url).sessions, 3, 24)
        assert len(memory.history("c" * 32)) == 2  # both turns, whichever worker answered


# -- who owns an embedded index ----------------------------------------------------------------


def test_an_api_holds_its_data_dir_while_it_runs_and_lets_go_when_it_stops(settings) -> None:
    assert running_api_for(settings) is None
    with local_client(create_app(settings)):
        assert running_api_for(settings) == settings.resolved_api_url
        assert running_api_for(settings.model_copy(update={"chroma_url": "http://c:8000"})) is None
    assert running_api_for(settings) is None


def test_an_api_killed_outright_leaves_no_claim_behind(data_dir: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from app.search.lock import claim; held = claim(Path(sys.argv[1]), "
            "'http://127.0.0.1:1'); print('held', flush=True); time.sleep(600)",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    settings = Settings(data_dir=data_dir)
    assert running_api_for(settings) == "http://127.0.0.1:1"
    holder.kill()
    holder.wait()
    assert running_api_for(settings) is None


def test_one_api_at_a_time_holds_an_embedded_index_even_when_two_start_at_once(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both looked at the lock before either held it, and both ran (a helper's find): the
    claim itself is exclusive, while command lines looking at it (`owner`) hold it only for an
    instant and never keep an API out, nor see each other as one."""
    import app.search.lock as lock

    monkeypatch.setattr(lock, "CLAIM_WAIT_S", 0.5)
    first = lock.claim(data_dir, "http://127.0.0.1:1")
    try:
        with pytest.raises(
            lock.Claimed, match=r"another API \(http://127.0.0.1:1\) already serves"
        ):
            lock.claim(data_dir, "http://127.0.0.1:2")
        assert lock.owner(data_dir) == "http://127.0.0.1:1"
    finally:
        first.close()
    with open(data_dir / lock.LOCK_FILE) as looking:  # a command line's look, held a while
        fcntl.flock(looking, fcntl.LOCK_SH | fcntl.LOCK_NB)
        assert lock.owner(data_dir) is None  # another look is not an API
        threading.Timer(0.1, looking.close).start()
        lock.claim(data_dir, "http://127.0.0.1:3").close()  # waits the look out


def test_an_api_too_busy_to_answer_still_owns_the_index_and_nothing_is_written_beside_it(
    data_dir: Path, tmp_path: Path
) -> None:
    """The claim, not a /health call with a timeout, decides: an API that does not answer (here
    nothing listens at its URL) keeps the command line from writing the embedded store."""
    write(tmp_path / "notes" / "a.md", "# A\n\nSome text about pooling.\n")
    held = claim(data_dir, f"http://127.0.0.1:{free_port()}")
    try:
        result = tutor(data_dir, "ingest", str(tmp_path / "notes"), "--json")
    finally:
        held.close()
    assert result.returncode == 1, result.stderr
    assert "owns this index but did not answer" in " ".join(result.stderr.split())
    assert not (data_dir / "chroma").exists()  # the command line never opened the store
    ingested = tutor(data_dir, "ingest", str(tmp_path / "notes"), "--json")
    assert ingested.returncode == 0 and json.loads(ingested.stdout)["added"] == 1

"""`tutor search` and `tutor ask` go through a running API that serves the same data dir (its
models are loaded already) and answer in process otherwise, printing the same either way; an API
that fails mid-call costs a note, not the answer. Follow-ups: `tutor ask --continue` and
`--conversation ID`."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import nullcontext
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from app.cli import via_api_or_here
from app.cli.api_client import running_api_for
from app.cli.base import reflowed
from app.cli.local_key import read_key
from app.config import Settings
from app.records.learners import LearnerRecords
from app.search.lock import claim
from app.sse import event
from tests.conftest import REPO
from tests.conftest import free_port
from tests.conftest import tutor
from tests.conftest import wait_for

PLAN_QUESTION = "What is my assignment this week?"  # answered from the plan: no model needed

Route = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def stub_api(serves: Path, routes: dict[str, Route]) -> Iterator[Settings]:
    """A stand-in API holding the claim on `serves` that a real one holds while it runs,
    answering `routes` (by path without the query, a learner's id in it read as N) as given;
    yields settings for `serves`."""

    class Handler(BaseHTTPRequestHandler):
        def _route(self) -> None:
            routes[re.sub(r"^/learners/\d+", "/learners/N", self.path.split("?")[0])](self)

        do_GET = do_POST = do_PUT = _route

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    held = claim(serves, f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield Settings(data_dir=serves, api_port=server.server_address[1])
    finally:
        held.close()
        server.shutdown()
        server.server_close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def one_token_then_gone(handler: BaseHTTPRequestHandler) -> None:
    """An answer stream whose server goes away after the first token."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    handler.wfile.write(b'event: token\ndata: {"text": "Half an ans"}\n\n')
    handler.wfile.flush()
    handler.close_connection = True


def test_the_cli_asks_an_api_only_when_it_serves_the_same_data_dir(tmp_path: Path) -> None:
    with stub_api(tmp_path / "data", {}) as same:
        assert running_api_for(same) == f"http://127.0.0.1:{same.api_port}"
        elsewhere = same.model_copy(update={"api_port": 9})  # the URL comes from the claim
        assert running_api_for(elsewhere) == f"http://127.0.0.1:{same.api_port}"
        assert running_api_for(same.model_copy(update={"data_dir": tmp_path / "other"})) is None
        assert running_api_for(same.model_copy(update={"chroma_url": "http://chroma:8000"})) is None
    assert running_api_for(same) is None  # its claim went with it


def test_a_second_writer_of_an_embedded_index_is_refused_before_it_starts(tmp_path: Path) -> None:
    """Embedded Chroma holds its HNSW index in each process: a second API on the same data dir,
    or a second worker, saw none of what the other ingested, its searches failing while its
    /health said ok. `tutor serve` refuses both, saying what to do; with a Chroma server,
    workers are what it is for (tests/test_scale_out.py)."""
    with stub_api(tmp_path / "data", {}) as served:
        second = tutor(served.data_dir, "serve", "--port", str(free_port()))
        everything = tutor(served.data_dir, "up")  # `tutor up`: before it opens the index
    for refused in (second, everything):
        assert refused.returncode == 2, refused.stdout + refused.stderr
        told = " ".join(refused.stderr.split())
        assert f"another API (http://127.0.0.1:{served.api_port}) already serves" in told
        assert "its own --data-dir" in told

    workers = tutor(tmp_path / "fresh", "serve", "--workers", "2")
    assert workers.returncode == 2
    assert "--workers N needs a Chroma server (TUTOR_CHROMA_URL)" in " ".join(
        workers.stderr.split()
    )


def test_an_api_started_at_the_same_instant_as_another_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both looked before either held the data dir: the second's claim, not its look, refuses
    it, with the same message and no traceback."""
    import app.search.lock as lock

    monkeypatch.setattr(lock, "owner", lambda data_dir: None)  # looked before the first held
    monkeypatch.setattr(lock, "CLAIM_WAIT_S", 0.1)
    with stub_api(tmp_path / "data", {}) as served:
        second = tutor(served.data_dir, "serve", "--port", str(free_port()))
    assert second.returncode == 2, second.stdout + second.stderr
    told = " ".join(second.stderr.split())
    assert f"another API (http://127.0.0.1:{served.api_port}) already serves" in told
    assert "Traceback" not in second.stderr and "API on" not in second.stdout  # no banner first


def test_serve_on_a_port_another_program_holds_says_so_and_what_to_do(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        refused = tutor(tmp_path / "data", "serve", "--port", str(port))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    told = " ".join(refused.stderr.split())
    assert f"port {port} on 127.0.0.1 is in use by another program" in told
    assert "--port (or TUTOR_API_PORT)" in told and "API on" not in refused.stdout
    assert not (tmp_path / "data" / "api.lock").exists()  # refused before it claimed anything


def test_an_ingest_the_api_refuses_is_told_as_refused(tmp_path: Path) -> None:
    """The API owns the index and refuses a folder outside its TUTOR_INGEST_ROOTS: the
    command says so (exit 2), not that the API "did not answer" (a helper's find)."""
    detail = "/x is outside the folders this server ingests from: add it to TUTOR_INGEST_ROOTS"
    (tmp_path / "notes").mkdir()
    with stub_api(tmp_path / "data", {"/ingest": lambda h: reply(h, 403, {"detail": detail})}):
        refused = tutor(tmp_path / "data", "ingest", str(tmp_path / "notes"))
    assert refused.returncode == 2, refused.stderr
    told = " ".join(refused.stderr.split())
    assert "add it to TUTOR_INGEST_ROOTS" in told and "did not answer" not in told


def test_an_api_answer_is_used_and_an_api_error_falls_back_here_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hit = {
        "source": "a.md",
        "title": "A",
        "heading": "A",
        "week": 3,
        "score": 0.5,
        "text": "t",
        "url": "https://example.org/a",
    }
    routes: dict[str, Route] = {"/search": lambda h: reply(h, 200, [hit])}
    with stub_api(tmp_path, routes) as settings:

        def search() -> object:
            return via_api_or_here(settings, lambda api: api.search("q", 1, None), lambda: "here")

        assert search() == [{k: v for k, v in hit.items() if k != "url"}]  # the JSON contract
        assert capsys.readouterr().err == ""
        routes["/search"] = lambda h: reply(h, 503, {"detail": "the index is locked"})
        assert search() == "here"
    note = " ".join(capsys.readouterr().err.split())
    assert "failed (HTTP 503: the index is locked); answering here instead" in note


@pytest.fixture
def course(tmp_path: Path, corpus_dir: Path) -> Path:
    """A copy of the indexed corpus: asking writes the learner database beside the index."""
    shutil.copytree(corpus_dir, tmp_path / "data")
    return tmp_path / "data"


def test_asking_without_a_week_adopts_none(course) -> None:
    """Only a week the learner gives becomes theirs: a second plain `tutor ask` used the
    plan's default (week 1) and then saved it as theirs, saying "Week 1 is now your week"
    (a helper's find)."""
    for _ in range(2):
        asked = tutor(course, "ask", PLAN_QUESTION, "--json")
        assert asked.returncode == 0, asked.stderr
        assert "now your week" not in asked.stderr
    learner = LearnerRecords(f"sqlite:///{course / 'tutor.db'}").existing_local_learner()
    assert learner is not None and learner.current_week is None


def in_week(week: int) -> Route:
    """GET /learners/{id} of a learner who said they are in `week`."""
    return lambda h: reply(h, 200, {"current_week": week, "week_set_on": "2026-12-01"})


def test_an_api_gone_mid_answer_or_failing_is_answered_here_without_a_traceback(course) -> None:
    routes: dict[str, Route] = {"/ask/stream": one_token_then_gone, "/learners/N": in_week(18)}
    with stub_api(course, routes) as settings:
        env = {"TUTOR_API_PORT": str(settings.api_port)}
        plain = tutor(course, "ask", PLAN_QUESTION, "--week", "18", env=env)
        routes["/ask/stream"] = lambda h: reply(h, 500, {"detail": "boom"})
        as_json = tutor(course, "ask", PLAN_QUESTION, "--week", "18", "--json", env=env)
    assert plain.returncode == 0 and as_json.returncode == 0
    assert "stream ended before the answer" in plain.stderr and "HTTP 500: boom" in as_json.stderr
    assert "answering here instead" in as_json.stderr and "Traceback" not in plain.stderr
    assert "Half an ans" not in plain.stdout and "curriculum/week-18" in plain.stdout
    assert json.loads(as_json.stdout)["citations"][0]["source"] == "curriculum/week-18"


def answered(seen: list[str | None]) -> Route:
    """POST /ask/stream answering at once, noting the Authorization header it came with."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        seen.append(handler.headers.get("Authorization"))
        answer = {
            "question": PLAN_QUESTION,
            "answer": "Read chapter two.",
            "citations": [],
            "grounded": True,
            "conversation_id": "c" * 32,
            "week": 18,
        }
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        handler.wfile.write(event("done", answer).encode())
        handler.close_connection = True

    return route


ASKED_HERE_AND_IMPORTS = """
import sys
from app.cli import main
sys.argv = ["tutor", "ask", {question!r}, "--data-dir", {data_dir!r}]
try:
    main()
except SystemExit:
    pass
print("sqlalchemy imported:", "sqlalchemy" in sys.modules, file=sys.stderr)
"""


def test_through_the_api_you_ask_as_your_learner_with_no_database_opened_here(course) -> None:
    """The command line's learner is the API's learner too, by a token kept in `local.key`
    (0600), made on the first question: the API reads the learner's week and keeps their
    conversation, and the command line, which no longer opens the database, skips a fifth of a
    second of SQLAlchemy imports (issue #28)."""
    seen: list[str | None] = []
    routes = {"/ask/stream": answered(seen), "/learners/N": in_week(18)}
    with stub_api(course, routes) as settings:
        env = {"TUTOR_API_PORT": str(settings.api_port)}
        first = tutor(course, "ask", PLAN_QUESTION, env=env)
        assert first.returncode == 0, first.stderr
        assert "week 18: yours" in first.stdout and "Read chapter two." in first.stdout
        key = course / "local.key"
        assert key.stat().st_mode & 0o777 == 0o600
        token = seen[-1].removeprefix("Bearer ")
        learner = LearnerRecords(f"sqlite:///{course / 'tutor.db'}").by_token(token)
        assert learner is not None and learner.local

        script = ASKED_HERE_AND_IMPORTS.format(question=PLAN_QUESTION, data_dir=str(course))
        second = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, **env},
            timeout=120,
        )
        assert "Read chapter two." in second.stdout, second.stderr
        assert "sqlalchemy imported: False" in second.stderr and seen[-1] == f"Bearer {token}"

        routes["/learners/N/conversations/nope"] = lambda h: reply(h, 404, {"detail": "no"})
        unknown = tutor(course, "ask", "--conversation", "nope", "and?", env=env)
        assert unknown.returncode == 2 and "there is no conversation nope" in unknown.stderr
        assert read_key(settings) is not None  # an unknown conversation is not an unknown key

        key.chmod(0o644)  # readable by others: not trusted, made again
        assert tutor(course, "ask", PLAN_QUESTION, env=env).returncode == 0
        assert seen[-1] != f"Bearer {token}" and key.stat().st_mode & 0o777 == 0o600


def test_a_key_the_api_does_not_know_is_forgotten_and_the_question_answered_here(
    course,
) -> None:
    """A learner database replaced, or an API keeping another one: 401. The question is
    answered here (with a note) and the next one makes a new key."""
    routes = {"/learners/N": lambda h: reply(h, 401, {"detail": "unknown token"})}
    with stub_api(course, routes) as settings:
        env = {"TUTOR_API_PORT": str(settings.api_port)}
        asked = tutor(course, "ask", PLAN_QUESTION, "--json", env=env)
    assert asked.returncode == 0 and json.loads(asked.stdout)["citations"]
    told = " ".join(asked.stderr.split())
    assert "failed (it does not know your learner's key (HTTP 401)" in told
    assert "give both the same); answering here instead" in told
    assert not (course / "local.key").exists()


def test_a_follow_up_continues_your_last_conversation_or_the_one_named(course) -> None:
    first = tutor(course, "ask", PLAN_QUESTION, "--week", "18")
    assert first.returncode == 0, first.stderr
    started = json.loads(
        tutor(course, "ask", "What do I read in week 6?", "--week", "6", "--json").stdout
    )["conversation_id"]
    earliest = re.search(r"conversation ([0-9a-f]{32})", first.stdout).group(1)
    assert started != earliest  # each question without --continue starts its own
    follow_up = json.loads(
        tutor(course, "ask", "--continue", PLAN_QUESTION, "--week", "6", "--json").stdout
    )
    assert follow_up["conversation_id"] == started
    named = tutor(course, "ask", "--conversation", earliest, PLAN_QUESTION, "--week", "18")
    assert named.returncode == 0 and f"conversation {earliest}" in named.stdout


def test_a_follow_up_with_nothing_to_follow_says_what_to_do(tmp_path: Path) -> None:
    nothing = tutor(tmp_path, "ask", "--continue", "and why?", "--week", "7")
    assert nothing.returncode == 2 and "ask a question first" in nothing.stderr
    assert "now your week" not in nothing.stderr  # a refused question changes nothing
    learner = LearnerRecords(f"sqlite:///{tmp_path / 'tutor.db'}").existing_local_learner()
    assert learner is None or learner.current_week is None
    unknown = tutor(tmp_path, "ask", "--conversation", "nope", "and why?")
    assert unknown.returncode == 2 and "there is no conversation nope here" in unknown.stderr
    both = tutor(tmp_path, "ask", "--continue", "--conversation", "nope", "and why?")
    assert both.returncode == 2 and "not both" in both.stderr


def test_the_help_of_search_and_ask_teaches_with_examples(tmp_path: Path) -> None:
    assert 'tutor search "LSTM forget gate" --k 3' in tutor(tmp_path, "search", "--help").stdout
    help_text = tutor(tmp_path, "ask", "--help").stdout
    assert 'tutor ask --continue "And what happens without it?"' in help_text
    assert "tutor ask --conversation" in help_text
    assert "with [n] citations" in help_text  # not read as rich markup and dropped


def test_help_prose_wraps_at_the_terminals_width_and_examples_stay_as_written(
    tmp_path: Path,
) -> None:
    """Typer keeps a docstring's line breaks: at 80 columns a sentence broke mid-way."""
    doc = """First line.

    A paragraph
    over two lines.

    [dim]Examples:[/dim]
      tutor x   one
      tutor y   two
    """
    assert reflowed(doc) == (
        "First line.\n\nA paragraph over two lines.\n\n"
        "[dim]Examples:[/dim]\n  tutor x   one\n  tutor y   two"
    )
    shown = tutor(tmp_path, "ask", "--help").stdout  # 200 columns
    assert "the question goes through it and its model is already loaded" in shown


def test_every_commands_help_has_examples_and_names_its_settings() -> None:
    from typer.main import get_command
    from typer.testing import CliRunner

    from app.cli import app

    runner = CliRunner()
    assert "TUTOR_*" in runner.invoke(app, ["--help"]).output
    for name in get_command(app).commands:
        text = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"}).output
        assert "Examples:" in text and "TUTOR_" in text, name


@contextmanager
def serving(data_dir: Path) -> Iterator[dict[str, str]]:
    """`tutor serve` on `data_dir`; yields the variables that point the CLI at it."""
    env = {"TUTOR_API_PORT": str(free_port())}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--data-dir", str(data_dir)],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{env['TUTOR_API_PORT']}/health", timeout=120)
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)


def comparable(answer: dict) -> dict:
    """An answer without what differs between any two askings: its new id and its timings."""
    return {k: v for k, v in answer.items() if k not in ("conversation_id", "timings_ms")}


@pytest.mark.slow
def test_search_and_ask_through_the_api_print_what_they_print_here(course) -> None:
    search = ("search", "Adam bias correction", "--k", "3")
    ask = ("ask", PLAN_QUESTION, "--week", "18")
    here = [
        tutor(course, *search),
        tutor(course, *search, "--json"),
        tutor(course, *ask, "--json"),
        tutor(course, *ask),
    ]
    # An encoder that can't load here proves the API did the work.
    with serving(course) as env:
        env["TUTOR_EMBEDDING_MODEL"] = str(course / "no-such-model")
        there = [
            tutor(course, *search, env=env),
            tutor(course, *search, "--json", env=env),
            tutor(course, *ask, "--json", env=env),
            tutor(course, *ask, env=env),
        ]
    assert all(r.returncode == 0 for r in here + there), [r.stderr for r in here + there]
    assert there[0].stdout == here[0].stdout and there[1].stdout == here[1].stdout
    assert comparable(json.loads(there[2].stdout)) == comparable(json.loads(here[2].stdout))

    def without_id(stdout: str) -> str:
        return stdout.split("\nconversation ")[0]

    assert without_id(there[3].stdout) == without_id(here[3].stdout)
    assert "conversation " in there[3].stdout


@pytest.mark.slow
@pytest.mark.parametrize("through_api", [False, True], ids=["here", "through-the-api"])
def test_a_follow_up_is_read_with_the_question_before_it(course, through_api: bool) -> None:
    question, follow_up = "What does dropout do?", "Why does that help?"
    with serving(course) if through_api else nullcontext({}) as env:
        first = json.loads(
            tutor(course, "ask", question, "--mode", "quick", "--json", env=env).stdout
        )
        second = json.loads(
            tutor(
                course, "ask", "--continue", follow_up, "--mode", "quick", "--json", env=env
            ).stdout
        )
        # Ids that, put in the API's URL as they were, named other routes of it (200).
        for unknown in ("..", ".", f"{first['conversation_id']}?y", "#x", ""):
            refused = tutor(course, "ask", "--conversation", unknown, "and?", env=env)
            assert refused.returncode == 2, (unknown, refused.stdout, refused.stderr)
            assert "answering here instead" not in refused.stderr, unknown
    assert first["grounded"] and second["conversation_id"] == first["conversation_id"]
    assert second["standalone_question"] == f"{question} {follow_up}"
    # One learner with the API or without it: what it kept, this process continues.
    third = json.loads(
        tutor(
            course, "ask", "--continue", "And when is it off?", "--mode", "quick", "--json"
        ).stdout
    )
    assert third["conversation_id"] == first["conversation_id"]


def test_the_terminal_shows_an_answers_formulas_exactly_as_written(tmp_path: Path) -> None:
    """A Markdown renderer eats a formula's `\\,` and `_` (`\\mathbb{E}_{x,\\,y}` printed as
    `\\mathbb{E}{x,,y}`): the answer is printed as the tutor wrote it."""
    formula = r"$\mathbb{E}_{x,\,y\sim\pi_\theta}[r(x,\,y)]$"
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "rlhf.md").write_text(
        "# The RLHF objective\n\n"
        f"The RLHF objective maximizes the expected reward {formula} of the policy's samples.\n"
    )
    data_dir = tmp_path / "data"
    assert tutor(data_dir, "ingest", str(notes)).returncode == 0
    shown = tutor(data_dir, "ask", "What does the RLHF objective maximize?")
    assert shown.returncode == 0, shown.stderr
    assert formula in shown.stdout, shown.stdout

"""Shared fixtures: real folders, real files; nothing here fakes the product path."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest

from app.records.conversations import AnonymousConversationRecords
from app.records.conversations import throwaway_memory

REPO = Path(__file__).resolve().parent.parent

# pytest-xdist starts its workers with COLUMNS=80, and Rich fixes a console's width from it when
# the console is made (app.cli makes its own at import): tests that invoke the CLI in this
# process set the width they want per call, as a terminal would.
os.environ.pop("COLUMNS", None)
PUBLIC_NOTES = REPO.parent / "shared" / "public-notes"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data dir, also exported as TUTOR_DATA_DIR so every command uses it."""
    path = tmp_path / "data"
    monkeypatch.setenv("TUTOR_DATA_DIR", str(path))
    return path


@pytest.fixture
def public_notes() -> Path:
    if not PUBLIC_NOTES.is_dir():
        pytest.skip(f"public notes not found at {PUBLIC_NOTES}")
    return PUBLIC_NOTES


@pytest.fixture(scope="session")
def embedder():
    """The real packaged all-MiniLM-L6-v2, loaded once for the whole run (the same one the
    quiz generators embed the notes' concepts with)."""
    from app.practice.distractors import default_embedder

    return default_embedder()


@dataclass
class CorpusIndex:
    """The bundled corpus (curriculum and our notes), ingested once for the whole run: the
    data dir, never written to after, and what the ingest reported."""

    data_dir: Path
    summary: Any

    def copy(self, folder: Path) -> Path:
        """A copy of the index in `folder` (7 MB, copied in well under a second), to write to."""
        shutil.copytree(self.data_dir, folder / "corpus-index")
        return folder / "corpus-index"


# Test files, longest first (a run's --durations summed per file, on a quiet 2-core machine).
# `make test` hands whole files to its workers in collection order (--dist loadfile with
# --no-loadscope-reorder), so these start first and the short files fill in at the end: picked
# up last, a long file kept one worker busy for minutes while the other sat idle.
LONGEST_FIRST = [
    "test_checks.py",  # first: it needs no index, so one worker works while the other builds it
    "test_evals.py",
    "test_api.py",
    "test_service.py",
    "test_ui_browser.py",
    "test_ingest.py",
    "test_learner_flows.py",
    "test_scale_out.py",
    "test_ui.py",
    "test_answer_cases.py",
    "test_check_reaping.py",
    "test_quiz.py",
    "test_search.py",
    "test_learners.py",
    "test_encoder.py",
    "test_llm.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest as found


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, worker_id: str) -> CorpusIndex:
    """Ingested once per run, however many xdist workers share it: the first to get here builds
    it under a file lock, as `tutor ingest` would (ingest's own encoder), while the others wait;
    then each worker takes its own copy, since an embedded Chroma belongs to one process. Built
    per worker, it took each of two workers half a minute at the same time."""
    import pickle

    from filelock import FileLock

    from app.config import Settings
    from app.ingest.pipeline import CORPUS_DIR
    from app.ingest.pipeline import Ingestor

    # The run's own folder: a worker's base temp is inside it, the single process's is it.
    run = tmp_path_factory.getbasetemp()
    run = run if worker_id == "master" else run.parent
    built = run / "corpus-index-built"
    with FileLock(str(run / "corpus-index.lock")):
        if not (built / "summary.pickle").exists():
            summary = Ingestor(Settings(data_dir=built / "data")).run([str(CORPUS_DIR)])
            (built / "summary.pickle").write_bytes(pickle.dumps(summary))
    data_dir = tmp_path_factory.mktemp("corpus-index")
    shutil.copytree(built / "data", data_dir, dirs_exist_ok=True)
    return CorpusIndex(data_dir, pickle.loads((built / "summary.pickle").read_bytes()))


@pytest.fixture
def corpus_dir(corpus_index: CorpusIndex, tmp_path: Path) -> Path:
    """This test's own copy of the bundled corpus's index: a test may write to it (a learner
    database, an API lock) without another test, here or in a parallel worker, finding what
    it left. Module fixtures take `corpus_index.copy(tmp_path_factory.mktemp(...))`."""
    return corpus_index.copy(tmp_path)


POSTGRES = "TUTOR_TEST_POSTGRES_URL"


DATABASES = ["sqlite", "postgresql"]


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a fresh, empty learner database: SQLite in `folder`, or a database of its
    own on PostgreSQL (`postgres_database`)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'tutor.db'}"
        return
    with postgres_database() as url:
        yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    """The SQLAlchemy URL of a fresh database of its own on the PostgreSQL server that
    TUTOR_TEST_POSTGRES_URL names (`.ci/run` starts one), dropped afterwards; without that
    server the test skips and says so."""
    server = os.environ.get(POSTGRES)
    if not server:
        pytest.skip(
            f"{POSTGRES} is not set: no PostgreSQL server to test against (.ci/run starts one)"
        )
    import uuid

    import psycopg
    from sqlalchemy import make_url

    from app.config import Settings

    name = f"tutor_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(Settings(database_url=server).resolved_database_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def at_revision(database_url: str, revision: str) -> Iterator[Any]:
    """A database migrated only up to `revision`, as an older release left it: a connection in
    one transaction, to write its rows as that release did with plain SQL."""
    from sqlalchemy import create_engine

    from app.records.base import migrate

    migrate(database_url, revision=revision)
    engine = create_engine(database_url)
    try:
        with engine.begin() as db:
            yield db
    finally:
        engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty learner database for each test, on SQLite and on PostgreSQL."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def memory() -> Iterator[AnonymousConversationRecords]:
    """A conversation memory that follow-ups in a test share (an anonymous caller's)."""
    with throwaway_memory() as kept:
        yield kept


@pytest.fixture
def settings(data_dir: Path):
    from app.config import Settings

    return Settings(data_dir=data_dir)


@pytest.fixture
def ingestor(settings, embedder):
    from app.ingest.pipeline import Ingestor

    return Ingestor(settings, embedder=embedder)


def tutor(
    data_dir: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The real `tutor` command on `data_dir`, run in this process by Typer's test runner (a
    child process would start Python and Torch again for each of some 90 calls); `env` adds
    variables for the call. An exception the command did not handle comes back as a child
    process shows it: exit code 1 and the traceback on stderr."""
    import traceback

    from typer.testing import CliRunner

    from app.cli import app

    result = CliRunner().invoke(
        app,
        [*args, "--data-dir", str(data_dir)],
        input=stdin,
        env={"COLUMNS": "200", **(env or {})},
    )
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["tutor", *args], result.exit_code, result.stdout, stderr)


def tutor_process(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """The real `tutor` command in a child process of its own, as a user starts it (a fresh
    Python: what it imports, loads and prints on its own); `env` adds variables."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=REPO,
        timeout=timeout,
    )


def local_client(app, **kwargs):
    """A test client talking as a program on this machine does: to Host localhost, from
    127.0.0.1 (Starlette's default, Host "testserver" from "testclient", is neither)."""
    from fastapi.testclient import TestClient

    return TestClient(
        app, base_url="http://localhost", **{"client": ("127.0.0.1", 50000), **kwargs}
    )


@pytest.fixture
def api_client(settings, database_url):
    """The API on a fresh learner database (SQLite, and PostgreSQL when a server is given)."""
    from app.api import create_app

    with local_client(create_app(settings.model_copy(update={"database_url": database_url}))) as c:
        yield c


def as_new_learner(client, method: str, path: str, body: object):
    """`method` on `path` below a learner made for the call, with their token: the response."""
    base, auth = new_learner(client)
    return client.request(method, f"{base}{path}", json=body, headers=auth)


def new_learner(client, **fields) -> tuple[str, dict[str, str]]:
    """Sign a learner up through the API: their base path (/learners/N) and auth header."""
    response = client.post("/learners", json={"name": "Ada", **fields})
    assert response.status_code == 201, response.text
    body = response.json()
    return f"/learners/{body['id']}", {"Authorization": f"Bearer {body['token']}"}


def due_now(database_url: str) -> None:
    """Every review card due a minute ago, as if the learner came back later: a card that is
    not due can't be rated (case 19)."""
    from sqlalchemy import update

    from app.records.learners import LearnerRecords
    from app.records.reviews import ReviewCard

    store = LearnerRecords(database_url)
    with store.sessions.begin() as session:
        past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1)
        session.execute(update(ReviewCard).values(due=past))
    store.close()


def working_sandbox(mechanism: str) -> str:
    """`mechanism` (bwrap, unshare, rlimits) if it runs a learner's file here, else the test
    skips. Probed at the test, once per process, never at collection: a probe slowed past its
    time limit on a loaded machine once made two workers collect different tests."""
    from app.checks.sandbox import works

    if not works(mechanism):
        pytest.skip(f"the {mechanism} sandbox cannot run a learner's file on this machine")
    return mechanism


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 120) -> None:
    """Poll a local server until `url` answers 2xx (servers take a while to load models)."""
    import time

    from app.cli.launcher import answers

    deadline = time.time() + timeout
    while time.time() < deadline:
        if answers(url, timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Server:
    process: subprocess.Popen
    url: str


@contextmanager
def served(data_dir: Path, *args: str, log: Path | None = None, **env: str) -> Iterator[Server]:
    """`tutor serve [args]` in a subprocess on a free port, with `TUTOR_*` settings from `env`
    (`model_wait_s="1"` sets TUTOR_MODEL_WAIT_S; `api_port` picks the port); its output goes
    to `log` when given. Stopped afterwards unless the test did."""
    port = int(env.pop("api_port", 0)) or free_port()
    settings = {f"TUTOR_{name.upper()}": value for name, value in env.items()}
    with open(log or os.devnull, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", *args],
            cwd=REPO,
            env={
                **os.environ,
                "TUTOR_DATA_DIR": str(data_dir),
                "TUTOR_API_PORT": str(port),
                **settings,
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        wait_for(f"{server.url}/health", timeout=60)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


@dataclass
class ChromaServer:
    """A real Chroma server (`chroma run`) on loopback over `path`; stop it and start it again
    on the same port to play a server that goes away and comes back."""

    path: Path
    port: int = field(default_factory=lambda: free_port())
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        self.process = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(self.path),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"{self.url}/api/v2/heartbeat", timeout=60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing `text`, written out by hand (no PDF library needed to make it)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_with_a_blank_page(text: str) -> bytes:
    """Two pages: `text` on the first, none on the second (as a scanned page has no text layer)."""
    from io import BytesIO

    from pypdf import PdfReader
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=PdfReader(BytesIO(minimal_pdf(text))))
    writer.add_blank_page()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()

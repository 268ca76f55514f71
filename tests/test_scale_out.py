"""Scale-out as a study group's server runs it: two API processes (one with two workers), each
with a data dir of its own, sharing one PostgreSQL, one Chroma server and one OpenAI-compatible
model server, all started with exactly the commands of the "Running a study group" guide (docs/study-group.md)
(read from the study-group guide here and run, `$` values filled in). An ingest through either is seen
alike by both: its job status, the search results, and the conversations that follow."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from contextlib import contextmanager
from pathlib import Path
from string import Template

import httpx
import pytest
from sqlalchemy import make_url

from app.config import Settings
from app.ingest.pipeline import CORPUS_DIR
from tests.conftest import REPO
from tests.conftest import free_port
from tests.conftest import postgres_database
from tests.conftest import wait_for
from tests.conftest import write

GUIDE = REPO / "docs" / "study-group.md"
BIN = Path(sys.executable).parent
PROGRAMS = {"python": sys.executable, "chroma": str(BIN / "chroma"), "tutor": str(BIN / "tutor")}
NOTE = CORPUS_DIR / "notes" / "w18-attention.md"
QUERIES = [
    "why divide by the square root of d_k",
    "max pooling keeps the largest activation",
    "zorblax regularisation",
    "attention",
]


def readme_commands() -> list[str]:
    """The command lines of the study-group guide's first shell block, in order."""
    block = GUIDE.read_text().split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_readme_starts_every_shared_service_and_n_workers() -> None:
    programs = [shlex.split(line)[:2] for line in readme_commands()]
    assert programs[:3] == [
        ["export", "TUTOR_DATABASE_URL=postgresql://$PG_USER@$PG_HOST:$PG_PORT/$PG_DATABASE"],
        ["export", "TUTOR_CHROMA_URL=http://$CHROMA_HOST:$CHROMA_PORT"],
        ["export", "TUTOR_LLM_PROVIDER=openai"],
    ]
    assert [p[0] for p in programs[3:]] == ["chroma", "python", "tutor", "tutor"]
    assert "--workers $WORKERS" in readme_commands()[5]


class Deployment:
    """The study-group guide's lines, run with `values`: exports become the environment of what runs."""

    def __init__(self, values: dict[str, str]) -> None:
        lines = readme_commands()
        self.env: dict[str, str] = {}
        for line in lines[:3]:
            self.env.update(word.split("=", 1) for word in self.words(line, values)[1:])
        self.lines = dict(zip(["chroma", "model", "serve", "ingest"], lines[3:]))
        self.values = values

    @staticmethod
    def words(line: str, values: dict[str, str]) -> list[str]:
        words = shlex.split(Template(line).substitute(values))
        return [PROGRAMS.get(words[0], words[0]), *words[1:]]

    def command(self, name: str, **values: str) -> list[str]:
        return self.words(self.lines[name], self.values | values)

    @contextmanager
    def running(self, name: str, ready: str, **values: str) -> Iterator[None]:
        process = subprocess.Popen(
            self.command(name, **values),
            cwd=REPO,
            env=self.environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(ready, timeout=180)
            yield
        finally:
            process.terminate()
            process.wait(timeout=30)

    def environment(self) -> dict[str, str]:
        import os

        inherited = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
        return inherited | self.env


def searches(url: str) -> list[list[dict]]:
    return [
        httpx.get(f"{url}/search", params={"q": q, "k": 8}, timeout=60).raise_for_status().json()
        for q in QUERIES
    ]


def search_here(chroma_url: str, data_dir: Path, embedder) -> list[list[dict]]:
    """The same searches in this process, on a fresh data dir: what any worker should answer,
    its BM25 index built from the chunks in Chroma from scratch."""
    from app.search.lexical import LexicalIndex
    from app.search.retrieval import Retriever
    from app.search.retrieval import prerequisites_by_week
    from app.search.vectors import VectorStore

    store = VectorStore(Settings(data_dir=data_dir, chroma_url=chroma_url))
    retriever = Retriever(store, embedder, LexicalIndex(store, data_dir), prerequisites_by_week())
    return [[hit.to_dict() | {"url": hit.url} for hit in retriever.search(q, k=8)] for q in QUERIES]


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_two_api_processes_share_jobs_search_and_conversations(tmp_path: Path, embedder) -> None:
    from app.llm.providers import local_model_path

    with postgres_database() as database, ExitStack() as stack:
        db = make_url(database)
        a, b = str(free_port()), str(free_port())
        deployment = Deployment(
            {
                "PG_USER": f"{db.username}:{db.password}" if db.password else str(db.username),
                "PG_HOST": str(db.host),
                "PG_PORT": str(db.port),
                "PG_DATABASE": str(db.database),
                "CHROMA_HOST": "127.0.0.1",
                "CHROMA_PORT": str(free_port()),
                "CHROMA_DIR": str(tmp_path / "chroma"),
                "MODEL_HOST": "127.0.0.1",
                "MODEL_PORT": str(free_port()),
                "MODEL_GGUF": str(local_model_path(Settings())),
                "API_HOST": "127.0.0.1",
                "NOTES": str(tmp_path / "notes"),
            }
        )
        chroma = f"http://127.0.0.1:{deployment.values['CHROMA_PORT']}"
        model = f"http://127.0.0.1:{deployment.values['MODEL_PORT']}/v1"
        stack.enter_context(deployment.running("chroma", f"{chroma}/api/v2/heartbeat"))
        stack.enter_context(deployment.running("model", f"{model}/models"))
        one, other = f"http://127.0.0.1:{a}", f"http://127.0.0.1:{b}"
        for host, port, workers in (("a", a, "2"), ("b", b, "1")):  # two hosts, one cache each
            url = f"http://127.0.0.1:{port}/health"
            cache = str(tmp_path / f"host-{host}")
            stack.enter_context(
                deployment.running("serve", url, API_PORT=port, WORKERS=workers, CACHE_DIR=cache)
            )

        # The UI's "Build the library" on host A; its status read from host B.
        started = httpx.post(f"{one}/ingest", json={"paths": [str(NOTE)]}, timeout=30)
        assert started.status_code == 202, started.text
        job = started.json()
        deadline = time.monotonic() + 600
        while job["state"] == "running":
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
            job = httpx.get(f"{other}/ingest/{job['id']}", timeout=30).json()
        assert job["state"] == "done" and job["summary"]["added"] == 1, job
        assert httpx.get(f"{one}/ingest/{job['id']}", timeout=30).json() == job
        assert searches(one) == searches(other)
        assert searches(one) == search_here(chroma, tmp_path / "here-1", embedder)

        # The study-group guide's `tutor ingest` on host B: host A searches the new note at once.
        write(
            tmp_path / "notes" / "pooling.md",
            "# Pooling\n\nMax pooling keeps the largest "
            "activation in each window. Zorblax regularisation is a made-up word.\n",
        )
        ingested = subprocess.run(
            deployment.command("ingest", CACHE_DIR=str(tmp_path / "host-b")),
            cwd=REPO,
            env=deployment.environment(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert ingested.returncode == 0, ingested.stderr
        found = searches(one)
        assert found == searches(other)
        assert found[2][0]["source"] == "pooling.md"  # found by its one rare word (BM25)
        assert found == search_here(chroma, tmp_path / "here-2", embedder)

        # An anonymous conversation begun on host A continues on host B, answered by the
        # model server.
        question = {"question": "What does max pooling keep?", "conversation_id": "c" * 32}
        first = httpx.post(f"{one}/ask", json=question, timeout=600).json()
        assert first["grounded"] and first["writer"] == "model", first
        follow_up = httpx.post(
            f"{other}/ask", timeout=600, json=question | {"question": "And in each window?"}
        ).json()
        assert "What does max pooling keep?" in follow_up["standalone_question"], follow_up
        for url in (one, other):
            health = httpx.get(f"{url}/health", timeout=30).json()
            assert health["status"] == "ok" and health["ready"], health

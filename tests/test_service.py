"""The service under load and abuse, as a study group would run it (case 13): a real `tutor serve`
in a subprocess, real HTTP clients, the real local model.

A client that hangs up mid-answer frees the model at once; a busy model queues
questions fairly, tells a newcomer its place at once and turns away what it can't serve in
time (503 + Retry-After); /health never waits on the model; SIGTERM stops the server
mid-answer within seconds."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ChromaServer
from tests.conftest import Server
from tests.conftest import served

pytestmark = pytest.mark.slow

# The model writes the answers here (with the packaged model the default answer is composed
# from the sources without it), so a question keeps it busy for seconds.
MODEL_WRITES = {"answer_writer": "model"}
# A concept question the notes cover, answered at length: the model is busy for seconds.
LONG = {
    "question": "Explain how the attention mechanism in transformers works, step by step.",
    "week": 18,
    "mode": "explain",
}


def events_of(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """A streaming response's server-sent events, as they arrive."""
    name = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))


def model_queue(url: str) -> dict[str, int]:
    return httpx.get(f"{url}/health", timeout=5).json()["model_queue"]


def wait_until_answering(url: str, timeout: float = 120) -> None:
    """Until the model has taken a question (retrieval before it takes a while when busy)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5) as client:
        while client.get(f"{url}/health").json()["model_queue"]["running"] == 0:
            assert time.monotonic() < deadline, "the model never took the question"
            time.sleep(0.02)


def first_token_after(url: str, question: dict = LONG) -> float:
    """Seconds until an answer's first token; then hangs up (the rest is not needed)."""
    started = time.monotonic()
    with httpx.stream("POST", f"{url}/ask/stream", json=question, timeout=300) as response:
        for name, _ in events_of(response):
            if name == "token":
                return time.monotonic() - started
    raise AssertionError("the answer had no token")


def seconds_until_free(url: str, timeout: float = 30) -> float:
    started = time.monotonic()
    with httpx.Client(timeout=5) as client:
        while client.get(f"{url}/health").json()["model_queue"] != {"running": 0, "waiting": 0}:
            assert time.monotonic() - started < timeout, "the model was never freed"
            time.sleep(0.02)
    return time.monotonic() - started


class Answering(threading.Thread):
    """A learner streaming an answer in the background, until it is told to hang up."""

    def __init__(self, url: str, question: dict = LONG) -> None:
        super().__init__(daemon=True)
        self.url, self.question = url, question
        self.events: list[str] = []
        self.first_token = threading.Event()
        self.hang_up = threading.Event()

    def run(self) -> None:
        try:
            with (
                httpx.Client(timeout=120) as client,
                client.stream("POST", f"{self.url}/ask/stream", json=self.question) as response,
            ):
                for name, _ in events_of(response):
                    self.events.append(name)
                    if name == "token":
                        self.first_token.set()
                    if self.hang_up.is_set():
                        return
        except httpx.HTTPError:  # the server went away mid-answer
            self.events.append("cut off")

    def stop(self) -> None:
        self.hang_up.set()
        self.join(60)


@pytest.fixture(scope="module")
def server(corpus_index, tmp_path_factory) -> Iterator[Server]:
    """One server for the module, its model loaded by a first question."""
    with served(corpus_index.copy(tmp_path_factory.mktemp("service")), **MODEL_WRITES) as server:
        first_token_after(server.url)
        yield server


@pytest.mark.parametrize("after_s", [0.5, 1.0, 2.0])
def test_a_client_that_hangs_up_frees_the_model_at_once(server: Server, after_s: float) -> None:
    """Hang-ups 0.5 s (llama.cpp still reading the prompt), 1 and 2 s after the model took
    the question: counted from then, as retrieval before it takes seconds on a busy machine.

    On a quiet machine the model is free within a second (the figure is printed; bench/
    holds it). The test holds what does not depend on the machine's load: the model lets go
    sooner than the next question takes to reach its first token, so an abandoned answer
    never costs anybody a whole answer's time. (Reading the prompt is given up between two
    of llama.cpp's batches; on a loaded machine one batch took 17 s.)"""
    seconds_until_free(server.url)  # the question before has let go
    with (
        httpx.Client(timeout=60) as client,
        client.stream("POST", f"{server.url}/ask/stream", json=LONG) as response,
    ):
        assert response.status_code == 200
        events = events_of(response)  # kept: dropping it would close the connection here
        assert next(events)[0] == "queued"
        wait_until_answering(server.url)
        time.sleep(after_s)
        busy = model_queue(server.url)["running"]
    freed = seconds_until_free(server.url)  # the client and its connection are closed now
    print(
        f"\nhang-up {after_s} s into the answer (model busy: {busy}): "
        f"model free {freed:.3f} s later"
    )
    next_question = first_token_after(server.url)  # the next question gets the model
    print(f"the next question's first token after {next_question:.1f} s")
    assert busy == 1 and freed < max(1.0, next_question)


def test_a_newcomer_hears_its_place_at_once_and_health_never_waits(server: Server) -> None:
    first = Answering(server.url)
    first.start()
    try:
        # The model holds the first question (its first token is no sign of that: a fast build
        # can finish writing before the first checked sentence reaches the client).
        wait_until_answering(server.url)
        started = time.monotonic()
        with (
            httpx.Client(timeout=60) as client,
            client.stream("POST", f"{server.url}/ask/stream", json=LONG) as response,
        ):
            events = events_of(response)  # kept open until the end of the block
            name, data = next(events)
            heard = time.monotonic() - started
            waited = time.monotonic()
            health = httpx.get(f"{server.url}/health", timeout=5)
            health_s = time.monotonic() - waited
        print(f"\nqueued event after {heard:.3f} s; /health in {health_s:.3f} s while busy")
        assert response.status_code == 200 and (name, data) == ("queued", {"position": 1})
        assert heard < 1.0 and health_s < 1.0
        assert health.json()["model_queue"]["running"] == 1
    finally:
        first.stop()
    seconds_until_free(server.url)  # the model is let go (how soon: the hang-up test)


def test_a_question_that_cannot_start_in_time_gets_503_with_retry_after(corpus_dir: Path) -> None:
    with served(corpus_dir, model_queue_size="1", model_wait_s="1", **MODEL_WRITES) as server:
        first = Answering(server.url)
        first.start()
        try:
            # From the moment the model takes the first question, not its first sentence: the
            # answer streams sentence by sentence once each is checked, so its first "token"
            # may come near its end, and a second question then found the model free and the
            # wait below never ended (seen 2026-12-07, an answer of two sentences).
            wait_until_answering(server.url, timeout=300)
            waiting: dict[str, httpx.Response] = {}
            second = threading.Thread(
                target=lambda: waiting.setdefault(
                    "response", httpx.post(f"{server.url}/ask", json=LONG, timeout=60)
                )
            )
            second.start()
            deadline = time.monotonic() + 60
            while model_queue(server.url)["waiting"] == 0:
                assert time.monotonic() < deadline, "the second question never waited"
                time.sleep(0.01)
            full = httpx.post(f"{server.url}/ask/stream", json=LONG, timeout=60)
            second.join(30)
            late = waiting["response"]
            with httpx.stream("POST", f"{server.url}/ask/stream", json=LONG, timeout=60) as stream:
                streamed = list(events_of(stream))
            first.join(300)  # the first answer goes on to its end, whatever was turned away
        finally:
            first.stop()
    assert first.events.count("token") >= 1 and first.events[-1] == "done", first.events
    assert full.status_code == 503 and "TUTOR_MODEL_QUEUE_SIZE" in full.json()["detail"]
    assert int(full.headers["Retry-After"]) >= 1
    assert late.status_code == 503 and "TUTOR_MODEL_WAIT_S" in late.json()["detail"]
    assert int(late.headers["Retry-After"]) >= 1
    assert [name for name, _ in streamed] == ["queued", "error"]
    assert streamed[1][1]["retry_after"] >= 1 and "TUTOR_MODEL_WAIT_S" in streamed[1][1]["detail"]


def test_sigterm_stops_the_server_mid_answer_within_five_seconds(corpus_dir: Path) -> None:
    with served(corpus_dir, **MODEL_WRITES) as server:
        answering = Answering(server.url)
        answering.start()
        assert answering.first_token.wait(300)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
        stopped = time.monotonic() - started
    answering.join(10)
    print(
        f"\nSIGTERM mid-answer: stopped in {stopped:.2f} s; the client saw "
        f"{answering.events.count('token')} tokens, then {answering.events[-1]!r}"
    )
    assert stopped < 5.0


def test_serve_runs_several_workers_and_sigterm_stops_them_all(
    data_dir: Path, chroma_server: ChromaServer
) -> None:
    """Workers share a Chroma server (an embedded index is refused them, tests/test_cli_ask.py)."""
    with served(data_dir, "--workers", "2", chroma_url=chroma_server.url) as server:
        children = [
            int(pid)
            for pid in Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
            .read_text()
            .split()
        ]
        assert len(children) >= 2  # uvicorn's workers (and its resource tracker)
        healths = [httpx.get(f"{server.url}/health").json() for _ in range(4)]
        assert {health["status"] for health in healths} == {"ok"}, healths
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
        while [pid for pid in children if alive(pid)] and time.monotonic() - started < 5.0:
            time.sleep(0.05)  # workers (and the resource tracker) go as the parent does
        stopped = time.monotonic() - started
    assert stopped < 5.0, [pid for pid in children if alive(pid)]


def alive(pid: int) -> bool:
    """Running, or stopped but not yet reaped (a zombie has stopped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False

"""The HTTP API: health, the plan, search; errors are 4xx with a message that says what to do."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.config import Settings
from ingest.pipeline import Ingestor
from tests.conftest import REPO, write


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def indexed(settings, embedder, tmp_path: Path) -> Settings:
    write(tmp_path / "notes" / "pooling.md",
          "---\ntitle: Pooling\n---\n# Pooling\n\nMax pooling keeps the largest activation in each window.\n")
    Ingestor(settings, embedder=embedder).run([str(tmp_path / "notes")])
    return settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_health_on_an_empty_index_says_to_ingest(client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["ready"] is False and body["index_chunks"] == 0
    assert "tutor ingest" in body["detail"] and body["model_provider"] == "local"


def test_weeks_lists_all_72_with_which_are_detailed(client) -> None:
    weeks = client.get("/weeks").json()
    assert [w["number"] for w in weeks] == list(range(1, 73))
    assert weeks[17]["title"] == "Attention Mechanisms" and weeks[17]["detailed"]
    assert not weeks[60]["detailed"] and weeks[60]["month"] == 16


def test_one_week_is_the_same_json_as_tutor_plan(client) -> None:
    body = client.get("/weeks/18").json()
    assert body["week"]["reading"]["url"] == "https://arxiv.org/abs/1706.03762"
    assert body["next_capstone"]["after_week"] == 24


@pytest.mark.parametrize("path, status, message", [
    ("/weeks/0", 404, "valid weeks are 1-72"),
    ("/weeks/73", 404, "valid weeks are 1-72"),
    ("/weeks/eighteen", 422, "integer"),
    ("/search?q=x&week=99", 422, "less than or equal to 72"),
    ("/search?q=", 422, "at least 1 character"),
    ("/search?q=x&k=0", 422, "greater than or equal to 1"),
])
def test_bad_requests_get_a_4xx_that_says_what_is_wrong(client, path, status, message) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert message in response.text


def test_search_on_an_empty_index_is_a_conflict_with_advice(client) -> None:
    response = client.get("/search", params={"q": "pooling"})
    assert response.status_code == 409 and "tutor ingest" in response.json()["detail"]


def test_search_returns_hits_best_first(indexed) -> None:
    with TestClient(create_app(indexed)) as client:
        hits = client.get("/search", params={"q": "which pooling keeps the largest value", "k": 1}).json()
        assert client.get("/health").json()["ready"] is True
    assert hits[0]["source"] == "pooling.md" and hits[0]["heading"] == "Pooling"


def test_tutor_serve_answers_over_real_http(data_dir: Path) -> None:
    port = free_port()
    env = {**os.environ, "TUTOR_DATA_DIR": str(data_dir), "TUTOR_API_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                response = httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert response.status_code == 200
        assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == "Study Tutor"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_tutor_up_starts_the_api_and_the_ui_and_stops_both(indexed) -> None:
    api_port, ui_port = free_port(), free_port()
    env = {**os.environ, "TUTOR_DATA_DIR": str(indexed.data_dir), "TUTOR_API_PORT": str(api_port),
           "TUTOR_UI_PORT": str(ui_port)}
    up = subprocess.Popen([sys.executable, "-m", "app.cli", "up"], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in up.stdout:
            lines.append(line)
            if "Ctrl-C stops both" in line:
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{ui_port}" in output and f"http://127.0.0.1:{api_port}" in output
        assert httpx.get(f"http://127.0.0.1:{api_port}/health").json()["ready"] is True
        assert httpx.get(f"http://127.0.0.1:{ui_port}/_stcore/health").text == "ok"
    finally:
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=30) == 0
    for port in (api_port, ui_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)

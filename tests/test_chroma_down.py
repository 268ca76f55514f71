"""A Chroma server that goes away: /health says degraded and why, search and answers are 503s
naming TUTOR_CHROMA_URL (never a bare 500), and the API recovers by itself once the server is
back. A real `chroma run` process, stopped and started again on the same port and folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.api import create_app
from app.config import Settings
from app.ingest.pipeline import Ingestor
from tests.conftest import ChromaServer
from tests.conftest import local_client
from tests.conftest import write

pytestmark = pytest.mark.slow

QUESTION = {"question": "Which pooling keeps the largest activation?"}


@pytest.fixture
def settings(tmp_path: Path, chroma_server: ChromaServer, embedder) -> Settings:
    """An index of one note on the Chroma server."""
    write(
        tmp_path / "notes" / "pooling.md",
        "# Pooling\n\nMax pooling keeps the largest activation in each window.\n",
    )
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server.url)
    Ingestor(settings, embedder=embedder).run([str(tmp_path / "notes")])
    return settings


def assert_unavailable(client) -> None:
    health = client.get("/health")
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "degraded" and health.json()["ready"] is False
    assert "TUTOR_CHROMA_URL" in health.json()["detail"]
    for response in (
        client.get("/search", params={"q": "max pooling"}),
        client.post("/ask", json=QUESTION),
        client.post("/ask/stream", json=QUESTION),
    ):
        assert response.status_code == 503, response.text
        assert "TUTOR_CHROMA_URL" in response.json()["detail"]


def assert_available(client) -> None:
    assert client.get("/health").json()["status"] == "ok"
    hits = client.get("/search", params={"q": "which pooling keeps the largest value", "k": 1})
    assert hits.status_code == 200 and hits.json()[0]["source"] == "pooling.md"


def test_a_chroma_server_that_goes_away_is_a_503_and_the_api_recovers_when_it_returns(
    settings: Settings, chroma_server: ChromaServer
) -> None:
    with local_client(create_app(settings)) as client:
        assert_available(client)
        chroma_server.stop()
        assert_unavailable(client)
        chroma_server.start()
        assert_available(client)


def test_an_api_started_while_chroma_is_down_serves_once_it_is_up(
    settings: Settings, chroma_server: ChromaServer
) -> None:
    chroma_server.stop()
    with local_client(create_app(settings)) as client:
        assert_unavailable(client)
        chroma_server.start()
        assert_available(client)

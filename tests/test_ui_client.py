"""The UI's HTTP client: every session's calls go over a few kept-open connections."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from app.ui.client import Api
from app.ui.client import ApiError
from app.ui.client import Unreachable
from tests.conftest import free_port
from tests.conftest import served


class Counting(BaseHTTPRequestHandler):
    """Answers every GET with `{"path": ...}` on a kept-open connection; counts connections."""

    protocol_version = "HTTP/1.1"  # keep-alive
    connections = 0

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def do_GET(self) -> None:
        status = 404 if self.path == "/missing" else 200
        body = json.dumps({"path": self.path} if status == 200 else {"detail": "no such thing"})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    Counting.connections = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_pages_calls_reuse_one_connection_whoever_makes_them(api: str) -> None:
    """A UI page makes about eight calls; a connection (and an SSL context, 33 ms of CPU) per
    call was half of each rerun's time. Learners' sessions share the process's client."""
    anonymous = Api(api)
    learner = anonymous.as_learner("a-token")
    assert [anonymous.get("/plan"), learner.get("/pace"), anonymous.get("/health")] == [
        {"path": "/plan"},
        {"path": "/pace"},
        {"path": "/health"},
    ]
    with pytest.raises(ApiError, match="no such thing") as failed:
        learner.get("/missing")
    assert failed.value.status == 404
    assert Counting.connections == 1


def test_a_call_after_the_api_was_killed_and_restarted_reconnects(data_dir: Path) -> None:
    """A kept connection to an API that died is replaced on the next call, not reported as a
    failure; while nothing listens, the call says how to start the API."""
    port = str(free_port())
    with served(data_dir, api_port=port) as server:
        api = Api(server.url)
        assert api.get("/health")["status"] == "ok"
        server.process.kill()
        server.process.wait()
        with pytest.raises(Unreachable, match="tutor serve"):
            api.get("/health")
    with served(data_dir, api_port=port):
        assert api.get("/health")["status"] == "ok"

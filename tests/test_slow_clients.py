"""Slow and many clients, over real sockets: nginx with the shipped `deploy/nginx.conf` in front
of a real `tutor serve`, as a study group runs it (docs/study-group.md, "Slow and many clients").

uvicorn has no timeout on receiving a request, so a client that never finishes its headers
would hold a connection to it for as long as it likes. nginx drops such a client within
`client_header_timeout`, and one whose body stalls within `client_body_timeout`; it lets one
address have `limit_conn` requests in progress at once; and other clients are served all the
while. The limits are read from the shipped file, so this test checks the values it states.
Directly, uvicorn (h11) turns away request headers larger than TUTOR_MAX_HEADER_KB.

Any 127.x.y.z address is this machine's loopback; to nginx, 127.0.0.2 is another client."""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app.config import Settings
from tests.conftest import REPO
from tests.conftest import free_port
from tests.conftest import served
from tests.conftest import wait_for

pytestmark = pytest.mark.slow

CONFIG = REPO / "deploy" / "nginx.conf"
SHIPPED = CONFIG.read_text()


def directive(name: str) -> int:
    """The number a directive of the shipped config sets: `client_header_timeout 10s;` -> 10."""
    found = re.search(rf"^\s*{name}\s+(?:\S+\s+)?(\d+)s?;", SHIPPED, re.MULTILINE)
    assert found, f"{CONFIG} does not set {name}"
    return int(found.group(1))


HEADER_TIMEOUT = directive("client_header_timeout")
BODY_TIMEOUT = directive("client_body_timeout")
PER_CLIENT = directive("limit_conn")
MAX_HEADER_KB = Settings.model_fields["max_header_kb"].default
MARGIN = 3.0  # seconds: nginx's timers are checked as its event loop turns, and CI is busy
ANOTHER_CLIENT = "127.0.0.2"


@dataclass
class Proxy:
    port: int
    api_port: int  # uvicorn's own, for the requests sent straight to it


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """nginx on a free port, running the shipped config with only its two placeholders filled
    in, in front of `tutor serve` on an empty data dir (/health and sign-ups need no index)."""
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light, as .ci/run does)")
    prefix = tmp_path_factory.mktemp("nginx")
    with served(tmp_path_factory.mktemp("slow-clients") / "data") as api:
        port = free_port()
        config = prefix / "nginx.conf"
        config.write_text(
            SHIPPED.replace("__LISTEN__", f"127.0.0.1:{port}").replace(
                "__UPSTREAM__", api.url.removeprefix("http://")
            )
        )
        # As root, nginx's workers would become `nobody`, who may not enter pytest's folders.
        options = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        log = prefix / "nginx.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [nginx, "-c", str(config), "-p", f"{prefix}/", "-g", options],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            try:
                wait_for(f"http://127.0.0.1:{port}/health", timeout=15)
            except TimeoutError:
                pytest.fail(f"nginx did not start:\n{log.read_text()}")
            yield Proxy(port, int(api.url.rsplit(":", 1)[1]))
        finally:
            process.terminate()
            process.wait(timeout=10)


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def head(method: str, path: str, *lines: str) -> bytes:
    """A request line and headers (Host: localhost, which the API answers to), not ended: the
    blank line that ends them is for the caller to send, or not."""
    return "".join(
        f"{line}\r\n" for line in (f"{method} {path} HTTP/1.1", "Host: localhost", *lines)
    ).encode()


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset after an answer
    also ends it: the server closed with some of what was sent unread)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def status(port: int, path: str = "/health", source: str = "127.0.0.1") -> int:
    with connect(port, source) as sock:
        sock.sendall(head("GET", path, "Connection: close") + b"\r\n")
        return int(answer(sock).split(b" ", 2)[1])


def seconds_open(
    trickles: dict[socket.socket, bytes], limit: float, meanwhile: Callable[[], None]
) -> dict[socket.socket, float]:
    """Play the slow clients: each socket's trickle sent on it about once a second (nothing
    for an empty one), `meanwhile` called as often, until the server has closed them all or
    `limit` seconds pass. How long each stayed open (`limit` for one still open); none may get
    an answer."""
    started = time.monotonic()
    still_open = set(trickles)
    closed_after: dict[socket.socket, float] = {}
    # epoll, not select(): a test process's descriptors may pass select's 1,024 (a fresh
    # clone's run had them there)
    with selectors.DefaultSelector() as watching:
        for sock in trickles:
            watching.register(sock, selectors.EVENT_READ)
        while still_open and time.monotonic() - started < limit:
            for key, _ in watching.select(1.0):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                assert answer(sock) == b"", "a slow client was answered instead of dropped"
                closed_after[sock] = time.monotonic() - started
                still_open.remove(sock)
                watching.unregister(sock)
            for sock in still_open:
                if trickles[sock]:
                    with contextlib.suppress(OSError):  # closed since: the next select sees it
                        sock.sendall(trickles[sock])
            meanwhile()
    return {sock: closed_after.get(sock, limit) for sock in trickles}


def test_slow_clients_are_dropped_while_others_are_served(proxy: Proxy) -> None:
    """Two kinds of slow client at once, each dropped by its own timer while another client's
    GET /health is answered at once, every second:
    - the classic slowloris: 50 connections each send a request line and then one header byte
      a second, never the blank line; nginx drops every one within client_header_timeout of
      its connecting;
    - headers announcing a 100-byte body, 1 byte of it, then nothing: dropped within
      client_body_timeout of the last byte. (A pause resets it: a body trickled faster than
      that is bounded by the per-client limit instead, as the next test shows.)"""
    slow = [connect(proxy.port) for _ in range(50)]
    for sock in slow:
        sock.sendall(head("GET", "/health") + b"X-Slow: ")
    stalled = connect(proxy.port)
    stalled.sendall(
        head("POST", "/learners", "Content-Type: application/json", "Content-Length: 100")
    )
    stalled.sendall(b"\r\n{")
    served_in: list[float] = []

    def another_client_asks() -> None:
        started = time.monotonic()
        assert status(proxy.port, source=ANOTHER_CLIENT) == 200
        served_in.append(time.monotonic() - started)

    limit = max(HEADER_TIMEOUT, BODY_TIMEOUT) + MARGIN
    open_for = seconds_open({**dict.fromkeys(slow, b"a"), stalled: b""}, limit, another_client_asks)
    for sock in [*slow, stalled]:
        sock.close()
    headers = [open_for[sock] for sock in slow]
    print(f"\nslow headers dropped after {min(headers):.1f}-{max(headers):.1f} s")
    print(f"stalled body dropped after {open_for[stalled]:.1f} s")
    assert max(headers) < HEADER_TIMEOUT + MARGIN
    assert min(headers) > HEADER_TIMEOUT - 1  # the trickle did not keep them open, nor less
    assert BODY_TIMEOUT - 1 < open_for[stalled] < BODY_TIMEOUT + MARGIN
    assert len(served_in) >= HEADER_TIMEOUT - 1 and max(served_in) < 1.0


def test_one_address_may_have_so_many_requests_in_progress(proxy: Proxy) -> None:
    """PER_CLIENT sign-ups in progress from one address (each has its headers read: nginx said
    100 Continue, and holds its body but for the last byte). One more request from that
    address is turned away with 429; another address is served; the sign-ups finish as
    usual, and then the first address is served again."""
    body = json.dumps({"name": "Ada"}).encode()
    signups = [connect(proxy.port) for _ in range(PER_CLIENT)]
    for sock in signups:
        sock.sendall(
            head(
                "POST",
                "/learners",
                "Content-Type: application/json",
                f"Content-Length: {len(body)}",
                "Expect: 100-continue",
                "Connection: close",
            )
            + b"\r\n"
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body[:-1])

    assert status(proxy.port) == 429
    assert status(proxy.port, source=ANOTHER_CLIENT) == 200
    for sock in signups:
        sock.sendall(body[-1:])
        assert answer(sock).startswith(b"HTTP/1.1 201 ")
        sock.close()
    assert status(proxy.port) == 200


@pytest.mark.parametrize("through", ["uvicorn", "nginx"])
def test_headers_too_large_get_400_and_the_connection_closes(proxy: Proxy, through: str) -> None:
    """Twice TUTOR_MAX_HEADER_KB of one header, not yet ended: uvicorn (h11) answers 400 and
    closes, never a 5xx; through nginx, its own smaller limit (8 KiB a line) does the same.
    A request within the limits is answered as usual."""
    port = proxy.port if through == "nginx" else proxy.api_port
    with connect(port) as sock:
        sock.sendall(head("GET", "/health", "X-Big: " + "a" * 2 * MAX_HEADER_KB * 1024))
        received = answer(sock)  # returns once the server has closed the connection
    assert received.startswith(b"HTTP/1.1 400 "), received[:200]
    with connect(port) as sock:
        sock.sendall(head("GET", "/health", "X-Fair: " + "a" * 4000, "Connection: close") + b"\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 200 ")


def test_ingest_through_the_proxy_is_refused_as_from_anywhere_else(proxy: Proxy) -> None:
    """The proxy says who the client is (X-Forwarded-For), so the API does not take it for a
    program on its own machine: ingest, which it takes only from there, is refused (403);
    straight from this machine, the same request reaches the route (404: no such job)."""
    assert status(proxy.port, "/ingest/no-such-job") == 403
    assert status(proxy.api_port, "/ingest/no-such-job") == 404


@pytest.mark.parametrize("through", ["uvicorn", "nginx"])
def test_an_anki_package_has_the_upload_cap_through_the_proxy_too(
    proxy: Proxy, through: str
) -> None:
    """An import's body is a file: TUTOR_MAX_UPLOAD_MB caps it at nginx as at the API. A body
    over the ordinary cap reaches the route (401: no token), one over the upload cap gets 413."""
    upload_mb = Settings.model_fields["max_upload_mb"].default
    assert f"client_max_body_size {upload_mb}m;" in SHIPPED
    port = proxy.port if through == "nginx" else proxy.api_port
    for size, answer in ((300 * 1024, b"HTTP/1.1 401 "), (upload_mb * 2**20 + 1, b"HTTP/1.1 413 ")):
        with connect(port) as sock:
            sock.sendall(
                head("POST", "/learners/1/cards/import", f"Content-Length: {size}") + b"\r\n"
            )
            if answer.endswith(b"401 "):
                sock.sendall(b"\0" * size)
            assert sock.recv(64).startswith(answer)


@pytest.mark.parametrize("through", ["uvicorn", "nginx"])
def test_the_proxy_caps_bodies_where_the_api_does(proxy: Proxy, through: str) -> None:
    """nginx's client_max_body_size is TUTOR_MAX_BODY_KB: a body one byte over it gets 413 from
    either, from its Content-Length alone, before any of it is sent."""
    max_body_kb = Settings.model_fields["max_body_kb"].default
    assert f"client_max_body_size {max_body_kb}k;" in SHIPPED
    port = proxy.port if through == "nginx" else proxy.api_port
    with connect(port) as sock:
        over = max_body_kb * 1024 + 1
        sock.sendall(head("POST", "/learners", f"Content-Length: {over}") + b"\r\n")
        # the answer comes at once; nginx then waits a while for the body it will throw away
        assert sock.recv(64).startswith(b"HTTP/1.1 413 ")

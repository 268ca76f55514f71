"""Start the whole product: the API and the UI as two child processes, stopped together."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import TextIO

import httpx

from app.config import Settings

UI_SCRIPT = Path(__file__).resolve().parents[1] / "ui" / "main.py"


def api_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "app.cli",
        "serve",
        "--host",
        settings.api_host,
        "--port",
        str(settings.api_port),
    ]


def cannot_listen(host: str, port: int) -> str | None:
    """Why the API could not listen on `host`:`port` (another program holds the port, or the
    address is not this machine's), or None when it can. Tried as uvicorn binds (SO_REUSEADDR:
    a port a stopped server left in TIME_WAIT is free), then let go at once."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return f"port {port} on {host} is in use by another program"
        return f"{host}:{port} cannot be listened on ({exc.strerror or exc})"
    return None


def serve_api(settings: Settings, workers: int = 1, claimed: TextIO | None = None) -> None:
    """Run the API: in this process, or as uvicorn's `workers` processes, which build the app
    from the environment (so the settings go there). SIGTERM stops answers in progress after
    TUTOR_SHUTDOWN_GRACE_S. `claimed`: the data dir's claim (`app.search.lock.claim`), taken
    by the caller for an embedded index, so that another API is refused before it starts."""
    import uvicorn

    options: dict[str, Any] = dict(
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        timeout_graceful_shutdown=settings.shutdown_grace_s,
        # h11, not httptools (uvicorn's choice wherever it is installed, as here): httptools
        # takes request headers of any size; h11 stops at this one.
        http="h11",
        h11_max_incomplete_event_size=settings.max_header_kb * 1024,
    )
    if workers == 1:
        from app.api import create_app

        uvicorn.run(create_app(settings, claimed), **options)
    else:
        os.environ.update(child_env(settings))
        uvicorn.run("app.api:create_app", factory=True, workers=workers, **options)


def ui_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(UI_SCRIPT),
        "--server.address",
        settings.api_host,
        "--server.port",
        str(settings.ui_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--logger.level",
        "warning",
        "--client.toolbarMode",
        "minimal",
    ]


def child_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "TUTOR_DATA_DIR": str(settings.data_dir.resolve()),
        "TUTOR_API_URL": settings.resolved_api_url,
    }


class Stopped(Exception):
    """Ctrl-C or SIGTERM arrived while starting."""


def answers(url: str, timeout: float = 2) -> bool:
    """Whether the server at `url` answers 2xx now (False while it is still starting)."""
    try:
        return httpx.get(url, timeout=timeout).is_success
    except httpx.HTTPError:
        return False


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], stop: threading.Event, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop.is_set():
            raise Stopped
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with status {process.returncode} while starting")
        if answers(url):
            return
        stop.wait(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def run_all(settings: Settings, announce: Callable[[str, str], None]) -> int:
    """Start API then UI, announce their URLs, and wait; Ctrl-C, SIGTERM or either child
    dying stops both. Returns 0 when asked to stop, else the status of the child that died."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    env = child_env(settings)
    children: list[subprocess.Popen[bytes]] = []
    try:
        api = subprocess.Popen(api_command(settings), env=env)
        children.append(api)
        wait_until_up(f"{settings.resolved_api_url}/health", api, stop)
        ui = subprocess.Popen(ui_command(settings), env=env, stdout=subprocess.DEVNULL)
        children.append(ui)
        ui_url = f"http://{settings.api_host}:{settings.ui_port}"
        wait_until_up(f"{ui_url}/_stcore/health", ui, stop)
        announce(settings.resolved_api_url, ui_url)
        while not stop.is_set() and all(child.poll() is None for child in children):
            stop.wait(0.5)
        return 0 if stop.is_set() else next(c.returncode for c in children if c.poll() is not None)
    except Stopped:
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()

"""Start the whole product: the API and the UI as two child processes, stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from app.config import Settings

UI_SCRIPT = Path(__file__).resolve().parent / "ui.py"


def api_command(settings: Settings) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "app.api:create_app", "--factory",
            "--host", settings.api_host, "--port", str(settings.api_port), "--log-level", "warning"]


def ui_command(settings: Settings) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(UI_SCRIPT),
            "--server.address", settings.api_host, "--server.port", str(settings.ui_port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--global.developmentMode", "false", "--logger.level", "warning"]


def child_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "TUTOR_DATA_DIR": str(settings.data_dir.resolve()),
            "TUTOR_API_URL": settings.resolved_api_url}


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with status {process.returncode} while starting")
        try:
            if httpx.get(url, timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def run_all(settings: Settings, announce: Callable[[str, str], None]) -> int:
    """Start API then UI, announce their URLs, and wait; Ctrl-C or either dying stops both."""
    env = child_env(settings)
    api = subprocess.Popen(api_command(settings), env=env)
    children = [api]
    try:
        wait_until_up(f"{settings.resolved_api_url}/health", api)
        ui = subprocess.Popen(ui_command(settings), env=env, stdout=subprocess.DEVNULL)
        children.append(ui)
        ui_url = f"http://{settings.api_host}:{settings.ui_port}"
        wait_until_up(f"{ui_url}/_stcore/health", ui)
        announce(settings.resolved_api_url, ui_url)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return next(child.returncode for child in children if child.poll() is not None) or 0
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()

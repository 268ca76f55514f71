"""The sandbox holds a learner's file: an endless loop, a fork bomb, a memory hog, an outbound
connection, reading or writing outside its temp dir each end in a clear verdict, and the
next check runs as usual. Each test runs under every mechanism that works on this machine
(bubblewrap, unshare, rlimits; see app/checks/sandbox.py), as `make test` finds it."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from app.checks.engine import run_checks
from app.checks.sandbox import MECHANISMS
from app.checks.sandbox import NOBODY
from app.config import Settings
from tests.conftest import REPO
from tests.conftest import working_sandbox

GOOD = (REPO / "evals/checks/w01_pca_svd.py").read_text()


def pca_doing(body: str) -> str:
    """A learner's week-1 file whose pca does `body` when called."""
    return "import os, socket\n\ndef pca(X, k):\n" + "".join(
        f"    {line}\n" for line in body.splitlines()
    )


# The strongest mechanism (bubblewrap, what `auto` picks where it works) always; the weaker
# fallbacks in the slow run. Each skips where it does not work here.
@pytest.fixture(
    params=[
        pytest.param(m, marks=[pytest.mark.slow] if i else []) for i, m in enumerate(MECHANISMS)
    ]
)
def sandboxed(request, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        check_sandbox=working_sandbox(request.param),
        check_cpu_s=3,
        check_call_s=2,
        check_examples=3,
    )


def still_works(settings: Settings) -> None:
    assert run_checks(1, GOOD, settings)["passed"]


def test_a_sandbox_works_here_and_runs_as_nobody_when_root(sandboxed) -> None:
    verdict = run_checks(1, pca_doing("raise ValueError(os.getuid())"), sandboxed)
    failed = verdict["checks"][0]["properties"][0]["detail"]
    expected = NOBODY if os.geteuid() == 0 else os.getuid()
    assert f"ValueError: {expected}" in failed or sandboxed.check_sandbox == "bwrap"


def test_an_endless_loop_is_stopped(sandboxed) -> None:
    started = time.monotonic()
    verdict = run_checks(1, pca_doing("while True:\n    pass"), sandboxed)
    assert verdict["stopped"]["kind"] == "time" and "endless loop" in verdict["stopped"]["message"]
    assert time.monotonic() - started < 15
    still_works(sandboxed)


def test_a_fork_bomb_hits_the_process_limit(sandboxed) -> None:
    verdict = run_checks(1, pca_doing("while True:\n    os.fork()"), sandboxed)
    assert not verdict["passed"]
    assert verdict["stopped"] is not None
    time.sleep(0.5)
    still_works(sandboxed)


def test_a_memory_hog_hits_the_memory_limit(sandboxed) -> None:
    verdict = run_checks(1, pca_doing("x = bytearray(8 * 2**30)\nreturn x"), sandboxed)
    assert verdict["stopped"]["kind"] == "memory", verdict
    still_works(sandboxed)


def test_an_outbound_connection_gets_nowhere(sandboxed) -> None:
    if sandboxed.check_sandbox == "rlimits":
        pytest.skip("resource limits alone do not cut the network (bwrap and unshare do)")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        verdict = run_checks(
            1,
            pca_doing(f"socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')"),
            sandboxed,
        )
        with pytest.raises(TimeoutError):
            server.accept()
    assert not verdict["passed"]
    assert "Connection" in json.dumps(verdict) or "unreachable" in json.dumps(verdict)


def test_files_outside_the_temp_dir_can_be_neither_read_nor_written(
    sandboxed, tmp_path: Path
) -> None:
    if sandboxed.check_sandbox != "bwrap" and os.geteuid() != 0:
        pytest.skip("without bubblewrap only another user's files are out of reach")
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret-value")
    secret.chmod(0o600)
    read = run_checks(1, pca_doing(f"raise ValueError(open({str(secret)!r}).read())"), sandboxed)
    assert "the-secret-value" not in json.dumps(read) and not read["passed"]
    target = tmp_path / "written.txt"
    wrote = run_checks(
        1, pca_doing(f"open({str(target)!r}, 'w').write('x')\nraise ValueError('wrote')"), sandboxed
    )
    assert not target.exists() and not wrote["passed"]
    still_works(sandboxed)


def test_a_check_runs_in_a_process_holding_over_a_thousand_open_files(sandboxed) -> None:
    """A busy API server (or a long test worker) holds descriptors numbered past 1024, where
    select() fails ("filedescriptor out of range"): the sandbox's pipe is polled instead."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"this machine allows {hard} open files, under the 1,200 needed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert max(held) >= 1024
        still_works(sandboxed)
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

"""No check leaves a zombie: killed from outside, stopped by its time limit, or abandoned by a
client that hangs up, every process of a check is reaped by `tutor serve` itself.

The test process stands for a PID 1 that never reaps (as in many containers): it adopts the
orphans of `tutor serve`'s descendants (PR_SET_CHILD_SUBREAPER) and never waits for them, so
any process a check leaves unreaped shows up as a zombie below it. Each mechanism that works
here is run in turn (see app/checks/sandbox.py): the one `auto` picks is killed 20 times,
each weaker fallback 4 times (each way once), to keep the run near a minute."""

from __future__ import annotations

import ctypes
import http.client
import json
import os
import signal
import socket
import struct
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.checks.sandbox import MECHANISMS
from app.checks.sandbox import PR_SET_CHILD_SUBREAPER
from tests.conftest import REPO
from tests.conftest import Server
from tests.conftest import served
from tests.conftest import working_sandbox

pytestmark = pytest.mark.slow

GOOD = (REPO / "evals/checks/w01_pca_svd.py").read_text()
PR_GET_CHILD_SUBREAPER = 37  # <linux/prctl.h>
CALL_S = 0.75  # the check's time limit per call, short: one way a check ends is running out
# The learner's pca forks a process of its own, then both sleep: a check is "mid-run" once
# the relay, the worker and the worker's fork (one command line, three generations) are there.
SLEEPER = "import os, time\n\ndef pca(X, k):\n    os.fork()\n    time.sleep(60)\n"


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    state: str
    name: str  # a zombie's command line is empty, its name is kept
    cmdline: str


def processes() -> dict[int, Proc]:
    """Every process on the machine now; one that ends while it is read is left out."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
            cmdline = Path("/proc", entry, "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        found[int(entry)] = Proc(int(entry), int(ppid), state, name, cmdline)
    return found


def descendants(root: int, table: dict[int, Proc]) -> list[Proc]:
    """The processes below `root` in `table`, children before their own children."""
    below, frontier = [], [root]
    while frontier:
        children = [p for p in table.values() if p.ppid in frontier]
        below += children
        frontier = [p.pid for p in children]
    return below


@pytest.fixture
def non_reaping_init() -> Iterator[set[int]]:
    """This test process as a PID 1 that never reaps: the orphans of its descendants come to
    it and stay. Yields the processes below it beforehand (not the test's to count); the
    zombies it collected are reaped afterwards, and it adopts as it did before (checks run in
    this process make it adopt, see app.checks.sandbox._adopt_orphans)."""
    libc = ctypes.CDLL(None, use_errno=True)
    adopting = ctypes.c_int()
    assert libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(adopting), 0, 0, 0) == 0
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, os.strerror(ctypes.get_errno())
    before = {p.pid for p in descendants(os.getpid(), processes())}
    try:
        yield before
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, adopting.value, 0, 0, 0)
        for proc in descendants(os.getpid(), processes()):
            if proc.ppid == os.getpid() and proc.state == "Z" and proc.pid not in before:
                os.waitpid(proc.pid, 0)


def post_check(server: Server, code: str) -> http.client.HTTPConnection:
    """POST /checks/1 with `code`, not waiting for the answer: the connection to read it on."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    body = json.dumps({"code": code})
    connection.request("POST", "/checks/1", body, {"Content-Type": "application/json"})
    return connection


def verdict(connection: http.client.HTTPConnection) -> dict[str, Any]:
    response = connection.getresponse()
    assert response.status == 200, response.read()
    return json.loads(response.read())


def running_pca(server: Server) -> list[Proc]:
    """The check's processes from the server's child down to the worker's fork, once the
    learner's pca runs: [sandbox's outermost process, ..., worker, worker's fork]."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        table = processes()
        for proc in descendants(server.process.pid, table):
            chain = [proc]
            while chain[-1].ppid != server.process.pid:
                chain.append(table[chain[-1].ppid])
            forked = len(chain) >= 3 and chain[0].cmdline == chain[1].cmdline == chain[2].cmdline
            # Python's, not bubblewrap's: between its fork and its exec of the relay, bwrap's
            # own child shows bwrap's command line (which names child.py) under two bwraps
            # of that line, and under load a poll caught it there; killed as "the learner's
            # process", that was bwrap's PID 1, and the check crashed (seen in CI).
            if forked and proc.name.startswith("python") and "child.py" in proc.cmdline:
                return chain[::-1]
        time.sleep(0.05)
    raise AssertionError("the learner's pca did not start within 30 s")


def kill_outermost(server: Server) -> None:
    """SIGKILL the server's own child: bubblewrap, unshare, or the relay under rlimits. Under
    unshare as root, the drop to `nobody` clears the parent-death signal that --kill-child set,
    so the check's other processes live on until its time limit kills them."""
    connection = post_check(server, SLEEPER)
    os.kill(running_pca(server)[0].pid, signal.SIGKILL)
    assert verdict(connection)["stopped"]["kind"] in ("crashed", "time")


def kill_learner(server: Server) -> None:
    """SIGKILL the process running the learner's pca, found via /proc as an operator would. Its
    fork still holds the reply pipe, so the check runs on to its time limit."""
    connection = post_check(server, SLEEPER)
    os.kill(running_pca(server)[-2].pid, signal.SIGKILL)
    assert verdict(connection)["stopped"]["kind"] == "time"


def time_out(server: Server) -> None:
    """Let the call's time limit stop the check."""
    stopped = verdict(post_check(server, SLEEPER))["stopped"]
    assert stopped["kind"] == "time", stopped


def hang_up(server: Server) -> None:
    """Reset the connection while the check runs: the server finishes it on its own."""
    connection = post_check(server, SLEEPER)
    running_pca(server)
    assert connection.sock is not None
    connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


WAYS: list[Callable[[Server], None]] = [kill_outermost, kill_learner, time_out, hang_up]


def left_over(server: Server, before: set[int]) -> list[Proc]:
    """What is below this test process but the server and what was there before: the check's
    processes, alive or zombies, whoever holds them now. Polled until none is left, or for as
    long as a check could still run on plus 5 s for the reaper."""
    deadline = time.monotonic() + CALL_S + 5
    while True:
        left = [
            p
            for p in descendants(os.getpid(), processes())
            if p.pid != server.process.pid and p.pid not in before
        ]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("mechanism", "kills"), [(m, 4 if i else 20) for i, m in enumerate(MECHANISMS)]
)
def test_a_check_killed_mid_run_leaves_no_zombie(
    mechanism: str, kills: int, non_reaping_init: set[int], tmp_path: Path
) -> None:
    with served(
        tmp_path / "data",
        log=tmp_path / "serve.log",
        check_sandbox=working_sandbox(mechanism),
        check_call_s=str(CALL_S),
        check_examples="5",
        checks_per_minute="1000",
    ) as server:
        for round_ in range(kills):
            way = WAYS[round_ % len(WAYS)]
            way(server)
            left = left_over(server, non_reaping_init)
            zombies = [p for p in left if p.state == "Z"]
            assert zombies == [], f"round {round_ + 1} ({way.__name__}) left zombies"
            assert left == [], f"round {round_ + 1} ({way.__name__}) left processes running"
        assert verdict(post_check(server, GOOD))["passed"]

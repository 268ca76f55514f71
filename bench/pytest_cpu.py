"""A pytest plugin that writes each test's CPU seconds, to see where the suite's CPU goes.

    PYTHONPATH=bench .venv/bin/pytest -p pytest_cpu -n 2 --dist loadfile --no-loadscope-reorder
    sort -t$'\\t' -k1 -rn /tmp/pytest-cpu.*      # or sum column 1 + 2 per file

One line per test, appended to `$PYTEST_CPU_OUT.<xdist worker>` (default /tmp/pytest-cpu):
the worker's own CPU seconds during the test, its reaped children's (subprocesses, servers),
the wall seconds, and the test's id, tab-separated. A child counts when it is reaped, so a
module's server is charged to the test whose teardown stops it: sums per file are right, a
single test's children figure may not be. (Used for docs/benchmarks.md's per-file figures.)
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator

import pytest


def _cpu() -> tuple[float, float]:
    """(this process's CPU seconds, its reaped children's)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    own, children = _cpu()
    started = time.monotonic()
    yield
    own_after, children_after = _cpu()
    out = os.environ.get("PYTEST_CPU_OUT", "/tmp/pytest-cpu")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"{out}.{worker}", "a") as lines:
        lines.write(
            f"{own_after - own:.2f}\t{children_after - children:.2f}\t"
            f"{time.monotonic() - started:.2f}\t{item.nodeid}\n"
        )

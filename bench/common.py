"""Shared by the benchmarks: cached indexes to measure against, and percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from evals.metrics import percentile  # noqa: E402, F401 - after the path; one percentile for bench and evals

CACHE = REPO / "bench" / ".cache"  # gitignored: indexes reused between benchmark runs
PUBLIC_NOTES = REPO.parent / "shared" / "public-notes"


def index_of(name: str, paths: list[Path]) -> Path:
    """A data dir holding an index of `paths`, built on first use (incremental afterwards)."""
    from app.config import Settings
    from app.ingest.pipeline import Ingestor

    data_dir = CACHE / name
    summary = Ingestor(Settings(data_dir=data_dir)).run([str(p) for p in paths])
    if summary.chunks:
        print(f"  indexed {name}: {summary.chunks} chunks in {summary.seconds:.0f} s", flush=True)
    return data_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(data_dir: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`tutor serve` over `data_dir` on `port`, with `env` (default: this process's) and its
    output dropped; the caller waits for it to be ready and stops it."""
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        cwd=REPO,
        env={**(env or os.environ), "TUTOR_DATA_DIR": str(data_dir), "TUTOR_API_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

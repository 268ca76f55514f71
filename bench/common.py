"""Shared by the benchmarks: cached indexes to measure against, and percentiles."""

from __future__ import annotations

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

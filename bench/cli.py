"""Cold commands, with and without a running API: ours (the encoder's ONNX export) beside the
baseline (the same commands with the encoder on torch, as before), in one run.

    python bench/cli.py [--runs 5] [--notes ../shared/public-notes]

Each command runs `--runs` times as a fresh process (hyperfine-style: min / median / max of
the wall time), on an index of the bundled corpus and the public notes (built into
bench/.cache/cli-index on first use, minutes):
  tutor search "..." --json     hybrid search
  tutor ask "..." --json        an answer composed from the sources (the default writer)
  tutor quiz --week 5 --json    a quiz made for week 5
Then the same through a running `tutor serve` over that index (the command line hands its
work to it), with the API's time from start to ready and its peak RSS after the commands.
The engine is chosen with TUTOR_ENCODER_ENGINE; nothing else differs between the two.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from common import PUBLIC_NOTES
from common import REPO
from common import free_port
from common import index_of
from common import start_api

COMMANDS = {
    "search": ["search", "how do the gates of an LSTM control the cell state", "--json"],
    "ask": ["ask", "What does max pooling do in a convolutional network?", "--json"],
    "quiz": ["quiz", "--week", "5", "--json"],
}
ENGINES = ("torch", "onnx")  # the baseline first
TARGETS_S = {"search": 1.5, "ask": 2.5, "quiz": 6.0}  # cold, without the API (issue #28)
API_TARGET_S = 0.6  # search and ask through a running API
RSS_BUDGET_MB = 1536


def tutor(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one `tutor ...` in a fresh process; exits on a failure."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"tutor {' '.join(args)} failed ({done.returncode}): {done.stderr[-800:]}")
    return seconds


def timed(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    tutor(args, env)  # warm the page cache, as hyperfine's warm-up does
    return [tutor(args, env) for _ in range(runs)]


def with_api(env: dict[str, str], runs: int) -> tuple[float, float, dict[str, list[float]]]:
    """Start `tutor serve` over the index: (seconds to ready, peak RSS in MB, timings)."""
    port = free_port()
    served = env | {"TUTOR_API_PORT": str(port)}
    started = time.perf_counter()
    server = start_api(Path(env["TUTOR_DATA_DIR"]), port, served)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json().get("ready"):
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.perf_counter() - started > 300:
                sys.exit("tutor serve did not become ready")
            time.sleep(0.05)
        ready = time.perf_counter() - started
        times = {name: timed(args, served, runs) for name, args in COMMANDS.items()}
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak_kb = int(
            next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]
        )
        return ready, peak_kb / 1024, times
    finally:
        server.terminate()
        server.wait(timeout=60)


def row(label: str, times: list[float], base: list[float] | None, target: float | None) -> str:
    line = f"  {label:22}{min(times):7.2f}{statistics.median(times):8.2f}{max(times):7.2f}"
    if base:
        line += f"{statistics.median(base) / statistics.median(times):8.1f}x"
    if target is not None:
        line += (
            f"   target <= {target} s: {'met' if statistics.median(times) <= target else 'NOT met'}"
        )
    return line


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5)")
    parser.add_argument(
        "--notes",
        type=Path,
        default=PUBLIC_NOTES,
        help="the public notes indexed beside the bundled corpus (default ../shared/public-notes)",
    )
    args = parser.parse_args()
    if not args.notes.is_dir():
        sys.exit(f"public notes not found at {args.notes}: pass --notes")
    from app.ingest.pipeline import CORPUS_DIR

    data_dir = index_of("cli-index", [CORPUS_DIR, args.notes])
    # The product's defaults, but for where the index and the encoder's export are kept.
    kept = {"TUTOR_ENCODER_CACHE_DIR", "TUTOR_EMBEDDING_MODEL"}
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_") or k in kept}
    base_env |= {"TUTOR_DATA_DIR": str(data_dir)}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    cold: dict[str, dict[str, list[float]]] = {}
    api: dict[str, tuple[float, float, dict[str, list[float]]]] = {}
    for engine in ENGINES:
        env = base_env | {"TUTOR_ENCODER_ENGINE": engine}
        cold[engine] = {name: timed(cmd, env, args.runs) for name, cmd in COMMANDS.items()}
        print(f"  cold commands on {engine}: done", flush=True)
        api[engine] = with_api(env, args.runs)
        print(f"  through the API on {engine}: done", flush=True)
    from app.config import Settings
    from app.search.vectors import VectorStore

    chunks = VectorStore(Settings(data_dir=data_dir)).count()
    print(
        f"\n{args.runs} runs each (wall seconds, min / median / max; speed-up of the median "
        f"against the baseline), index of {chunks} chunks; load average after: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    for engine in ENGINES:
        base = None if engine == ENGINES[0] else ENGINES[0]
        print(f"\n{engine}{' (baseline)' if base is None else ''}: cold, no API")
        for name in COMMANDS:
            print(row(name, cold[engine][name], base and cold[base][name], TARGETS_S[name]))
        ready, rss, times = api[engine]
        print(
            f"{engine}: through a running API (ready after {ready:.1f} s, peak RSS {rss:.0f} MB"
            f"; budget {RSS_BUDGET_MB} MB: {'held' if rss <= RSS_BUDGET_MB else 'NOT held'})"
        )
        for name in COMMANDS:
            target = API_TARGET_S if name != "quiz" else None
            print(row(name, times[name], base and api[base][2][name], target))


if __name__ == "__main__":
    main()

"""Eval reports: `report.json` for machines, `report.html` for people, floors, and comparisons.

The HTML is one self-contained file (charts are inline SVG drawn by matplotlib), so it opens
offline and can be attached to an issue as is.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import Any

import yaml

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.yaml"
LOWER_IS_BETTER = (
    "latency",
    "leak",
    "future_weeks",
    "duplicate",
    "failures",
    "first_token",
    "repeating",
    "dangling",
    "mismatch",
    "wrong_claims",
    "guessable",
)


class ReportError(ValueError):
    """A report or thresholds file that can't be read; the message names it."""


def run_name(suite: str, now: dt.datetime | None = None) -> str:
    """Sortable by time, so the newest report is the last name."""
    return f"{(now or dt.datetime.now()).strftime('%Y%m%d-%H%M%S')}-{suite}"


def load_report(reports_dir: Path, run: str) -> dict[str, Any]:
    path = reports_dir / run / "report.json"
    if not path.is_file():
        known = (
            sorted(p.parent.name for p in reports_dir.glob("*/report.json"))
            if reports_dir.is_dir()
            else []
        )
        raise ReportError(
            f"no report for run {run!r} in {reports_dir}"
            + (f" (runs: {', '.join(known[-5:])})" if known else "")
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None


# -- floors ------------------------------------------------------------------------------------


def check_floors(headline: dict[str, float | None], path: Path = THRESHOLDS_FILE) -> list[str]:
    """What falls below its floor (or above its ceiling). Metrics a suite didn't measure are
    not judged."""
    try:
        rules = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ReportError(f"cannot read thresholds {path}: {exc}") from None
    failures = []
    for metric, rule in rules.items():
        value = headline.get(metric)
        if value is None:
            continue
        if "min" in rule and value < rule["min"]:
            failures.append(f"{metric} = {value:g} is below its floor {rule['min']:g}")
        if "max" in rule and value > rule["max"]:
            failures.append(f"{metric} = {value:g} is above its ceiling {rule['max']:g}")
    return failures


# -- comparison ----------------------------------------------------------------------------------


def compare(current: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Headline and per-configuration metrics of both runs, with the change."""
    rows = []

    def add(scope: str, now: dict[str, Any], then: dict[str, Any]) -> None:
        for metric, value in now.items():
            before = then.get(metric)
            if not isinstance(value, int | float) or not isinstance(before, int | float):
                continue
            delta = value - before
            worse = delta > 0 if any(w in metric for w in LOWER_IS_BETTER) else delta < 0
            rows.append(
                {
                    "scope": scope,
                    "metric": metric,
                    "baseline": before,
                    "current": value,
                    "delta": round(delta, 4),
                    "worse": bool(delta) and worse,
                }
            )

    add("headline", current["headline"], baseline.get("headline", {}))
    then_configs = {c["name"]: c["metrics"] for c in baseline.get("configs", [])}
    for config in current["configs"]:
        add(config["name"], config["metrics"], then_configs.get(config["name"], {}))
    return rows


def finalize(
    report: dict[str, Any],
    reports_dir: Path,
    baseline: dict[str, Any] | None = None,
    thresholds: Path = THRESHOLDS_FILE,
) -> dict[str, Any]:
    """Name the run, judge it against the floors and a baseline report, and write it."""
    report["run"] = run_name(report["suite"])
    report["failures"] = check_floors(report["headline"], thresholds)
    report["passed"] = not report["failures"]
    if baseline:
        report["compared_with"] = baseline["run"]
        report["comparison"] = compare(report, baseline)
    report["folder"] = str(write(report, reports_dir))
    return report


# -- writing ---------------------------------------------------------------------------------------


def write(report: dict[str, Any], reports_dir: Path) -> Path:
    """Write `<run>/report.json` and `<run>/report.html`; returns the run's folder."""
    folder = reports_dir / report["run"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    (folder / "report.html").write_text(render_html(report), encoding="utf-8")
    return folder


def _pyplot() -> Any:
    """pyplot on the file-only backend (reports are written on servers without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    _pyplot().close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def _bars(groups: dict[str, dict[str, float]], title: str) -> str:
    """Grouped bars: one group per metric, one bar per configuration (0..1 metrics only)."""
    plt = _pyplot()
    metrics = sorted(
        {
            k
            for row in groups.values()
            for k, v in row.items()
            if isinstance(v, int | float) and 0 <= v <= 1
        }
    )
    if not metrics:
        return ""
    figure, axis = plt.subplots(figsize=(max(6, 1.6 * len(metrics)), 3.2))
    width = 0.8 / max(len(groups), 1)
    for n, (name, row) in enumerate(groups.items()):
        xs = [i + n * width for i in range(len(metrics))]
        axis.bar(xs, [row.get(k) or 0 for k in metrics], width, label=name)
    axis.set_xticks([i + width * (len(groups) - 1) / 2 for i in range(len(metrics))], metrics)
    axis.set_ylim(0, 1.05)
    axis.set_title(title)
    axis.legend(fontsize=8, ncols=2)
    axis.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _histogram(values: list[float]) -> str:
    plt = _pyplot()
    if not values:
        return ""
    figure, axis = plt.subplots(figsize=(6, 2.8))
    axis.hist([v / 1000 for v in values], bins=20, color="#4c72b0")
    axis.set_xlabel("seconds per answer (retrieval + generation)")
    axis.set_ylabel("answers")
    axis.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, list):
        return "<br>".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "<br>".join(f"{html.escape(str(k))}: {_cell(v)}" for k, v in value.items())
    return html.escape("" if value is None else str(value))


STYLE = """body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}td,th{border:1px solid #ddd;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f4f6f8}.bad{color:#b00020;font-weight:600}.ok{color:#1b7f3b}
.tiles{display:flex;flex-wrap:wrap;gap:10px}.tile{border:1px solid #ddd;border-radius:8px;padding:8px 12px;min-width:150px}
.tile b{display:block;font-size:20px}code{background:#f4f6f8;padding:1px 4px}"""


def render_html(report: dict[str, Any]) -> str:
    status = (
        "<p class=ok>All floors met.</p>"
        if report["passed"]
        else "<p class=bad>Below the floors:</p><ul>"
        + "".join(f"<li>{html.escape(f)}</li>" for f in report["failures"])
        + "</ul>"
    )
    tiles = "".join(
        f"<div class=tile>{html.escape(k)}<b>{_cell(v)}</b></div>"
        for k, v in report["headline"].items()
    )
    parts = [
        f"<h1>Study Tutor evals: {html.escape(report['run'])}</h1>",
        (
            f"<p>Suite <code>{report['suite']}</code>, {report['created']}, "
            f"{report['seconds']} s. {_cell(report['environment'])}</p>"
        ),
        status,
        f"<div class=tiles>{tiles}</div>",
        "<h2>Configurations side by side</h2>",
        _bars({c["name"]: c["metrics"] for c in report["configs"]}, "metrics per configuration"),
        _table(
            [{"configuration": c["name"], **c["metrics"]} for c in report["configs"]],
            ["configuration"] + sorted({k for c in report["configs"] for k in c["metrics"]}),
        ),
    ]
    if report["retrieval"].get("slices"):
        slices = report["retrieval"]["slices"]
        parts += [
            "<h2>Retrieval by slice and split</h2>",
            "<p>The public slice is the items a public-notes file answers. Ranking settings "
            "are fitted on the dev split: judge them by the test rows.</p>",
            _table(slices, list(slices[0])),
        ]
    if report.get("comparison"):
        parts += [
            f"<h2>Compared with {html.escape(report['compared_with'])}</h2>",
            _table(
                [
                    r | {"delta": f"{r['delta']:+g}" + (" (worse)" if r["worse"] else "")}
                    for r in report["comparison"]
                ],
                ["scope", "metric", "baseline", "current", "delta"],
            ),
        ]
    if report["per_quarter"]:
        parts += [
            "<h2>By quarter</h2>",
            _bars(report["per_quarter"], "per quarter"),
            _table(
                [{"quarter": q, **row} for q, row in report["per_quarter"].items()],
                ["quarter"] + sorted({k for r in report["per_quarter"].values() for k in r}),
            ),
        ]
    calibration = report["grounding"]["calibration"]
    parts += [
        "<h2>Grounding: answer or decline</h2>",
        _table([report["grounding"]["refusal"]], list(report["grounding"]["refusal"])),
        "<p>The similarity cut-off, fitted on the dev split and judged on the test split:</p>",
        _table([calibration], list(calibration)),
    ]
    if report.get("quiz"):
        quiz = report["quiz"]
        parts += [
            "<h2>Quizzes</h2>",
            _table([quiz["overall"]], list(quiz["overall"])),
            "<p>Distractors: the share of MCQ wrong options within the plausible cosine "
            "band to the answer (0.30-0.80), their mean cosine, and the share of MCQs a "
            "blind guesser (the option whose name sounds most like the prompt) gets right "
            '(lower: harder to guess). "Quiz me on this": the share of a topic quiz\'s '
            "questions on the concept asked about, against a quiz on its week.</p>",
            _table(
                [{"generator": g, **row} for g, row in quiz["generators"].items()],
                ["generator", "generated", "valid", "repaired", "rate"],
            ),
        ]
    if report["latency_ms"]:
        parts += ["<h2>Latency</h2>", _histogram(report["latency_ms"])]
    if report["worst"]:
        parts += [
            "<h2>The 10 weakest answers</h2>",
            _table(
                report["worst"],
                ["id", "week", "question", "answer", "score", "key_points", "context"],
            ),
        ]
    return (
        f"<!doctype html><meta charset=utf-8><title>Evals {html.escape(report['run'])}</title>"
        f"<style>{STYLE}</style>" + "\n".join(p for p in parts if p)
    )

"""The Evals tab: the latest `tutor eval` report, read from its JSON (presentation only).

Reports live in `<eval_reports_dir>/<run>/report.json`, run names sorting by time, so the
latest is the last name in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st


def latest_report(reports_dir: Path) -> dict[str, Any] | None:
    runs = sorted(reports_dir.glob("*/report.json")) if reports_dir.is_dir() else []
    return json.loads(runs[-1].read_text(encoding="utf-8")) if runs else None


def render_evals_tab(reports_dir: Path) -> None:
    try:
        report = latest_report(reports_dir)
    except (OSError, ValueError) as exc:
        st.error(
            f"The latest eval report in {reports_dir} cannot be read: {exc}",
            icon=":material/error:",
        )
        return
    if report is None:
        no_report_yet(reports_dir)
        return
    verdict(report)
    tiles(report["headline"])
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("##### Configurations compared")
        st.altair_chart(
            grouped_bars(long_form({c["name"]: c["metrics"] for c in report["configs"]}, "config")),
            width="stretch",
        )
    with right:
        st.markdown("##### By quarter")
        st.altair_chart(grouped_bars(long_form(report["per_quarter"], "quarter")), width="stretch")
    if report.get("latency_ms"):
        st.markdown("##### Answer latency")
        st.altair_chart(latency_chart(report["latency_ms"]), width="stretch")
    if report.get("worst"):
        st.markdown("##### Weakest answers")
        st.dataframe(pd.DataFrame(report["worst"]), hide_index=True, width="stretch")


def no_report_yet(reports_dir: Path) -> None:
    """A fresh install has no report, and a blank tab says nothing: what the tab will show, the
    commands that fill it (quick first, since the full suite takes a quarter of an hour) and
    the folder read, which `tutor eval` run from another folder, or with another
    TUTOR_EVAL_REPORTS_DIR, does not write to."""
    st.info(
        "**No eval report yet: run `make eval`** in the project's folder, then reload this "
        "tab.\n\n"
        "This tab shows how well the tutor does on its golden questions: whether search finds "
        "the right passages (hit@5, MRR, nDCG) in each configuration and quarter of the "
        "plan, whether it declines what the notes do not cover, how good its quizzes are, "
        "and, with the full suite, its answers' quality and latency and the weakest ones.\n\n"
        "- `make eval SUITE=quick`: search, refusals and quizzes, without the model "
        "(2-3 minutes)\n"
        "- `make eval`: every golden question answered by the local model too (about 15 "
        "minutes)\n\n"
        f"Reports are read from `{reports_dir.resolve()}` (`TUTOR_EVAL_REPORTS_DIR`), one "
        "folder per run.",
        icon=":material/lab_research:",
    )


def verdict(report: dict[str, Any]) -> None:
    title = f"Run **{report['run']}** · suite {report['suite']} · {report['created'][:16]}"
    if report["passed"]:
        st.success(f"{title} · all thresholds met", icon=":material/verified:")
    else:
        st.error(
            f"{title} · below threshold: " + "; ".join(report["failures"]), icon=":material/report:"
        )


def tiles(headline: dict[str, float]) -> None:
    with st.container(horizontal=True):
        for name, value in headline.items():
            st.metric(name, f"{value:.3f}" if abs(value) < 10 else f"{value:,.0f}", border=True)


def long_form(table: dict[str, dict[str, float]], by: str) -> pd.DataFrame:
    """{row: {metric: value}} -> one row per (row, metric), the shape grouped bars need."""
    return pd.DataFrame(
        [
            {by: name, "metric": metric, "value": value}
            for name, metrics in table.items()
            for metric, value in metrics.items()
        ]
    )


def grouped_bars(frame: pd.DataFrame) -> alt.Chart:
    group = frame.columns[0]
    return (
        alt.Chart(frame, height=260)
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            x=alt.X("metric:N", title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=f"{group}:N",
            y=alt.Y("value:Q", title=None),
            color=alt.Color(f"{group}:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=[group, "metric", alt.Tooltip("value", format=".3f")],
        )
    )


def latency_chart(latencies: list[float]) -> alt.Chart:
    frame = pd.DataFrame({"ms": latencies})
    return (
        alt.Chart(frame, height=180)
        .mark_bar()
        .encode(
            x=alt.X("ms:Q", bin=alt.Bin(maxbins=30), title="Milliseconds"),
            y=alt.Y("count():Q", title="Answers"),
        )
    )

"""The Progress tab: tasks done per week, quiz accuracy over time, self-ratings, weak spots."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app.text import counted
from app.ui import session
from app.ui.client import Api
from app.ui.concept_map import render_concept_map
from app.ui.pace import status_label


@session.learner_tab(
    "see your progress: tasks done week by week, quiz accuracy over time "
    "and how your own ratings move.",
    ":material/insights:",
)
def render_progress_tab(api: Api) -> None:
    data = api.get(session.path("/progress"), today=session.today())
    headline(data)
    render_concept_map(api, data["current_week"])
    start = data["start_week"]
    left, right = st.columns(2, gap="large")
    with left:
        chart_or_hint(
            "Tasks done per week",
            data["completion"],
            completion_chart,
            f"Each bar: the share of that week's checklist you have ticked, from week "
            f"{start} (where you started) to this week.",
            "Tick tasks in the week's plan to fill this in.",
        )
        chart_or_hint(
            "Your self-ratings",
            data["self_ratings"],
            ratings_chart,
            "Each point: how well you said you know a week, 1 (not at all) to 10 (could teach it).",
            "Rate your week in the Journal tab.",
        )
    with right:
        chart_or_hint(
            "Quiz accuracy over time",
            data["quiz_accuracy_by_day"],
            accuracy_chart,
            "Each point: the share of your quiz answers that were right on a day you "
            "took a quiz (hover for how many you answered).",
            "Take a quiz to start this chart.",
        )
        weak_spots(data["weak_concepts"])
        back_to_prerequisites(data["back_to_prerequisites"])
        milestones_and_capstones(data)


def headline(data: dict[str, Any]) -> None:
    done = sum(w["done"] for w in data["completion"])
    total = sum(w["total"] for w in data["completion"])
    answered = sum(d["answered"] for d in data["quiz_accuracy_by_day"])
    right = sum(d["answered"] * d["accuracy"] for d in data["quiz_accuracy_by_day"])
    with st.container(horizontal=True):
        st.metric("Current week", data["current_week"], border=True, icon=":material/today:")
        st.metric(
            "Pace",
            status_label(data["pace"]),
            border=True,
            icon=":material/speed:",
            help=f"Finish on {data['pace']['finish_on']} at "
            f"{data['pace']['hours_per_week']:g} hours a week",
        )
        st.metric(
            "Streak",
            counted(data["streak_days"], "day"),
            border=True,
            icon=":material/local_fire_department:",
            help="Days in a row, up to today, with a quiz answer or a journal entry",
        )
        st.metric(
            "Tasks done",
            f"{done} of {total}",
            border=True,
            icon=":material/task_alt:",
            help=f"Checklist tasks ticked since week {data['start_week']}, the week you started in",
        )
        st.metric(
            "Quiz accuracy",
            f"{right / answered:.0%}" if answered else "–",
            border=True,
            icon=":material/target:",
            help=f"{counted(answered, 'answer')} so far, right or wrong",
        )


def chart_or_hint(
    title: str, rows: list[dict[str, Any]], chart: Any, explained: str, hint: str
) -> None:
    """A chart under its title and the one line that says what it shows; `hint` instead when
    there is nothing to chart yet."""
    st.markdown(f"##### {title}")
    if rows:
        st.caption(explained)
        st.altair_chart(chart(pd.DataFrame(rows)), width="stretch")
    else:
        st.caption(hint)


def _progress_chart(
    frame: pd.DataFrame, x: alt.X, y: alt.Y, tooltip: list[Any], bars: bool = False
) -> alt.Chart:
    """The Progress tab's charts share a height and a look: bars for shares of a week, lines
    with points for what changes over time."""
    chart = alt.Chart(frame, height=220)
    marked = chart.mark_bar(cornerRadiusEnd=3) if bars else chart.mark_line(point=True)
    return marked.encode(x=x, y=y, tooltip=tooltip)


def _share(field: str, title: str) -> alt.Y:
    return alt.Y(field, title=title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))


def completion_chart(frame: pd.DataFrame) -> alt.Chart:
    week, share = alt.X("week:O", title="Week"), _share("share:Q", "Done")
    return _progress_chart(frame, week, share, ["week", "done", "total"], bars=True)


def accuracy_chart(frame: pd.DataFrame) -> alt.Chart:
    tooltip = ["day", "answered", alt.Tooltip("accuracy", format=".0%")]
    return _progress_chart(
        frame, alt.X("day:T", title="Day"), _share("accuracy:Q", "Right"), tooltip
    )


def ratings_chart(frame: pd.DataFrame) -> alt.Chart:
    rating = alt.Y("rating:Q", title="Rating", scale=alt.Scale(domain=[1, 10]))
    return _progress_chart(frame, alt.X("week:O", title="Week"), rating, ["week", "rating"])


def weak_spots(concepts: list[dict[str, Any]]) -> None:
    st.markdown("##### Worth another look")
    if not concepts:
        st.caption("Concepts you miss in quizzes show up here.")
        return
    st.caption("The concepts you have answered wrong most, with the week that teaches them.")
    for c in concepts:
        st.markdown(
            f"- **{c['concept']}** · week {c['week']} · {counted(c['missed'], 'wrong answer')}"
        )


def back_to_prerequisites(rows: list[dict[str, Any]]) -> None:
    """Concepts the learner keeps missing, each with the earlier week it builds on and the
    passage to reread (cited; the passage itself in an expander)."""
    if not rows:
        return
    st.markdown("##### Back to the prerequisite")
    st.caption(
        "You keep missing these (most of your last answers on them wrong). Each builds "
        "on an earlier week: reread it, then try again."
    )
    for row in rows:
        passage = row["passage"]
        st.markdown(
            f"- **{row['concept']}** (week {row['concept_week']}): {row['missed']} of "
            f"your last {counted(row['answered'], 'answer')} wrong. {go_back(row)}"
        )
        if passage:
            with st.expander(f"Week {row['week']}: {passage['heading']}"):
                st.markdown(passage["text"])


def go_back(row: dict[str, Any]) -> str:
    """Where a concept kept missing sends the learner: the week it builds on and, when the
    index was searched, the passage to reread (cited)."""
    passage = row["passage"]
    reread = f" Reread *{passage['heading']}* `[{passage['source']}]`." if passage else ""
    return f"It builds on **week {row['week']}**, {row['title']}.{reread}"


def milestones_and_capstones(data: dict[str, Any]) -> None:
    """Monthly milestones and capstones begun, and re-plans made."""
    st.markdown("##### Milestones and capstones")
    rows = [
        f"- **Month {m['month']}** milestone · {m['items_done']} of {m['items']} done"
        + (f" · quiz {m['quiz_score']:.0%} of {m['answered']}" if m["answered"] else "")
        for m in data["milestones"]
    ]
    rows += [
        f"- **Q{c['quarter']} capstone** · {c['deliverables_done']} of "
        f"{c['deliverables']} deliverables"
        + (f" · self-review {c['mean_score']:g}/4" if c["mean_score"] else "")
        for c in data["capstones"]
    ]
    rows += [
        f"- Re-planned on {r['made_on']}: week {r['from_week']} → {r['to_week']}"
        for r in data["replans"]
    ]
    if rows:
        st.markdown("\n".join(rows))
    else:
        st.caption(
            "A month's milestone shows under its last week's plan; the capstone rubric "
            "under the capstone's."
        )

"""The top of the plan column for a signed-in learner: where they stand against the plan
(ahead or behind, finish date, next capstone), a re-plan button, and today's task from the
plan's weekly rhythm (Monday theory ... Friday review)."""

from __future__ import annotations

from typing import Any
from typing import Literal

import streamlit as st

from app.course.pace_words import capstone_words
from app.course.pace_words import week_words
from app.ui import session
from app.ui.client import Api
from app.ui.session import reported

BadgeColor = Literal[
    "red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"
]
STATUS: dict[str, tuple[BadgeColor, str]] = {
    "ahead": ("green", ":material/rocket_launch:"),
    "on track": ("green", ":material/check_circle:"),
    "behind": ("orange", ":material/schedule:"),
    "finished": ("violet", ":material/celebration:"),
    "not started": ("gray", ":material/hourglass_top:"),
}


def render_pace(api: Api) -> None:
    """The pace panel and today's task; nothing when nobody is signed in."""
    if not session.learner():
        return
    learner = session.learner_api(api)
    with reported():
        pace = learner.get(session.path("/pace"), today=session.today())
        today = learner.get(session.path("/today"), today=session.today())
        with st.container(border=True):
            pace_panel(learner, pace)
        with st.container(border=True):
            today_panel(today)


def status_label(pace: dict[str, Any]) -> str:
    n = abs(pace["weeks_ahead"])
    weeks = f"{n} week{'s' if n != 1 else ''}"
    return {
        "ahead": f"{weeks} ahead",
        "behind": f"{weeks} behind",
        "on track": "On track",
        "finished": "Plan finished",
        "not started": "Not started yet",
    }[pace["status"]]


def pace_panel(learner: Api, pace: dict[str, Any]) -> None:
    color, icon = STATUS[pace["status"]]
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown("**Your pace**")
        st.badge(status_label(pace), icon=icon, color=color)
    capstone = capstone_words(pace["next_capstone"])
    st.markdown(
        f"{week_words(pace).capitalize()} · {pace['hours_per_week']:g} h a week · "
        f"finish **{pace['finish_on']}**" + (f"  \n{capstone}" if capstone else "")
    )
    if pace["status"] in ("ahead", "behind"):
        replan_form(learner, pace)
    replanned = st.session_state.pop("replanned", None)
    if replanned:
        st.success(replanned, icon=":material/event_repeat:")


def replan_form(learner: Api, pace: dict[str, Any]) -> None:
    """Resume the plan today from the week the ticks say, at the hours a week given."""
    with st.container(horizontal=True, vertical_alignment="bottom"):
        hours = st.number_input(
            "Hours a week from now on",
            0.6,
            24.0,
            float(pace["hours_per_week"]),
            step=0.5,
            key="replan_hours",
        )
        if st.button(
            f"Re-plan from week {pace['resume_week']}",
            type="primary",
            icon=":material/event_repeat:",
            key="replan",
        ):
            with reported():
                done = learner.post(
                    session.path("/replan"), {"hours_per_week": hours}, today=session.today()
                )
                moved = done["replan"]
                if (me := session.learner()) is not None:
                    me["current_week"] = moved["to_week"]
                session.show_week(moved["to_week"])
                st.session_state["replanned"] = (
                    f"Re-planned: the plan had you in week "
                    f"{moved['from_week']}; you resume at week "
                    f"{moved['to_week']} today."
                )
                st.rerun()


def today_panel(today: dict[str, Any]) -> None:
    hours = f" · {today['hours']:g} h" if today["hours"] else ""
    activity = f" · {today['activity']}" if today["activity"] else ""
    st.markdown(f":material/today: **Today · {today['day']}**{activity}{hours}")
    st.markdown(today["advice"])
    if today["milestone_month"]:
        st.caption(
            f":material/flag: Month {today['milestone_month']} ends this week: its "
            f"milestone (quiz and checklist) is in week {today['week']}'s plan."
        )

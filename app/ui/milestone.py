"""A month's milestone in the plan column (shown under the month's last week): the plan's
checklist with the month's practice and assignments, and the milestone quiz, taken in the
Quiz tab."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.ui import session
from app.ui.client import Api
from app.ui.session import reported


def render_milestone(api: Api, month: int) -> None:
    if not session.learner():
        return
    learner = session.learner_api(api)
    base = session.path(f"/milestones/{month}")
    with reported():
        status = learner.get(base)
        with st.expander(
            f"Month {month} milestone · {status['title']}", icon=":material/flag:", expanded=True
        ):
            checklist(learner, base, status)
            quiz_line(learner, base, status)


def checklist(learner: Api, base: str, status: dict[str, Any]) -> None:
    """The items as checkboxes that save themselves; keys name the month, so one month's
    ticks never carry over to the next month's boxes."""
    for item in status["checklist"]:
        if item["id"] == "technical-concept-quiz":
            st.checkbox(
                item["text"],
                value=item["done"],
                disabled=True,
                key=f"ms-{status['month']}-{item['id']}",
                help="Done when every question of the milestone quiz is answered.",
            )
            continue
        checked = st.checkbox(
            item["text"], value=item["done"], key=f"ms-{status['month']}-{item['id']}"
        )
        if item["material"]:
            st.caption("  \n".join(f"week {m['week']}: {m['text']}" for m in item["material"]))
        if checked != item["done"]:
            with reported():
                learner.put(f"{base}/items/{item['id']}", {"done": checked})
                st.rerun()


def quiz_line(learner: Api, base: str, status: dict[str, Any]) -> None:
    quiz = status["quiz"]
    if quiz and quiz["answered"]:
        weeks = ", ".join(
            f"week {w['week']} {w['correct']}/{w['answered']}"
            for w in quiz["by_week"]
            if w["answered"]
        )
        st.markdown(
            f"**Milestone quiz:** {quiz['correct']} of {quiz['answered']} right "
            f"({len(quiz['questions'])} questions) · {weeks}"
        )
    if st.button(
        "Take the milestone quiz" if not quiz else "Take it again",
        icon=":material/quiz:",
        key=f"milestone-quiz-{status['month']}",
        type="secondary" if quiz else "primary",
    ):
        with reported():
            made = learner.post(f"{base}/quiz", {"n": 8})
            st.session_state["quiz"] = made | {
                "week": status["weeks"][-1],
                "label": f"month {status['month']} milestone",
            }
            st.session_state["quiz_results"] = {}
    # Said for as long as the quiz waits unanswered, not only in the run of the click: a
    # rerun that came next (another widget, the map) took the one-run message away unseen.
    waiting = st.session_state.get("quiz") or {}
    if waiting.get("label") == f"month {status['month']} milestone" and not st.session_state.get(
        "quiz_results"
    ):
        st.success(
            "Your milestone quiz is ready in the **Quiz** tab: a question on every "
            "week, more on what you have missed.",
            icon=":material/quiz:",
        )

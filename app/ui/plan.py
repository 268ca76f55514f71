"""The week's plan: where it sits in the 18 months, what to read, watch and do, and ticks.

Each line of a detailed week is also a task: its checkbox is the learner's tick, saved
through the API the moment it changes, so it is there after a reload or on another browser.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.course.curriculum import FIELD_LABELS
from app.course.curriculum import WEEK_FIELDS
from app.course.curriculum import WEEKS_PER_MONTH
from app.course.curriculum import Item
from app.ui import session
from app.ui.capstone import render_rubric
from app.ui.client import Api
from app.ui.milestone import render_milestone
from app.ui.pace import render_pace
from app.ui.session import reported

# Material icons ship with Streamlit, so they render the same on every machine.
ICONS = {
    "reading": "menu_book",
    "videos": "smart_display",
    "course": "school",
    "practice": "build",
    "assignment": "assignment",
    "review": "replay",
    "project_planning": "map",
    "setup": "settings",
    "research": "science",
    "planning": "event",
}


def render_plan(api: Api, plan: dict[str, Any]) -> None:
    render_pace(api)
    st.markdown(f"### Week {plan['number']} · {plan['title']}")
    with st.container(horizontal=True, gap="small"):
        st.badge(
            f"Phase {plan['phase']['number']} · {plan['phase']['title']}",
            icon=":material/flag_circle:",
            color="violet",
        )
        st.badge(f"Quarter {plan['quarter']['number']}", icon=":material/date_range:", color="blue")
        st.badge(
            f"Month {plan['month']['number']} · {plan['month']['title']}",
            icon=":material/calendar_month:",
            color="gray",
        )
    if plan.get("week"):
        render_week(api, plan["number"], plan["week"])
    elif plan.get("extended"):
        render_extended(plan["extended"])
    if plan["number"] % WEEKS_PER_MONTH == 0:
        render_milestone(api, plan["month"]["number"])
    render_capstone(api, plan)


def render_week(api: Api, number: int, week: dict[str, Any]) -> None:
    items = [(name, Item.model_validate(week[name])) for name in WEEK_FIELDS if week.get(name)]
    ticks = checklist(api, number)
    for name, item in items:
        with st.container(border=True):
            label = f":material/{ICONS[name]}: **{FIELD_LABELS[name]}**"
            if item.hours_label:
                label += f" · {item.hours_label}"
            if ticks is None:
                st.markdown(label)
            else:
                tick(api, number, name, label, ticks[name])
            st.markdown(describe(item))
    if ticks is None:
        st.caption(":material/info: Sign in (left) to tick off this week's tasks.")
    else:
        done = sum(ticks.values())
        st.progress(done / len(ticks), text=f"{done} of {len(ticks)} tasks done this week")


def describe(item: Item) -> str:
    """The plan's line, then its links; a resource's title is the link text."""
    links = [(item.title or "Open", str(item.url))] if item.url else []
    links += [(link.title, str(link.url)) for link in item.also]
    text = item.text
    if links:
        text += "  \n" + " · ".join(
            f":material/open_in_new: [{title}]({url})" for title, url in links
        )
    return text


def checklist(api: Api, week: int) -> dict[str, bool] | None:
    """Task -> done for the signed-in learner; None when nobody is signed in."""
    if not session.learner():
        return None
    with reported():
        tasks = session.learner_api(api).get(session.path(f"/weeks/{week}/tasks"))
        return {t["task"]: t["done"] for t in tasks}
    return None


def tick(api: Api, week: int, task: str, label: str, done: bool) -> None:
    """A checkbox that saves itself: when it differs from the stored tick, store it."""
    checked = st.checkbox(label, value=done, key=f"task-{week}-{task}")
    if checked != done:
        with reported():
            session.learner_api(api).put(
                session.path(f"/weeks/{week}/tasks/{task}"), {"done": checked}
            )
            st.rerun()  # redraw the progress bar from the stored ticks


def render_extended(block: dict[str, Any]) -> None:
    st.markdown(
        f"Months {block['months'][0]}-{block['months'][1]} are planned as tracks "
        f"rather than week by week: **{block['title']}**."
    )
    for section in block["sections"]:
        with st.container(border=True):
            note = f" · *{section['note']}*" if section.get("note") else ""
            st.markdown(f"**{section['title']}**{note}")
            st.markdown(
                "\n".join(
                    f"- **{i['title']}**: {i['text']}" if i.get("title") else f"- {i['text']}"
                    for i in section["items"]
                )
            )


def render_capstone(api: Api, plan: dict[str, Any]) -> None:
    """The capstone after the week on show, by the plan's weeks: how long the learner has
    left is the pace panel's to say (weeks of work and a date, from where they stand), so
    this week's column does not count down on its own."""
    capstone = plan.get("next_capstone")
    if not capstone:
        return
    weeks = plan["weeks_to_capstone"]
    when = "this week" if weeks == 0 else f"after week {capstone['after_week']}"
    st.info(
        f"**Q{capstone['quarter']} capstone {when}**: {capstone['title']}  \n{capstone['goal']}.",
        icon=":material/flag:",
    )
    render_rubric(api, capstone["quarter"], expanded=weeks <= 1)

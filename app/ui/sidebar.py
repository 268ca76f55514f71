"""The sidebar: who you are, which week you are looking at, and how the service is doing."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.course.curriculum import LAST_WEEK
from app.course.pace_words import week_words
from app.ui import session
from app.ui.client import Api
from app.ui.client import ApiError
from app.ui.reviews import card_made_toast
from app.ui.session import reported


@st.cache_data(ttl=3600, show_spinner=False)
def week_titles(base_url: str) -> dict[int, str]:
    """Week number -> title, for the picker; the plan changes only with a new release."""
    return {w["number"]: w["title"] for w in Api(base_url).get("/weeks")}


def render_sidebar(api: Api, health: dict[str, Any]) -> int:
    """Draw the sidebar; returns the week the learner is looking at."""
    with st.sidebar:
        st.markdown("## :material/school: Study Tutor")
        st.caption("Your 18-month AI/ML plan, one week at a time.")
        learner_panel(api)
        week = week_picker(api)
        service_status(health)
    return week


def learner_panel(api: Api) -> None:
    who = session.learner()
    if who:
        signed_in(api, who)
        return
    join, sign_in = st.tabs(["New learner", "Sign in"])
    with join, st.form("join", border=False):
        name = st.text_input("Your name", key="join_name", max_chars=100)
        week = st.number_input(
            "Starting week",
            1,
            LAST_WEEK,
            1,
            key="join_week",
            help="The plan week you are on now; change it any time.",
        )
        if st.form_submit_button(
            "Start learning", type="primary", icon=":material/person_add:", width="stretch"
        ):
            create(api, name, int(week))
    with sign_in, st.form("sign_in", border=False):
        key = st.text_input(
            "Sign-in key",
            key="sign_in_key",
            type="password",
            help="Shown once when you joined: your learner number, a dot, a token.",
        )
        if st.form_submit_button("Sign in", icon=":material/login:", width="stretch"):
            with reported():
                session.sign_in(api, key)
                st.rerun()


def create(api: Api, name: str, week: int) -> None:
    if not name.strip():
        st.warning("Tell the tutor your name first.", icon=":material/badge:")
        return
    with reported():
        found = api.post("/learners", {"name": name.strip(), "current_week": week})
        session.keep(found)
        st.session_state["new_key"] = f"{found['id']}.{found['token']}"
        st.rerun()


def signed_in(api: Api, who: dict[str, Any]) -> None:
    with st.container(border=True):
        pace = follow_current_week(api, who)
        where = week_words(pace).capitalize() if pace else f"On week {who['current_week']}"
        st.markdown(
            f":material/account_circle: **{who['name']}**  \n<small>{where}</small>",
            unsafe_allow_html=True,
        )
        due_count(session.learner_api(api))
        key = st.session_state.get("new_key")
        if key:
            st.caption(
                "Your sign-in key, shown this once. Keep it to sign in on another "
                "browser; this one remembers you."
            )
            st.code(key, language=None, wrap_lines=True)
            if st.button("I've saved it", key="saved_key", width="stretch"):
                st.session_state.pop("new_key")
                st.rerun()
        if st.button("Sign out", icon=":material/logout:", key="sign_out", width="stretch"):
            session.sign_out()
            st.rerun()


def follow_current_week(api: Api, who: dict[str, Any]) -> dict[str, Any] | None:
    """Where the learner stands today (`GET .../pace`, the one truth every view shows), and
    the week on show moved on with them: ticking off a week's last task puts them on the
    next week, and a learner looking at the week they were on follows. None when the API
    can't say (the plan column shows why)."""
    try:
        pace = session.learner_api(api).get(session.path("/pace"), today=session.today())
    except ApiError:
        return None
    was, now = who.get("current_week"), pace["current_week"]
    who["current_week"] = now
    if was != now and session.shown_week() == was:
        session.show_week(now)
        st.toast(f"On to week {now}.", icon=":material/event_available:")
    return dict(pace)


def due_count(api: Api) -> None:
    """How many reviews are due now, and when the next one is (fetched once per rerun)."""
    try:
        summary = api.get(session.path("/reviews/summary"))
    except ApiError:
        return  # the Reviews tab says what went wrong
    card_made_toast()
    icon = ":material/notifications_active:" if summary["due_now"] else ":material/event:"
    st.caption(
        f"{icon} {summary['text']}",
        help="Open the Reviews tab to review; FSRS picks the moment you are about to forget.",
    )


def week_picker(api: Api) -> int:
    """The week on show: the learner's current week unless they pick another."""
    try:
        titles = week_titles(api.base_url)
    except ApiError:
        titles = {}
    key = session.week_key()
    st.session_state.setdefault(key, 1)
    week = st.selectbox(
        "Week",
        range(1, LAST_WEEK + 1),
        key=key,
        format_func=lambda n: f"Week {n} · {titles.get(n, '')}".rstrip(" ·"),
        help="Weeks 1-48 are planned week by week; 49-72 are months 13-18.",
    )
    who = session.learner()
    if who and week != who["current_week"]:
        make_current_week(api, who, week)
    return int(week)


def make_current_week(api: Api, who: dict[str, Any], week: int) -> None:
    """Looking at another week doesn't move you there; this button does."""
    if st.button(
        f"Make week {week} my current week",
        icon=":material/event_available:",
        key="set_week",
        width="stretch",
    ):
        with reported():
            updated = session.learner_api(api).put(session.path("/week"), {"week": week})
            who["current_week"] = updated["current_week"]
            st.rerun()


def service_status(health: dict[str, Any]) -> None:
    st.divider()
    chunks = health["index_chunks"]
    library = f"{chunks:,} passages" if chunks else "empty"
    st.caption(
        f":material/memory: Model · **{health['model_provider']}** · {health['model']}  \n"
        f":material/local_library: Library · **{library}**"
    )

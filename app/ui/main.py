"""Study Tutor's web UI (Streamlit). It talks to the API over HTTP and holds no logic of its
own: run it with `tutor ui`, or `make run` to start the API beside it.

Layout: the sidebar signs you in and picks the week; the Chat tab shows the week's plan on
the left and the tutor on the right; Quiz, Reviews, Progress, Journal, Library and Evals
follow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
from pydantic import ValidationError

from app.config import Settings
from app.config import settings_problem
from app.ui import session
from app.ui.chat import render_chat
from app.ui.checks import render_checks_tab
from app.ui.client import Api
from app.ui.client import ApiError
from app.ui.eval_report import render_evals_tab
from app.ui.journal import render_journal_tab
from app.ui.library import render_empty_library
from app.ui.library import render_library_tab
from app.ui.plan import render_plan
from app.ui.progress import render_progress_tab
from app.ui.quiz import QUIZ_TAB
from app.ui.quiz import render_quiz_tab
from app.ui.reviews import render_reviews_tab
from app.ui.session import reported
from app.ui.sidebar import render_sidebar

CHAT_TAB = ":material/forum: Chat"
REVIEWS_TAB = ":material/event_repeat: Reviews"


def main() -> None:
    st.set_page_config(page_title="Study Tutor", page_icon=":material/school:", layout="wide")
    try:
        settings = Settings()
    except ValidationError as exc:
        st.error(f"A setting is not valid: {settings_problem(exc)}", icon=":material/error:")
        st.stop()
    api = Api(settings.resolved_api_url)
    health = check_health(api)
    session.restore(api)
    session.write_cookie()
    week = render_sidebar(api, health)
    if health["status"] != "ok":
        st.warning(health["detail"], icon=":material/warning:")
    ready = health["ready"]
    views: dict[str, Callable[[], None]] = {
        CHAT_TAB: lambda: chat_tab(api, week, ready),
        QUIZ_TAB: lambda: render_quiz_tab(api, week),
        REVIEWS_TAB: lambda: render_reviews_tab(api, week),
        ":material/insights: Progress": lambda: render_progress_tab(api),
        ":material/edit_note: Journal": lambda: render_journal_tab(api, week),
        ":material/code: Code": lambda: render_checks_tab(api, week),
        ":material/local_library: Library": lambda: (
            render_library_tab(api, week) if ready else render_empty_library(api)
        ),
        ":material/lab_research: Evals": lambda: render_evals_tab(settings.eval_reports_dir),
    }
    # Tabs that track state draw only the open one: no calls for what nobody is looking at.
    for tab, view in zip(st.tabs(list(views), key="tab", on_change="rerun"), views.values()):
        if tab.open:
            with tab:
                view()


def check_health(api: Api) -> dict[str, Any]:
    """The API's health; when it is not answering, a banner saying how to start it."""
    try:
        return api.get("/health")
    except ApiError as exc:
        st.markdown("## :material/school: Study Tutor")
        st.error(f"**The tutor's service is not answering.** {exc}", icon=":material/cloud_off:")
        st.button("Try again", icon=":material/refresh:", type="primary")
        st.stop()


def chat_tab(api: Api, week: int, ready: bool) -> None:
    plan_col, chat_col = st.columns([5, 6], gap="large")
    with plan_col, reported():
        render_plan(api, api.get(f"/weeks/{week}"))
    with chat_col:
        if ready:
            render_chat(api, week)
        else:
            render_empty_library(api)


main()

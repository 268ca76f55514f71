"""Who is signed in, remembered across reloads, and errors shown where they happen.

A learner's sign-in key is `<id>.<token>`: the API needs the id in its paths and the token
as a bearer header. The key lives in this session and in a cookie on this browser only, so a
reload (a new Streamlit session) finds the learner again; signing out forgets both.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

import streamlit as st

from app.ui.client import Api
from app.ui.client import ApiError

View = Callable[..., None]
COOKIE = "tutor_learner"
KEEP_DAYS = 180


@contextmanager
def reported() -> Iterator[None]:
    """Show an API failure as its message, in place, instead of a stack trace."""
    try:
        yield
    except ApiError as exc:
        st.error(str(exc), icon=":material/error:")


def learner() -> dict[str, Any] | None:
    """The signed-in learner: {id, name, current_week, token}, or None."""
    return st.session_state.get("learner")


def learner_api(api: Api) -> Api:
    """The API as the signed-in learner (bearer token), or anonymous."""
    who = learner()
    return api.as_learner(who["token"] if who else None)


def learner_tab(invitation: str, icon: str) -> Callable[[View], View]:
    """For tabs only a learner can use: the view gets the API as the learner, failures show
    as messages, and signed out the tab says what signing in would give instead."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def tab(api: Api, *args: Any) -> None:
            if not learner():
                st.info(f"Sign in (left) to {invitation}", icon=icon)
                return
            with reported():
                view(learner_api(api), *args)

        return tab

    return wrap


def today() -> str:
    """The learner's date (ISO), in their browser's time zone: it is what "today" means in
    the plan, whatever zone the UI's server runs in."""
    zone = st.context.timezone
    try:
        return (
            dt.datetime.now(ZoneInfo(zone)).date().isoformat()
            if zone
            else dt.date.today().isoformat()
        )
    except (ZoneInfoNotFoundError, ValueError):
        return dt.date.today().isoformat()


def path(suffix: str) -> str:
    """A route under the signed-in learner, e.g. path("/progress")."""
    return f"/learners/{st.session_state['learner']['id']}{suffix}"


def parse_key(key: str) -> tuple[int, str]:
    number, _, token = key.strip().partition(".")
    if not number.isdigit() or not token:
        raise ApiError(
            "A sign-in key looks like `12.AbC…`: your learner number, a dot, "
            "and the token shown when you joined.",
            400,
        )
    return int(number), token


def sign_in(api: Api, key: str) -> dict[str, Any]:
    """Check the key with the API and keep the learner in the session and the cookie."""
    number, token = parse_key(key)
    try:
        found = api.as_learner(token).get(f"/learners/{number}")
    except ApiError as exc:
        if exc.status in (401, 404):
            raise ApiError(
                "That sign-in key is not known here; check it, or create a new learner.", exc.status
            ) from exc
        raise
    return keep({**found, "token": token})


def keep(found: dict[str, Any]) -> dict[str, Any]:
    st.session_state["learner"] = found
    show_week(found["current_week"])
    _set_cookie(f"{found['id']}.{found['token']}", KEEP_DAYS * 86400)
    return found


def week_key() -> str:
    """The session-state key of the sidebar's week picker now (`week_<n>`)."""
    return f"week_{st.session_state.get('week_epoch', 0)}"


def shown_week() -> int:
    """The week the sidebar's picker is on (1 before anything set it)."""
    return int(st.session_state.get(week_key(), 1))


def show_week(week: int) -> None:
    """Put the sidebar's week picker on `week` from code: on joining, signing in, moving on
    to the next week and re-planning. Safe before or after the picker is drawn in a run.

    Each such move gives the picker a new key. A click in the browser sends back every
    widget's value as the browser last saw it; a click that came before the browser had this
    run's picker (a learner who joins on week 4 and at once presses "I've saved it") sent
    week 1, which beat the 4 set here, and the learner found week 1 on show. A value sent for
    the old key now belongs to no widget and is dropped."""
    epoch = st.session_state.get("week_epoch", 0) + 1
    st.session_state["week_epoch"] = epoch
    st.session_state[f"week_{epoch}"] = week


def sign_out() -> None:
    for name in ("learner", "new_key", "quiz", "quiz_results", "reviews", "review_results"):
        st.session_state.pop(name, None)
    st.session_state["cookie_checked"] = True
    _set_cookie("", 0)


def restore(api: Api) -> None:
    """A new session (a reload) signs the learner in again from this browser's cookie.

    Tried once per session; a key the API no longer knows is forgotten, but an API that is
    merely down leaves it for the next try."""
    key = st.context.cookies.to_dict().get(COOKIE)
    if st.session_state.get("cookie_checked") or learner() or not key:
        return
    try:
        sign_in(api, key)
    except ApiError as exc:
        if exc.status in (400, 401, 404):
            _set_cookie("", 0)
        else:
            return
    st.session_state["cookie_checked"] = True


def _set_cookie(value: str, max_age: int) -> None:
    """Queue the cookie for `write_cookie`: sign-in and sign-out rerun the page at once, and
    a script drawn in a run cut short by a rerun would never reach the browser."""
    st.session_state["cookie"] = f"{COOKIE}={value}; path=/; max-age={max_age}; samesite=strict"


def write_cookie() -> None:
    """Streamlit can read cookies but not set them, so a one-line script does."""
    cookie = st.session_state.pop("cookie", None)
    if cookie:
        st.html(
            f"<script>document.cookie = {json.dumps(cookie)};</script>",
            unsafe_allow_javascript=True,
        )

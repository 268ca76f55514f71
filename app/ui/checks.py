"""The Code tab: "Check my code" runs a week's from-scratch assignment checks on your file
(uploaded or pasted) in the API's sandbox, and shows what passes, what fails on which small
input, and the hint with the note it cites."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.ui import session
from app.ui.client import Api
from app.ui.client import ApiError


def render_checks_tab(api: Api, week: int) -> None:
    """`week` is the one the sidebar has on show, as in every tab: the learner's current week
    once signed in, until they pick another."""
    checks = api.get("/checks")
    weeks = sorted({c["week"] for c in checks})
    follow_week(week, weeks)
    chosen = st.selectbox(
        "Assignment week",
        weeks,
        key="check-week",
        format_func=lambda w: (
            f"Week {w}: " + ", ".join(c["title"] for c in checks if c["week"] == w)
        ),
    )
    if week not in weeks:
        st.caption(f"Week {week} has no code check; week {nearest(week, weeks)} is the nearest.")
    with st.expander("What your file must define"):
        for c in checks:
            if c["week"] == chosen:
                st.markdown(f"**{c['name']}**: {c['interface']}")
    upload = st.file_uploader("Your Python file", type=["py"], key="check-file")
    pasted = st.text_area("or paste your code", key="check-code", height=200)
    if st.button("Check my code", key="check-run", type="primary"):
        code = upload.getvalue().decode("utf-8", errors="replace") if upload else pasted
        if not code.strip():
            st.warning("Upload a .py file or paste your code first.")
            return
        try:
            with st.spinner("Running your code in the sandbox..."):
                # signed in, the attempt is kept in your progress; anonymous, it is not
                body = {"code": code, "filename": upload.name if upload else "pasted.py"}
                verdict = session.learner_api(api).post(f"/checks/{chosen}", body)
        except ApiError as exc:
            st.error(str(exc))
            return
        show_verdict(verdict)


def follow_week(week: int, weeks: list[int]) -> None:
    """Put the picker on `week`, or the `nearest` week with a check (the earlier of two as
    near: its material is done), whenever the week on show changes; in between, the
    learner's own pick stays (a picker keeps its value once drawn, whatever its index says)."""
    if st.session_state.get("check-week-for") == week:
        return
    st.session_state["check-week-for"] = week
    st.session_state["check-week"] = nearest(week, weeks)


def nearest(week: int, weeks: list[int]) -> int:
    return min(weeks, key=lambda w: (abs(w - week), w))


def show_verdict(verdict: dict[str, Any]) -> None:
    """A verdict from POST /checks/{week}."""
    for check in verdict["checks"]:
        (st.success if check["passed"] else st.error)(
            f"{'Pass' if check['passed'] else 'Not yet'}: {check['title']}"
        )
        if wrong := check.get("wrong_interface"):
            st.markdown(f":red[✗] **returns what the check expects**: {wrong['detail']}")
            st.code(wrong["example"], language=None)
            st.caption(f"Expected: {wrong['interface']}")
        for n, prop in enumerate(check["properties"], 1):
            if prop["passed"]:
                st.markdown(f":green[✓] {prop['name']}")
                continue
            st.markdown(f":red[✗] **{prop['name']}**: {prop['detail']}")
            st.code(prop["example"], language=None)
            st.markdown(f"Hint: {prop['hint']['advice']} [{n}]")
            st.caption(f"[{n}] {prop['hint']['source']}: {prop['hint']['quote']}")
    for missing in verdict["not_checked"]:
        st.warning(
            f"Not checked: {missing['name']} (your file does not define "
            f"{', '.join(missing['missing'])}). Expected: {missing['interface']}"
        )
    if verdict["stopped"]:
        st.error(f"Stopped ({verdict['stopped']['kind']}): {verdict['stopped']['message']}")
    st.caption(
        f"{verdict['seconds']} s in the sandbox ({verdict['mechanism'] or '-'})"
        + (" · kept in your progress" if verdict.get("attempt_id") else "")
        + (
            f" · this sandbox leaves open: {verdict['isolation']}"
            if verdict.get("isolation")
            else ""
        )
    )

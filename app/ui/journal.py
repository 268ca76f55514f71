"""The Journal tab: how well you know the week (1-10) and notes to your future self."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from app.ui import session
from app.ui.client import Api

NOTE_SAVED = "journal_note_saved"  # the week whose note was just saved, for the run after


@session.learner_tab(
    "keep a journal: a weekly self-rating and notes on what clicked and what didn't.",
    ":material/edit_note:",
)
def render_journal_tab(api: Api, week: int) -> None:
    ratings = api.get(session.path("/ratings"))
    entries = api.get(session.path("/journal"))
    write_col, read_col = st.columns([2, 3], gap="large")
    with write_col:
        entry_form(api, week, ratings.get(str(week)))
    with read_col:
        past_entries(entries, ratings)


def entry_form(api: Api, week: int, rating: int | None) -> None:
    """The week's rating and a new note. Saving empties the note but keeps the rating on show:
    clearing the whole form put the slider back to its first default (5), as if the 7 just
    saved had not been."""
    st.markdown(f"#### :material/edit_note: Week {week}")
    if st.session_state.pop(NOTE_SAVED, None) == week:  # a widget is set only before it is drawn
        st.session_state[f"notes-{week}"] = ""
    with st.form(f"journal-{week}"):
        new_rating = st.slider(
            "How well do you know this week's material?",
            1,
            10,
            rating or 5,
            key=f"rating-{week}",
            help="1: lost · 5: getting there · 10: could teach it",
        )
        text = st.text_area(
            "Notes",
            key=f"notes-{week}",
            height=140,
            placeholder="What clicked, what didn't, what to revisit…",
        )
        if not st.form_submit_button("Save", type="primary", icon=":material/save:"):
            return
    api.put(session.path(f"/weeks/{week}/rating"), {"rating": new_rating})
    if text.strip():
        api.post(session.path("/journal"), {"text": text.strip()}, week=week)
    st.toast(f"Saved week {week}: {new_rating}/10", icon=":material/check_circle:")
    st.session_state[NOTE_SAVED] = week
    st.rerun()


def past_entries(entries: list[dict[str, Any]], ratings: dict[str, int]) -> None:
    st.markdown("#### :material/history_edu: Your journal")
    if not entries and not ratings:
        st.caption("Nothing yet. A line a week is enough to see how far you've come.")
        return
    weeks = sorted({e["week"] for e in entries} | {int(w) for w in ratings}, reverse=True)
    for week in weeks:
        rating = ratings.get(str(week))
        with st.container(border=True):
            st.markdown(f"**Week {week}**" + (f" · {rating}/10" if rating else ""))
            for entry in reversed([e for e in entries if e["week"] == week]):
                when = dt.datetime.fromisoformat(entry["created_at"]).strftime("%d %b %Y")
                st.caption(when)
                st.markdown(entry["text"])

"""The capstone coach in the plan column: the quarter's capstone as a rubric, its deliverables
ticked, links to the learner's repository and report, and a self-review scored 1-4."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.course.rubric import SCORES
from app.ui import session
from app.ui.client import Api
from app.ui.session import reported


def render_rubric(api: Api, quarter: int, expanded: bool) -> None:
    """The rubric with the signed-in learner's work; a hint to sign in otherwise."""
    if not session.learner():
        st.caption(
            ":material/info: Sign in (left) to tick deliverables and review yourself "
            "against the capstone's rubric."
        )
        return
    learner = session.learner_api(api)
    base = session.path(f"/capstones/{quarter}")
    with reported():
        work = learner.get(base)
        with st.expander(
            f"Q{quarter} capstone rubric · {work['title']}",
            icon=":material/checklist:",
            expanded=expanded,
        ):
            rubric_body(learner, base, work)


def rubric_body(learner: Api, base: str, work: dict[str, Any]) -> None:
    st.caption(
        f"Draws on weeks {work['weeks'][0]}-{work['weeks'][1]}; due after week "
        f"{work['after_week']}. Score yourself 1-4 on each line: "
        + ", ".join(f"{n} {meaning}" for n, meaning in SCORES.items())
        + "."
    )
    for criterion in work["criteria"]:
        label = f"**{criterion['kind'].capitalize()}** · {criterion['text']}"
        if criterion["kind"] == "deliverable":
            deliverable_box(learner, base, criterion, label, work["quarter"])
        else:
            st.markdown(label)
    links_form(learner, base, work)
    review_form(learner, base, work)


def deliverable_box(
    learner: Api, base: str, criterion: dict[str, Any], label: str, quarter: int
) -> None:
    """A checkbox that saves itself, like the week's tasks (its key names the quarter)."""
    checked = st.checkbox(label, value=criterion["done"], key=f"cap-{quarter}-{criterion['id']}")
    if checked != criterion["done"]:
        with reported():
            learner.put(f"{base}/deliverables/{criterion['id']}", {"done": checked})
            st.rerun()


def links_form(learner: Api, base: str, work: dict[str, Any]) -> None:
    with st.form(f"links-{work['quarter']}", border=False):
        repository = st.text_input(
            "Repository", work["repository"] or "", placeholder="https://github.com/you/project"
        )
        report = st.text_input(
            "Report or blog post", work["report"] or "", placeholder="https://you.dev/report"
        )
        if st.form_submit_button("Save links", icon=":material/link:"):
            with reported():
                learner.put(
                    f"{base}/links",
                    {"repository": repository.strip() or None, "report": report.strip() or None},
                )
                st.rerun()


def review_form(learner: Api, base: str, work: dict[str, Any]) -> None:
    with st.form(f"review-{work['quarter']}", border=False):
        st.markdown(
            "**Self-review**" + (f" · last on {work['reviewed_on']}" if work["reviewed_on"] else "")
        )
        scores = {
            c["id"]: st.select_slider(
                c["text"],
                options=list(SCORES),
                value=c["score"] or 1,
                format_func=lambda n: f"{n} · {SCORES[n]}",
                key=f"score-{work['quarter']}-{c['id']}",
            )
            for c in work["criteria"]
        }
        note = st.text_area("Note", work["note"], placeholder="What to improve next")
        if st.form_submit_button("Save self-review", icon=":material/rate_review:"):
            with reported():
                learner.put(
                    f"{base}/review", {"scores": scores, "note": note}, today=session.today()
                )
                st.rerun()

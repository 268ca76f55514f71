"""The Quiz tab: a quiz on a week, graded one answer at a time (reviews: app/ui/reviews.py).

Questions come from the API without their answers; each answer is graded by the API, which
sends back feedback quoting the source and schedules the question for spaced review.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from app.ui import session
from app.ui.client import Api
from app.ui.session import reported

KIND_LABELS = {"mcq": "Multiple choice", "truefalse": "True or false", "short": "Short answer",
               "cloze": "Fill the blank"}


@session.learner_tab("take quizzes. Every answer you give is scheduled for review at the "
                    "right moment, so what you learn sticks.", ":material/quiz:")
def render_quiz_tab(api: Api, week: int) -> None:
    render_quiz(api, week)  # what is due comes back in the Reviews tab


def render_quiz(api: Api, week: int) -> None:
    requested = st.session_state.pop("quiz_request", None)
    if requested:
        start_quiz(api, requested)
    quiz = st.session_state.get("quiz")
    with st.container(horizontal=True, vertical_alignment="center"):
        what = (quiz.get("label") or f"week {quiz['week']}") if quiz else f"week {week}"
        st.markdown(f"#### :material/quiz: Quiz · {what}")
        count = st.segmented_control("Questions", [3, 5, 10], default=5, required=True,
                                     key="quiz_n", label_visibility="collapsed",
                                     format_func=lambda n: f"{n} questions")
        if st.button(f"New quiz on week {week}", icon=":material/play_arrow:",
                     type="secondary" if quiz else "primary", key="start_quiz"):
            start_quiz(api, week, count)
            quiz = st.session_state.get("quiz")
    if not quiz:
        st.caption("Questions come from the course notes: multiple choice, true or false, "
                   "fill the blank and short answers, each with its source.")
        return
    results = st.session_state.setdefault("quiz_results", {})
    for i, question in enumerate(quiz["questions"], 1):
        path = session.path(f"/quizzes/{quiz['quiz_id']}/answers")
        answer_card(question, f"Question {i} of {len(quiz['questions'])}", results,
                    lambda response, q=question, p=path: api.post(
                        p, {"question_id": q["id"], "response": response}))
    answered = [results[q["id"]] for q in quiz["questions"] if q["id"] in results]
    if len(answered) == len(quiz["questions"]):
        right = sum(r["correct"] for r in answered)
        st.success(f"**{right} of {len(answered)} right.** Wrong answers come back for review "
                   "soon; right ones later.", icon=":material/emoji_events:")


def start_quiz(api: Api, week: int, n: int = 5) -> None:
    with reported():
        st.session_state["quiz"] = api.post(session.path("/quizzes"), {"week": week, "n": n})
        st.session_state["quiz_results"] = {}


def answer_card(question: dict[str, Any], title: str, results: dict[str, Any],
                submit: Callable[[str], dict[str, Any]],
                rate: Callable[[str, str], dict[str, Any]] | None = None) -> None:
    """One question in a card: a form until answered, then the feedback with its source.

    With `rate`, `submit` only checks the answer; the learner's own rating then records it."""
    with st.container(border=True):
        st.caption(f"{title} · {KIND_LABELS.get(question['kind'], question['kind'])}")
        st.markdown(f"**{question['prompt']}**")
        result = results.get(question["id"])
        if result:
            feedback(result)
            if rate and "next_review" not in result:
                rating_buttons(question["id"], result, results, rate)
            return
        with st.form(f"answer-{question['id']}", border=False):
            if question["options"]:
                response = st.radio("Your answer", question["options"], index=None,
                                    key=f"response-{question['id']}",
                                    label_visibility="collapsed")
            else:
                response = st.text_input("Your answer", key=f"response-{question['id']}",
                                         label_visibility="collapsed",
                                         placeholder="Type your answer")
            if not st.form_submit_button("Check", icon=":material/check:"):
                return
        if not response:
            st.warning("Choose or type an answer first.", icon=":material/edit:")
            return
        with reported():
            results[question["id"]] = submit(response) | {"response": response}
            st.rerun()


def rating_buttons(question_id: str, result: dict[str, Any], results: dict[str, Any],
                   rate: Callable[[str, str], dict[str, Any]]) -> None:
    """Again, Hard, Good, Easy: the learner's verdict schedules the next review."""
    st.markdown("**How did it go?** Your rating decides when this comes back.")
    with st.container(horizontal=True):
        for rating in result["rate_with"]:
            if st.button(rating.capitalize(), key=f"rate-{question_id}-{rating}",
                         type="primary" if rating == "good" else "secondary"):
                with reported():
                    results[question_id] = rate(result["response"], rating)
                    st.rerun()


def feedback(result: dict[str, Any]) -> None:
    """Right or wrong, the answer, and the source; the note's words only once."""
    if result["correct"]:
        st.success(result["feedback"], icon=":material/check_circle:")
    else:
        st.error(result["feedback"], icon=":material/cancel:")
        st.markdown(f"**Answer:** {result['answer']}")
    citation = result["citation"]
    for text in (result.get("explanation"), citation.get("snippet")):
        if text and text not in result["feedback"]:
            st.markdown(f"> {text}")
            break
    when = f" · next review {result['next_review'][:10]}" if "next_review" in result else ""
    st.caption(f":material/description: `{citation['source']}` · week {citation['week']}{when}")

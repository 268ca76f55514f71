"""The Quiz tab: a quiz on a week, graded one answer at a time (reviews: app/ui/reviews.py).

Questions come from the API without their answers; each answer is graded by the API, which
sends back feedback quoting the source and schedules the question for spaced review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from textwrap import shorten
from typing import Any

import streamlit as st

from app.practice.grading import score_summary
from app.text import counted
from app.ui import session
from app.ui.client import Api
from app.ui.session import reported

QUIZ_TAB = ":material/quiz: Quiz"
TOPIC_QUIZ_SIZE = 5  # questions asked for by "Quiz me on this"

SIZES = (3, 5, 10)  # questions in a new quiz, to choose from
START_SIZE = 5
KIND_LABELS = {
    "mcq": "Multiple choice",
    "truefalse": "True or false",
    "short": "Short answer",
    "cloze": "Fill the blank",
}


@session.learner_tab(
    "take quizzes. Every answer you give is scheduled for review at the "
    "right moment, so what you learn sticks.",
    ":material/quiz:",
)
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
        count = size_control(quiz)
        if st.button(
            f"New quiz on week {week}",
            icon=":material/play_arrow:",
            type="secondary" if quiz else "primary",
            key="start_quiz",
        ):
            start_quiz(api, week, count)
            quiz = st.session_state.get("quiz")
    if not quiz:
        st.caption(
            "Questions come from the course notes: multiple choice, true or false, "
            "fill the blank and short answers, each with its source."
        )
        return
    shortfall(quiz)
    results = st.session_state.setdefault("quiz_results", {})
    for i, question in enumerate(quiz["questions"], 1):
        path = session.path(f"/quizzes/{quiz['quiz_id']}/answers")
        answer_card(
            question,
            f"Question {i} of {len(quiz['questions'])}",
            results,
            partial(_send_answer, api, path, question["id"]),
        )
    answered = [results[q["id"]] for q in quiz["questions"] if q["id"] in results]
    if len(answered) == len(quiz["questions"]):
        first_back = min(dt.datetime.fromisoformat(r["next_review"]) for r in answered)
        summary = score_summary(
            sum(r["correct"] for r in answered), len(answered), first_back, dt.datetime.now(dt.UTC)
        )
        show(summary["tone"], summary["text"], SCORE_ICONS[summary["tone"]])


def size_control(quiz: dict[str, Any] | None) -> int:
    """How many questions a new quiz has: the control starts on the size of the quiz on show
    (one from "Quiz me on this" or the milestone included; a control of its own for each
    quiz), since it read "5 questions" over a quiz of 3; then it is the learner's choice."""
    shown = len(quiz["questions"]) if quiz else START_SIZE
    return st.segmented_control(
        "Questions",
        sorted({*SIZES, shown}),
        default=shown,
        required=True,
        key=f"quiz_n-{quiz['quiz_id'] if quiz else 'new'}",
        label_visibility="collapsed",
        format_func=lambda n: f"{n} questions",
    )


def shortfall(quiz: dict[str, Any]) -> None:
    """When fewer questions came than were asked for, why: the notes have no more new ones on
    what the quiz is about (those asked in the last days are left out), and it is not padded
    with another topic's."""
    got, asked = len(quiz["questions"]), quiz.get("asked", 0)
    if got >= asked:
        return
    topic = f"“{shorten(quiz['topic'], 60, placeholder='…')}”" if quiz.get("topic") else ""
    about = " or ".join(quiz.get("concepts") or []) or topic or f"week {quiz['week']}"
    st.info(
        f"{counted(got, 'question')}, not the {asked} asked for: the notes have only "
        f"{got} new on {about}, and the quiz stays on it rather than adding another topic's.",
        icon=":material/info:",
    )


def _send_answer(api: Api, path: str, question_id: str, response: str) -> Any:
    """POST one answer to the quiz at `path`; the API's grade."""
    return api.post(path, {"question_id": question_id, "response": response})


def start_quiz(api: Api, request: int | dict[str, Any], n: int = 5) -> None:
    """A quiz on a week, or on a conversation's topic (`request`: the API's quiz body with a
    `topic` and its `passages`, from "Quiz me on this")."""
    body = request if isinstance(request, dict) else {"week": request, "n": n}
    with reported():
        asked = body.get("n", 5)  # the API's default
        quiz = api.post(session.path("/quizzes"), body) | {"asked": asked}
        if quiz.get("topic"):
            quiz["label"] = f"“{shorten(quiz['topic'], 60, placeholder='…')}”"
        st.session_state["quiz"] = quiz
        st.session_state["quiz_results"] = {}


def answer_card(
    question: dict[str, Any],
    title: str,
    results: dict[str, Any],
    submit: Callable[[str], dict[str, Any]],
) -> None:
    """One question in a card: a form until answered, then the feedback with its source."""
    with st.container(border=True):
        st.caption(f"{title} · {KIND_LABELS.get(question['kind'], question['kind'])}")
        st.markdown(f"**{question['prompt']}**")
        result = results.get(question["id"])
        if result:
            feedback(result)
            return
        with st.form(f"answer-{question['id']}", border=False):
            if question["options"]:
                response = st.radio(
                    "Your answer",
                    question["options"],
                    index=None,
                    key=f"response-{question['id']}",
                    label_visibility="collapsed",
                )
            else:
                response = st.text_input(
                    "Your answer",
                    key=f"response-{question['id']}",
                    label_visibility="collapsed",
                    placeholder="Type your answer",
                )
            if not st.form_submit_button("Check", icon=":material/check:"):
                return
        if not response:
            st.warning("Choose or type an answer first.", icon=":material/edit:")
            return
        with reported():
            results[question["id"]] = submit(response) | {"response": response}
            st.rerun()


VERDICT_ICONS = {
    "success": ":material/check_circle:",
    "info": ":material/how_to_reg:",
    "warning": ":material/trending_flat:",
    "error": ":material/cancel:",
}
SCORE_ICONS = {
    "success": ":material/emoji_events:",
    "info": ":material/trending_up:",
    "warning": ":material/school:",
}


def show(tone: str, text: str, icon: str) -> None:
    """A message box in one of `app.practice.quiz.TONES`."""
    {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[tone](
        text, icon=icon
    )


def feedback(result: dict[str, Any]) -> None:
    """The verdict in the colour and icon of what is recorded (a self-rating that overrode
    the grader is neutral, not a green check), the answer when it was missed, the source
    sentence once (only when the question did not already show it), and where it is from."""
    tone = result.get("tone") or ("success" if result["correct"] else "error")
    show(tone, result["feedback"], VERDICT_ICONS[tone])
    if tone != "success" and result["answer"] not in result["feedback"]:
        st.markdown(f"**Answer:** {result['answer']}")
    if result.get("quote"):
        st.markdown(f"> {result['quote']}")
    citation = result["citation"]
    when = f" · comes back {result['comes_back']}" if "comes_back" in result else ""
    st.caption(f":material/description: `{citation['source']}` · week {citation['week']}{when}")


def quiz_me(request: dict[str, Any]) -> None:
    """Open the Quiz tab on `request` (the API's quiz body: a `topic` and its `passages`), from
    "Quiz me on this" in the chat or on the concept map. Runs before the next rerun, when the
    tab may still be switched."""
    st.session_state["quiz_request"] = request
    st.session_state["tab"] = QUIZ_TAB

"""The chat: questions to the tutor, answers streamed in, each citation a card to open.

The conversation lives in this session; the API keeps the thread (`conversation_id`) so
follow-ups are understood. "Quiz me on this" hands the conversation's topic (the last question
and the passages that answered it) to the Quiz tab.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import chain
from typing import Any

import streamlit as st

from app.ui import session
from app.ui.client import Api
from app.ui.client import ApiError
from app.ui.progress import go_back
from app.ui.quiz import TOPIC_QUIZ_SIZE
from app.ui.quiz import quiz_me
from app.ui.reviews import card_from_answer
from app.ui.session import reported

MODES = {
    "explain": ":material/school: Explain",
    "socratic": ":material/psychology: Socratic",
    "quick": ":material/bolt: Quick",
}
MODE_HELP = (
    "Explain: a clear answer with sources · Socratic: hints and questions that lead "
    "you there · Quick: two or three sentences"
)
AVATARS = {"user": ":material/person:", "assistant": ":material/school:"}
# A formula wider than its column scrolls sideways inside it rather than spilling over the page
# or being cut off: display math in its own box, and a paragraph or list item whose inline
# formula cannot wrap (a \left...\right group or a fraction wider than the column) as a whole;
# KaTeX wraps the others at their operators, as before.
FORMULAS_SCROLL = """<style>
[data-testid="stMarkdownContainer"] .katex-display {
  overflow-x: auto; overflow-y: hidden; padding-bottom: 0.3rem;
}
[data-testid="stMarkdownContainer"] :is(p, li):has(.katex) { overflow-x: auto; overflow-y: hidden; }
</style>"""


def render_chat(api: Api, week: int) -> None:
    formulas_scroll()
    follow_learner(session.learner_api(api))
    with st.container(
        horizontal=True, vertical_alignment="center", horizontal_alignment="distribute"
    ):
        st.markdown("#### :material/forum: Ask the tutor")
        with st.container(horizontal=True, vertical_alignment="center", width="content"):
            st.segmented_control(
                "Mode",
                list(MODES),
                format_func=MODES.__getitem__,
                default="explain",
                required=True,
                key="mode",
                label_visibility="collapsed",
                help=MODE_HELP,
            )
            if session.learner():
                conversations_menu(session.learner_api(api))
    history: list[dict[str, Any]] = st.session_state.setdefault("chat", [])
    messages = st.container()  # above the input box, where new turns appear too
    question = st.chat_input(
        f"Ask about week {week}, or anything in the course", key="question", max_chars=2000
    )  # the API's limit
    with messages:
        for turn in history:
            with st.chat_message(turn["role"], avatar=AVATARS[turn["role"]]):
                st.markdown(turn["content"])
                render_citations(turn.get("citations", []))
        if not history and not question:
            question = suggestions(week)
        if question:
            ask(api, question, week, st.session_state["mode"])
        if history and history[-1]["role"] == "assistant":
            with st.container(horizontal=True):
                quiz_me_button(history, week)
                card_from_answer(api, history)


def formulas_scroll() -> None:
    """Long formulas in this tab's answers and passages scroll within their column
    (`FORMULAS_SCROLL`); a style only, it takes no room on the page."""
    st.html(FORMULAS_SCROLL)


def follow_learner(api: Api) -> None:
    """The chat is the signed-in learner's: on signing in, or in a new session (a reload),
    their latest conversation comes back; signed out, the chat starts empty."""
    who = session.learner()
    owner = who["id"] if who else None
    if "chat" in st.session_state and st.session_state.get("chat_owner") == owner:
        return
    st.session_state["chat_owner"] = owner
    new_conversation()
    if who:
        with reported():
            latest = api.get(session.path("/conversations"))[:1]
            if latest:
                open_conversation(api, latest[0]["id"])


def open_conversation(api: Api, conversation_id: str) -> None:
    """Show a saved conversation and continue it: the API keeps its thread."""
    saved = api.get(session.path(f"/conversations/{conversation_id}"))
    st.session_state["chat"] = [
        {"role": m["role"], "content": m["content"], "citations": m["citations"]}
        for m in saved["messages"]
    ]
    st.session_state["conversation_id"] = conversation_id


def new_conversation() -> None:
    st.session_state["chat"] = []
    st.session_state.pop("conversation_id", None)


def conversations_menu(api: Api) -> None:
    """Earlier conversations to reopen, and a fresh start."""
    with (
        st.popover("", icon=":material/history:", help="Your conversations", type="tertiary"),
        reported(),
    ):
        if st.button(
            "New conversation",
            icon=":material/add_comment:",
            key="new_conversation",
            width="stretch",
        ):
            new_conversation()
        current = st.session_state.get("conversation_id")
        for c in api.get(session.path("/conversations"))[:8]:
            if st.button(
                f"{c['title'][:60]} · {c['turns']} turns",
                key=f"open-{c['id']}",
                type="tertiary",
                disabled=c["id"] == current,
            ):
                open_conversation(api, c["id"])


def suggestions(week: int) -> str | None:
    """Questions to start from, so an empty chat is an invitation rather than a blank."""
    st.caption(
        f"The tutor answers from the plan and the course notes, with sources. "
        f"Try one of these for week {week}:"
    )
    asks = [
        "What is my assignment this week?",
        "Explain this week's key idea simply",
        "When is the next capstone?",
    ]
    with st.container(horizontal=True, gap="small"):
        for i, text in enumerate(asks):
            if st.button(text, key=f"suggest-{i}", icon=":material/lightbulb:", type="tertiary"):
                return text
    return None


def ask(api: Api, question: str, week: int, mode: str) -> None:
    with st.chat_message("user", avatar=AVATARS["user"]):
        st.markdown(question)
    payload = {
        "question": question,
        "week": week,
        "mode": mode,
        "conversation_id": st.session_state.get("conversation_id"),
    }
    with st.chat_message("assistant", avatar=AVATARS["assistant"]), reported():
        placeholder = st.empty()
        answer = stream_into(placeholder, session.learner_api(api).stream_answer(payload))
        placeholder.markdown(answer["answer"])  # the streamed text, without the cursor
        render_citations(answer["citations"])
        render_back_to(answer.get("back_to", []))
        st.session_state["conversation_id"] = answer["conversation_id"]
        st.session_state["chat"] += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer["answer"], "citations": answer["citations"]},
        ]


def stream_into(placeholder: Any, events: Iterator[tuple[str, Any]]) -> dict[str, Any]:
    """Show tokens as they arrive; a spinner with the elapsed time until the first one (a
    small local model on a busy machine can take a while). Returns the `done` answer."""
    with st.spinner("Reading the course notes and thinking…", show_time=True):
        first = next((event for event in events if event[0] != "queued"), None)
    text = ""
    for name, data in chain([first] if first else [], events):
        if name == "token":
            text += data["text"]
            placeholder.markdown(text + " ▌")
        elif name == "done":
            return data
    raise ApiError("The answer stopped before it was finished; please ask again.")


def render_citations(citations: list[dict[str, Any]]) -> None:
    for c in sorted(citations, key=lambda c: c["n"]):
        where = f" · week {c['week']}" if c.get("week") else ""
        with st.expander(
            f"[{c['n']}] {c['title'] or c['source']}{where}", icon=":material/description:"
        ):
            st.caption(f":material/folder_open: `{c['source']}` · {c['heading']}")
            st.markdown("\n".join(f"> {line}" for line in c["snippet"].splitlines()))
            if c.get("url"):
                st.markdown(f":material/open_in_new: [Open the source]({c['url']})")


def render_back_to(pointers: list[dict[str, Any]]) -> None:
    """Under an answer on a concept the learner keeps missing: the earlier week to go back
    to, and the passage to reread."""
    for row in pointers:
        st.info(f"You keep missing **{row['concept']}**. {go_back(row)}", icon=":material/undo:")


def topic_week(turn: dict[str, Any], week: int) -> int:
    """The week a conversation is about: the one its last answer cited most."""
    weeks = Counter(c["week"] for c in turn.get("citations", []) if c.get("week"))
    return weeks.most_common(1)[0][0] if weeks else week


def quiz_me_button(history: list[dict[str, Any]], week: int) -> None:
    turn = history[-1]
    topic = topic_week(turn, week)
    signed_in = session.learner() is not None
    st.button(
        "Quiz me on this",
        icon=":material/quiz:",
        key="quiz_me",
        disabled=not signed_in,
        on_click=quiz_me,
        args=(topic_request(history, topic),),
        help="Questions from the notes on the concepts you just asked about, or that the "
        f"answer quoted: fewer than {TOPIC_QUIZ_SIZE} when the notes have fewer, none on "
        "another topic."
        if signed_in
        else "Sign in (left) to take quizzes.",
    )


def topic_request(history: list[dict[str, Any]], week: int) -> dict[str, Any]:
    """The API's quiz body for the conversation's last exchange: the learner's question as
    the topic, the answer's cited passages (their week too), the week cited most."""
    question = next((t["content"] for t in reversed(history) if t["role"] == "user"), "")
    passages = [
        {"text": c["snippet"][:4000], "week": c.get("week")}
        for c in history[-1].get("citations", [])
        if c.get("snippet")
    ]
    return {
        "week": week,
        "n": TOPIC_QUIZ_SIZE,
        "topic": question[:2000] or "this conversation",
        "passages": passages[:12],
    }

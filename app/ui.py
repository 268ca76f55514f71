"""The Streamlit front end: the week's plan beside the course library. Talks to the API only.

Run with `tutor ui` (or `make run`, which starts the API too).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx
import streamlit as st

API_URL = os.environ.get("TUTOR_API_URL", "http://127.0.0.1:8000").rstrip("/")
# Material icons ship with Streamlit, so they render the same on every machine.
FIELD_LABELS = {
    "reading": ":material/menu_book: Reading", "videos": ":material/smart_display: Videos",
    "course": ":material/school: Course", "practice": ":material/build: Practice",
    "assignment": ":material/assignment: Assignment", "review": ":material/replay: Review",
    "project_planning": ":material/map: Project planning", "setup": ":material/settings: Setup",
    "research": ":material/science: Research", "planning": ":material/event: Planning",
}


def api_get(path: str, **params: Any) -> tuple[Any, str | None]:
    """GET from the API; returns (data, None) or (None, a message a person can act on)."""
    try:
        response = httpx.get(f"{API_URL}{path}", params=params, timeout=60)
    except httpx.HTTPError:
        return None, (f"The tutor API is not reachable at {API_URL}. Start everything with "
                      "`make run`, or just the API with `tutor serve`.")
    if response.is_error:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        return None, f"{detail}" if isinstance(detail, str) else str(detail)
    return response.json(), None


def render_item(label: str, item: dict[str, Any]) -> None:
    hours = ""
    if item.get("hours"):
        span = f"{item['hours']:g}" + (f"-{item['hours_max']:g}" if item.get("hours_max") else "")
        hours = f" · *{span} h*"
    links = [(item.get("title") or "link", item["url"])] if item.get("url") else []
    links += [(link["title"], link["url"]) for link in item.get("also", [])]
    link_text = " ".join(f"[↗ {title}]({url})" for title, url in links)
    st.markdown(f"**{label}**{hours}  \n{item['text']} {link_text}")


def render_plan(plan: dict[str, Any]) -> None:
    st.subheader(f"Week {plan['number']} · {plan['title']}")
    st.caption(f"Phase {plan['phase']['number']} · {plan['phase']['title']}  |  "
               f"Quarter {plan['quarter']['number']}  |  Month {plan['month']['number']} · "
               f"{plan['month']['title']}")
    week = plan.get("week")
    if week:
        for name, label in FIELD_LABELS.items():
            if week.get(name):
                render_item(label, week[name])
    elif plan.get("extended"):
        block = plan["extended"]
        st.markdown(f"Months {block['months'][0]}-{block['months'][1]}: **{block['title']}**. "
                    "The plan gives these months as tracks rather than week by week.")
        for section in block["sections"]:
            note = f" *({section['note']})*" if section.get("note") else ""
            lines = [f"- **{i['title']}**: {i['text']}" if i.get("title") else f"- {i['text']}"
                     for i in section["items"]]
            st.markdown(f"**{section['title']}**{note}\n" + "\n".join(lines))
    capstone = plan.get("next_capstone")
    if capstone:
        weeks = plan["weeks_to_capstone"]
        when = "due this week" if weeks == 0 else f"in {weeks} week{'s' if weeks != 1 else ''}"
        st.info(f"**Next capstone, {when}:** Q{capstone['quarter']} · {capstone['title']}. "
                f"{capstone['goal']}.", icon=":material/flag:")


EMPTY_LIBRARY = ("The library is empty. Build it with `tutor ingest` (our notes and the plan), "
                 "or `tutor ingest PATH` for your own course notes.")


def stream_answer(question: str, week: int, mode: str, conversation_id: str | None,
                  placeholder: Any) -> dict[str, Any] | str:
    """POST /ask/stream; tokens appear in `placeholder` as they come. Returns the final answer,
    or an error message."""
    text = ""
    event = ""
    payload = {"question": question, "week": week, "mode": mode, "conversation_id": conversation_id}
    started = time.monotonic()
    try:
        with httpx.stream("POST", f"{API_URL}/ask/stream", json=payload, timeout=300) as response:
            if response.is_error:
                response.read()
                return response.json().get("detail", response.text)
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data = json.loads(line.removeprefix("data: "))
                    if event == "token":
                        text += data["text"]
                        placeholder.markdown(text + " ▌")
                    elif event == "done":
                        return data
                    elif event == "error":
                        return data["detail"]
                if not text:
                    placeholder.caption(f"Thinking… {time.monotonic() - started:.0f} s")
    except httpx.HTTPError as exc:
        return f"The tutor API stopped answering ({type(exc).__name__}). Is `tutor serve` running?"
    return "The answer stream ended early; please ask again."


def render_citations(citations: list[dict[str, Any]]) -> None:
    for c in citations:
        where = f" · week {c['week']}" if c.get("week") else ""
        with st.expander(f"[{c['n']}] {c['title'] or c['source']}{where}"):
            st.caption(f"{c['source']} — {c['heading']}")
            st.markdown(f"> {c['snippet']}")
            if c.get("url"):
                st.markdown(f"[Open the source ↗]({c['url']})")


def render_chat(week: int, ready: bool) -> None:
    if not ready:
        st.warning(EMPTY_LIBRARY)
        return
    mode = st.radio("Mode", ["explain", "socratic", "quick"], horizontal=True,
                    help="explain: a clear answer · socratic: hints and questions first · quick: short")
    history = st.session_state.setdefault("chat", [])
    for turn in history:
        with st.chat_message(turn["role"]):
            st.markdown(turn["content"])
            render_citations(turn.get("citations", []))
    if not history:
        st.caption(f"Ask about week {week}'s material, e.g. *What is my assignment this week?*")
    question = st.chat_input("Ask the tutor")
    if not question:
        return
    history.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        placeholder = st.empty()
        result = stream_answer(question, week, mode, st.session_state.get("conversation_id"),
                               placeholder)
        if isinstance(result, str):
            placeholder.error(result)
            history.pop()
            return
        st.session_state["conversation_id"] = result["conversation_id"]
        placeholder.markdown(result["answer"])
        render_citations(result["citations"])
    history.append({"role": "assistant", "content": result["answer"],
                    "citations": result["citations"]})


def render_library(week: int, ready: bool) -> None:
    if not ready:
        st.warning(EMPTY_LIBRARY)
        return
    query = st.text_input("Ask about a concept", placeholder="e.g. why divide by the square root of d_k?",
                          key="query")
    if not query:
        st.caption(f"Results favour week {week}'s material. Try a concept from this week's reading.")
        return
    with st.spinner("Searching…"):
        hits, error = api_get("/search", q=query, week=week, k=5)
    if error:
        st.error(error)
        return
    if not hits:
        st.info("Nothing in the library matches that yet.")
    for hit in hits:
        where = f" · week {hit['week']}" if hit.get("week") else ""
        with st.expander(f"**{hit['title'] or hit['source']}** — {hit['heading']}{where}"):
            st.markdown(hit["text"])
            source = f"[{hit['source']}]({hit['url']})" if hit.get("url") else f"`{hit['source']}`"
            st.caption(f"{source} · relevance {hit['score']:.2f}")


def main() -> None:
    st.set_page_config(page_title="Study Tutor", page_icon=":material/school:", layout="wide")
    health, error = api_get("/health")
    with st.sidebar:
        st.title(":material/school: Study Tutor")
        st.caption("Your 18-month AI/ML plan, week by week.")
        week = st.number_input("Week", min_value=1, max_value=72, value=1, step=1,
                               help="Weeks 1-48 are planned week by week; 49-72 are months 13-18.")
        if health:
            st.caption(f"Model: **{health['model']}**  \nLibrary: **{health['index_chunks']:,}** "
                       "passages")
    if error:
        st.error(error)
        st.stop()
    plan, plan_error = api_get(f"/weeks/{int(week)}")
    left, right = st.columns([5, 6], gap="large")
    with left:
        if plan_error:
            st.error(plan_error)
        else:
            render_plan(plan)
    with right:
        ready = bool(health and health["ready"])
        chat, library = st.tabs([":material/forum: Ask the tutor", ":material/search: Search the library"])
        with chat:
            render_chat(int(week), ready)
        with library:
            render_library(int(week), ready)


main()

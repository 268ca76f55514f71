"""The course library: search it, or build it when it is empty."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from app.answering.passages import excerpt_around
from app.answering.passages import readable_text
from app.course.curriculum import DEFAULT_PATH
from app.ingest.chunking import SEPARATOR
from app.text import content_words
from app.text import counted
from app.text import split_sentences
from app.ui.chat import formulas_scroll
from app.ui.client import Api
from app.ui.client import ApiError
from app.ui.session import reported

CORPUS_DIR = DEFAULT_PATH.parent  # the bundled plan and notes, next to curriculum.yaml
HITS = 10  # passages asked for; those of one section make one result
SNIPPET_CHARS = 320  # what a result shows of its passage: as much as a citation card


def render_library_tab(api: Api, week: int) -> None:
    formulas_scroll()
    query = st.text_input(
        "Search the course library",
        key="query",
        placeholder="e.g. why divide by the square root of d_k?",
        icon=":material/search:",
    )
    if not query:
        st.caption(
            f"Results favour week {week}'s material. Try a concept from this week's reading."
        )
        return
    with st.spinner("Searching…"), reported():
        hits = api.get("/search", q=query, week=week, k=HITS)
        if not hits:
            st.info("Nothing in the library matches that yet.", icon=":material/search_off:")
            return
        results = by_section(hits)
        st.caption(
            f"{counted(len(results), 'result')}, best match first: ranked by how well their "
            f"meaning and their words match your search, week {week}'s material lifted."
        )
        for rank, result in enumerate(results, 1):
            render_result(rank, result, query)


def by_section(hits: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Hits grouped by where they are from (source and section), best first: a section cut
    into two passages showed as two rows that looked the same."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for hit in hits:
        groups.setdefault((hit["source"], hit["heading"]), []).append(hit)
    return list(groups.values())


def render_result(rank: int, hits: list[dict[str, Any]], query: str) -> None:
    """One result: its rank, section and week, what of it matches, and where it is, which
    opens on the whole passage. (The search's own score, a fused rank near 0.03, means
    nothing to read: the rank says it.)"""
    first = hits[0]
    path = section_path(first)
    week = f" · week {first['week']}" if first.get("week") else ""
    more = f" · {len(hits)} passages" if len(hits) > 1 else ""
    with st.container(border=True):
        st.markdown(f"**{rank}.** **{path[-1]}**{week}")
        for hit in hits:
            st.markdown(quoted(matched(hit["text"], query)))
        with st.expander(" › ".join(path) + more, icon=":material/description:"):
            st.markdown("\n\n---\n\n".join(readable_text(hit["text"]) for hit in hits))
            source = f"`{first['source']}`"
            if first.get("url"):
                source = f"[{first['source']}]({first['url']})"
            st.caption(source)


def section_path(hit: dict[str, Any]) -> list[str]:
    """Where a hit is, outermost first: its source's title, then its headings."""
    path = [h for h in hit["heading"].split(SEPARATOR) if h]
    title = hit["title"] or hit["source"]
    return path if path and path[0] == title else [title, *path]


def matched(passage: str, query: str) -> str:
    """What a result shows of its passage: about a citation card's length around the sentence
    sharing the most words with the search (the passage's start when none does)."""
    wanted = content_words(query)
    sentences = split_sentences(readable_text(passage))
    best = max(sentences, key=lambda s: len(content_words(s) & wanted), default="")
    return excerpt_around(passage, [best] if content_words(best) & wanted else [], SNIPPET_CHARS)


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines())


def render_empty_library(api: Api) -> None:
    """The index is empty: say so, and offer to build it here or from a terminal."""
    with st.container(border=True):
        st.markdown("#### :material/library_add: The library is empty")
        st.markdown(
            "The tutor answers only from the course library, and it has nothing in it "
            "yet. Build it from the bundled plan and notes (a minute or two), or run "
            "`tutor ingest` in a terminal; `tutor ingest PATH` adds your own notes."
        )
        if st.button(
            "Build the library", type="primary", icon=":material/build:", key="build_library"
        ):
            with reported():
                build(api)
                st.rerun()


def build(api: Api) -> None:
    """Ingest the bundled corpus through the API and follow the job to its end."""
    job = api.post("/ingest", {"paths": [str(CORPUS_DIR)]})
    with st.status("Building the library…", expanded=True) as status:
        bar = st.progress(0.0, text="Reading files")
        while job["state"] == "running":
            time.sleep(0.5)
            job = api.get(f"/ingest/{job['id']}")
            share = job["files_done"] / job["files_total"] if job["files_total"] else 0.0
            bar.progress(
                share,
                text=f"{job['files_done']} of {job['files_total'] or '?'} files · "
                f"{job['chunks']:,} passages",
            )
        if job["state"] != "done":
            status.update(label="The library could not be built", state="error")
            raise ApiError(job["error"] or "the ingest failed")
        status.update(label="The library is ready", state="complete")

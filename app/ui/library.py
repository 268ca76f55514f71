"""The course library: search it, or build it when it is empty."""

from __future__ import annotations

import time

import streamlit as st

from app.course.curriculum import DEFAULT_PATH
from app.ui.client import Api
from app.ui.client import ApiError
from app.ui.session import reported

CORPUS_DIR = DEFAULT_PATH.parent  # the bundled plan and notes, next to curriculum.yaml


def render_library_tab(api: Api, week: int) -> None:
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
        hits = api.get("/search", q=query, week=week, k=8)
        if not hits:
            st.info("Nothing in the library matches that yet.", icon=":material/search_off:")
        for hit in hits:
            where = f" · week {hit['week']}" if hit.get("week") else ""
            with st.expander(
                f"**{hit['title'] or hit['source']}** · {hit['heading']}{where}",
                icon=":material/description:",
            ):
                st.markdown(hit["text"])
                source = f"`{hit['source']}`"
                if hit.get("url"):
                    source = f"[{hit['source']}]({hit['url']})"
                st.caption(f"{source} · relevance {hit['score']:.2f}")


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

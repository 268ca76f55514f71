"""The Progress tab's concept map: the plan's concepts of a span of weeks, weeks left to right,
an arrow from the concept each builds on, coloured by how well the learner knows it and ringed
when reviews on it are due. Clicking a concept opens its passage, the learner's cards on it
and "Quiz me on this" (`GET .../mastery/map` and `.../mastery/concept`)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app.course.curriculum import LAST_WEEK
from app.text import counted
from app.ui import session
from app.ui.client import Api
from app.ui.client import ApiError
from app.ui.quiz import TOPIC_QUIZ_SIZE
from app.ui.quiz import quiz_me

SPAN = 8  # weeks on show at first: the learner's week and those before it
ROW_PIXELS = 95  # height per concept in the tallest week's column


def render_concept_map(api: Api, current_week: int) -> None:
    st.markdown("##### Concept map")
    first, last = st.slider(
        "Weeks on the map",
        1,
        LAST_WEEK,
        (max(1, current_week - SPAN + 2), min(LAST_WEEK, current_week + 1)),
        key="map_weeks",
        help="Weeks left to right; a line joins each concept to the one of an earlier week "
        "it builds on.",
    )
    drawn = api.get(session.path("/mastery/map"), first=first, last=last)
    if not drawn["concepts"]:
        st.caption(f"Weeks {first}-{last} have no concepts in the notes; pick other weeks.")
        return
    met = [c for c in drawn["concepts"] if c["chance"] is not None]
    st.caption(
        "Each dot is a concept of the notes: green mastered, amber learning, red shaky, grey "
        "not met yet, ringed blue when reviews on it are due. Click one to open it."
        + ("" if met else " Take a quiz, and the concepts you answer on take their colour.")
    )
    event = st.altair_chart(
        map_chart(drawn), on_select="rerun", selection_mode="concept", key="concept_map"
    )
    picked = event.selection.get("concept") or []
    if picked:
        open_concept(api, int(picked[0]["week"]), str(picked[0]["concept"]))


def map_chart(drawn: dict[str, Any]) -> alt.LayerChart:
    """Nodes, labels, arrows (as rules) and week headings, in `map_data`'s places."""
    nodes = pd.DataFrame(drawn["concepts"])
    nodes["shown"] = [
        "not met yet" if c is None else f"{c:.0%} ({lvl})"
        for c, lvl in zip(nodes["chance"], nodes["level"], strict=True)
    ]
    place = {(c["week"], c["concept"]): (c["x"], c["y"]) for c in drawn["concepts"]}
    edges = pd.DataFrame(
        [
            dict(
                zip(
                    ("x", "y", "x2", "y2"),
                    (
                        *place[(e["from"]["week"], e["from"]["concept"])],
                        *place[(e["to"]["week"], e["to"]["concept"])],
                    ),
                    strict=True,
                )
            )
            for e in drawn["edges"]
        ],
        columns=["x", "y", "x2", "y2"],
    )
    heads = nodes.groupby("week", as_index=False).agg(x=("x", "first"))
    heads["y"], heads["label"] = nodes["y"].min() - 0.25, [f"week {w}" for w in heads["week"]]
    colours = drawn["colours"]
    levels = [level for level in colours if level != "reviews due"]
    x = alt.X("x:Q", axis=None, scale=alt.Scale(padding=60))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(reverse=True, padding=30))
    pick = alt.selection_point(name="concept", fields=["week", "concept"], on="click")
    dots = (
        alt.Chart(nodes)
        .mark_circle(size=320, opacity=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "level:N",
                scale=alt.Scale(domain=levels, range=[colours[lv] for lv in levels]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            stroke=alt.condition(
                "datum.due > 0", alt.value(colours["reviews due"]), alt.value("#616161")
            ),
            strokeWidth=alt.condition("datum.due > 0", alt.value(4), alt.value(0.5)),
            tooltip=[
                alt.Tooltip("concept:N", title="Concept"),
                alt.Tooltip("week:Q", title="Week"),
                alt.Tooltip("shown:N", title="Chance of a right answer"),
                alt.Tooltip("answered:Q", title="Answers"),
                alt.Tooltip("due:Q", title="Reviews due"),
            ],
        )
        .add_params(pick)
    )
    labels = alt.Chart(nodes).mark_text(dy=18, fontSize=11).encode(x=x, y=y, text="concept:N")
    arrows = (
        alt.Chart(edges)
        .mark_rule(color="#bdbdbd", strokeWidth=1)
        .encode(x=x, y=y, x2="x2:Q", y2="y2:Q")
    )
    weeks = (
        alt.Chart(heads).mark_text(fontWeight="bold", fontSize=12).encode(x=x, y=y, text="label:N")
    )
    tallest = int(nodes.groupby("week").size().max())
    return (arrows + dots + labels + weeks).properties(height=ROW_PIXELS * tallest + 80)


def open_concept(api: Api, week: int, name: str) -> None:
    """The concept clicked: where it stands, its passage in the notes, the learner's cards
    on it, and a quiz on it."""
    try:
        found = api.get(session.path("/mastery/concept"), week=week, name=name)
    except ApiError as exc:
        st.warning(str(exc), icon=":material/error:")
        return
    chance = (
        "not met yet" if found["chance"] is None else f"{found['chance']:.0%} ({found['level']})"
    )
    with st.container(border=True):
        st.markdown(f"**{name}** · week {week} · chance of a right answer now: {chance}")
        st.caption(
            f"{found['right']} of {counted(found['answered'], 'answer')} right"
            + (
                f"; builds on week {', '.join(map(str, found['builds_on']))}"
                if found["builds_on"]
                else ""
            )
        )
        passage = found["passage"]
        st.markdown(passage["text"] or "_The note has no section on it._")
        st.caption(f"[{passage['source']}] · {passage['heading']}")
        if found["cards"]:
            st.markdown(f"**Your cards on it** ({len(found['cards'])})")
            for card in found["cards"]:
                st.markdown(f"- {card['front']} → {card['back']}")
        else:
            st.caption("No review cards on it yet: a quiz on it makes some.")
        st.button(
            "Quiz me on this",
            icon=":material/quiz:",
            key="map_quiz_me",
            on_click=quiz_me,
            args=(
                {
                    "week": week,
                    "n": TOPIC_QUIZ_SIZE,
                    "topic": name,
                    "passages": [{"text": passage["text"][:4000], "week": week}],
                },
            ),
        )

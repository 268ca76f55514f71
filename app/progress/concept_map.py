"""The plan's concepts as a map: weeks left to right, an arrow from the concept of an earlier
week that a concept builds on, each concept coloured by how well the learner knows it and
ringed when reviews on it are due. `tutor map -o map.svg` draws it; the Progress tab shows it.

Which concept a concept builds on: its note's `prerequisites`, narrowed to the weeks its own
section names (`prerequisites.builds_on`), and in each such week the concept whose section is
closest to its own by BM25 (one arrow per week built on). The layout is networkx's multipartite
layout, one layer per week.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import networkx as nx

from app.course.notes import Note
from app.progress.prerequisites import builds_on
from app.records.weak_spots import Concepts
from app.records.weak_spots import sections

Key = tuple[int, str]

# The level colours: a traffic light, with "not seen" a pale grey; due reviews ring in blue.
COLOURS = {"mastered": "#2e7d32", "learning": "#f9a825", "shaky": "#c62828", "not seen": "#e0e0e0"}
DUE = "#1565c0"


def prerequisite_edges(notes: list[Note]) -> list[tuple[Key, Key]]:
    """(from, to) concept pairs: `to` builds on `from`, a concept of an earlier week."""
    concepts = Concepts(notes)
    by_week: dict[int, list[Note]] = {}
    for note in notes:  # a week may have several notes (week 49's tracks)
        by_week.setdefault(note.meta.week, []).append(note)
    edges = []
    for note in notes:
        texts = sections(note)
        for name in note.meta.concepts:
            for week in builds_on(note, name):
                text = f"{name} {texts.get(name, '')}"
                found = (concepts.closest(earlier, text) for earlier in by_week.get(week, []))
                before = next((c for c in found if c is not None), None)
                if before is not None:
                    edges.append(((before.week, before.name), (note.meta.week, name)))
    return edges


def layout(nodes: list[Key], edges: list[tuple[Key, Key]]) -> dict[Key, tuple[float, float]]:
    """Each concept's (x, y): one column per week, left to right, in `nodes`' order within
    a week (top to bottom); x and y in [-1, 1]."""
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((a, b) for a, b in edges if a in graph and b in graph)
    # the layers as lists, in the notes' order: given as a node attribute networkx groups
    # them in sets, whose order changes with each process's string hashing
    weeks: dict[int, list[Key]] = {}
    for key in nodes:
        weeks.setdefault(key[0], []).append(key)
    placed = nx.multipartite_layout(graph, subset_key=weeks, align="vertical")
    return {key: (float(x), float(y)) for key, (x, y) in placed.items()}


def map_data(
    report: dict[str, Any], edges: list[tuple[Key, Key]], first: int, last: int
) -> dict[str, Any]:
    """The map of weeks `first`..`last`, as `GET /learners/{id}/mastery/map` gives it and
    `tutor map` and the Progress tab draw it: {weeks: [first, last], colours (by level, and
    "reviews due" for the ring), concepts: the
    `concept_mastery` rows of those weeks, each with its place `x`, `y` (in [-1, 1], y down),
    edges: [{from: {week, concept}, to: {week, concept}}] between them}. No concepts there:
    empty lists."""
    kept: dict[Key, dict[str, Any]] = {}
    for c in report["concepts"]:  # once each, should two notes of a week name one concept
        if first <= c["week"] <= last:
            kept.setdefault((c["week"], c["concept"]), c)
    concepts, keys = list(kept.values()), list(kept)
    shown = set(keys)
    lines = [(a, b) for a, b in edges if a in shown and b in shown]
    positions = layout(keys, lines) if keys else {}
    return {
        "weeks": [first, last],
        "colours": COLOURS | {"reviews due": DUE},
        "concepts": [
            c | {"x": round(positions[k][0], 4), "y": round(positions[k][1], 4)}
            for c, k in zip(concepts, keys, strict=True)
        ],
        "edges": [
            {"from": {"week": a[0], "concept": a[1]}, "to": {"week": b[0], "concept": b[1]}}
            for a, b in lines
        ],
    }


def draw_svg(drawn: dict[str, Any], path: Path) -> None:
    """`map_data`'s map as an SVG at `path`: a column per week, each concept a dot in its
    level's colour (ringed blue with due reviews) labelled with its name and chance, arrows for
    what it builds on, a legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    concepts = drawn["concepts"]
    place = {(c["week"], c["concept"]): (c["x"], c["y"]) for c in concepts}
    weeks = sorted({c["week"] for c in concepts})
    tallest = max(sum(1 for c in concepts if c["week"] == w) for w in weeks)
    size = (max(6.0, 1.9 * len(weeks)), max(4.0, 0.9 * tallest + 1.5))
    figure, axes = plt.subplots(figsize=size)
    arrow = {"arrowstyle": "-|>", "color": "#9e9e9e", "lw": 0.6, "alpha": 0.6}
    for edge in drawn["edges"]:
        start = place[(edge["from"]["week"], edge["from"]["concept"])]
        end = place[(edge["to"]["week"], edge["to"]["concept"])]
        axes.annotate("", xy=end, xytext=start, arrowprops=arrow | {"shrinkA": 7, "shrinkB": 7})
    for concept in concepts:
        x, y = concept["x"], concept["y"]
        due = concept.get("due", 0)
        axes.scatter(
            [x],
            [y],
            s=140,
            color=COLOURS[concept["level"]],
            zorder=3,
            edgecolors=DUE if due else "#616161",
            linewidths=2.5 if due else 0.5,
        )
        chance = "" if concept["chance"] is None else f" {concept['chance']:.0%}"
        label = textwrap.fill(concept["concept"], 22) + chance + (f" · {due} due" if due else "")
        axes.annotate(
            label,
            (x, y),
            xytext=(0, -9),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=6.5,
        )
    top = min(y for _, y in place.values())
    for week in weeks:
        x = next(c["x"] for c in concepts if c["week"] == week)
        axes.annotate(
            f"week {week}",
            (x, top),
            xytext=(0, 16),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            fontweight="bold",
        )
    legend = [
        Line2D([], [], marker="o", linestyle="", markersize=8, color=colour, label=level)
        for level, colour in COLOURS.items()
    ]
    legend.append(
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=8,
            markerfacecolor="white",
            markeredgecolor=DUE,
            markeredgewidth=2.5,
            label="reviews due",
        )
    )
    axes.legend(
        handles=legend,
        loc="upper left",
        bbox_to_anchor=(0, -0.02),
        ncol=5,
        fontsize=7,
        frameon=False,
    )
    axes.invert_yaxis()  # y grows downwards, as in the Progress tab
    axes.set_axis_off()
    axes.margins(x=0.08, y=0.12)
    figure.tight_layout()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text: findable, small
        figure.savefig(path, format="svg")
    plt.close(figure)

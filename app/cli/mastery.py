"""What you know, concept by concept: `tutor mastery` (the chance of a right answer on each
concept now) and `tutor map` (the plan's concepts drawn as a map, coloured by it)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated
from typing import Any

import typer

from app.cli.base import DataDirOption
from app.cli.base import JsonOption
from app.cli.base import app
from app.cli.base import fail
from app.cli.base import local_learner
from app.cli.base import option
from app.cli.base import out
from app.cli.base import print_json
from app.cli.base import settings_for
from app.course.curriculum import LAST_WEEK

WEEKS = re.compile(r"\s*([0-9]{1,3})\s*(?:-\s*([0-9]{1,3})\s*)?")


def week_range(text: str) -> tuple[int, int]:
    """`--weeks` as (first, last): "7" or "13-24", weeks of the plan (1-72), first <= last;
    a usage error (exit 2) saying what is wrong otherwise."""
    found = WEEKS.fullmatch(text)
    if found is None:
        fail(f"--weeks is a week or a range like 13-24, not {text!r}", code=2)
    first = int(found.group(1))
    last = int(found.group(2) or first)
    if not 1 <= first <= last <= LAST_WEEK:
        fail(f"--weeks {text}: weeks run from 1 to {LAST_WEEK}, the first before the last", code=2)
    return first, last


def noted_weeks(notes: list[Any]) -> str:
    """The weeks the notes have concepts for, as spans: "weeks 1-49 and 61"."""
    weeks = sorted({n.meta.week for n in notes if n.meta.concepts})
    spans: list[list[int]] = []
    for week in weeks:
        if spans and week == spans[-1][-1] + 1:
            spans[-1].append(week)
        else:
            spans.append([week])
    words = [f"{s[0]}-{s[-1]}" if len(s) > 1 else str(s[0]) for s in spans]
    return "weeks " + (", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0])


def _report(data_dir: Path | None, fit: bool = False) -> tuple[dict[str, Any], list[Any]]:
    """The local learner's `concept_mastery` now (after a fit when asked), and the notes."""
    from app.course.notes import read_notes
    from app.practice.scheduler import NotEnoughReviews
    from app.progress.concept_mastery import concept_mastery
    from app.progress.concept_mastery import fit_everyone
    from app.records.mastery import MasteryRecords

    store, learner = local_learner(settings_for(data_dir))
    notes = read_notes()
    records = MasteryRecords(store, notes)
    now = dt.datetime.now(dt.UTC)
    if fit:
        try:
            fit_everyone(records, now)
        except NotEnoughReviews as exc:
            fail(str(exc))
    return concept_mastery(records, notes, learner.id, now), notes


@app.command(rich_help_panel="Your work")
def mastery(
    fit: Annotated[
        bool, typer.Option("--fit", help="Fit FSRS to this database's concept logs first.")
    ] = False,
    week: Annotated[int | None, option("--week", "-w", help="Only this week's concepts.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """How well you know each concept of the plan: the chance your next answer on it is
    right now, shaky below 60 %, mastered from 85 %. Your quiz answers, reviews and `tutor
    check` results count; a week's rating (`tutor journal -r`) alone does not colour a concept.

    At first the chance is your share of right answers on the concept (your running
    accuracy). Once a study group has enough answers, --fit trains a memory model (FSRS, as
    reviews use) on them, kept only if it predicted answers it never saw better; from then on
    it says the chance, except within 24 hours of your last answer on a concept.

    [dim]Examples:[/dim]
      tutor mastery              the concepts you have met, weakest first within each week
      tutor mastery --week 18    one week's concepts
      tutor mastery --fit        fit FSRS to the concept logs, then show
      tutor mastery --json       as GET /learners/{id}/mastery
    """
    from app.cli.render_progress import render_mastery

    report, notes = _report(data_dir, fit)
    if week is not None:
        report["concepts"] = [c for c in report["concepts"] if c["week"] == week]
        if not report["concepts"]:
            fail(f"week {week} has no concepts in the notes ({noted_weeks(notes)} do)")
    if as_json:
        print_json(report)
    else:
        out.print(render_mastery(report))


@app.command("map", rich_help_panel="Your work")
def concept_map(
    output: Annotated[
        Path, option("--output", "-o", help="The SVG file to write.", dir_okay=False)
    ] = Path("map.svg"),
    weeks: Annotated[
        str | None,
        option("--weeks", help="A range of weeks, e.g. 1-12 (default: every week with notes)."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Draw the plan's concepts as a map (SVG): weeks left to right, an arrow from the
    concept of an earlier week each one builds on, each concept coloured by how well you know
    it (`tutor mastery`: green mastered, amber learning, red shaky, grey not met) and ringed
    blue when reviews on it are due. Open the file in a browser and zoom.

    [dim]Examples:[/dim]
      tutor map                            every week, to map.svg
      tutor map --weeks 13-24 -o q2.svg    the second quarter
    """
    from app.progress.concept_map import draw_svg
    from app.progress.concept_map import map_data
    from app.progress.concept_map import prerequisite_edges

    if not output.parent.is_dir():
        fail(f"{output.parent} is not a folder: create it first or pick another --output", code=2)
    first, last = week_range(weeks) if weeks else (1, LAST_WEEK)
    report, notes = _report(data_dir)
    drawn = map_data(report, prerequisite_edges(notes), first, last)
    if not drawn["concepts"]:
        fail(f"weeks {first}-{last} have no concepts in the notes ({noted_weeks(notes)} do)")
    try:
        draw_svg(drawn, output)
    except OSError as exc:
        fail(f"could not write {output} ({exc.strerror or exc}): pick a writable --output")
    met = sum(1 for c in drawn["concepts"] if c["chance"] is not None)
    out.print(
        f"{len(drawn['concepts'])} concepts of weeks {first}-{last} ({met} met) drawn to {output}.",
        highlight=False,
    )

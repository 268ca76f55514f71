"""What you know, concept by concept: `tutor mastery` (the chance of a right answer on each
concept now) and `tutor map` (the plan's concepts drawn as a map, coloured by it)."""

from __future__ import annotations

import datetime as dt
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
    right, from your quiz answers, reviews, self-ratings and checks. FSRS per concept says it
    once a fit (--fit) beat your running accuracy on held-out answers; until then, and on the
    day of your last answer on a concept, the running accuracy does.

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
            weeks = sorted({n.meta.week for n in notes})
            fail(f"week {week} has no concepts in the notes (weeks {weeks[0]}-{weeks[-1]} do)")
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
      tutor map                        every week, to map.svg
      tutor map --weeks 13-24 -o q2.svg   the second quarter
    """
    from app.progress.concept_map import draw_svg
    from app.progress.concept_map import map_data
    from app.progress.concept_map import prerequisite_edges

    if not output.parent.is_dir():
        fail(f"{output.parent} is not a folder: create it first or pick another --output", code=2)
    report, notes = _report(data_dir)
    known = sorted({n.meta.week for n in notes})
    first, last = known[0], known[-1]
    if weeks:
        low, _, high = weeks.partition("-")
        if not (low.strip().isdigit() and (high or low).strip().isdigit()):
            fail(f"--weeks is a week or a range like 1-12, not {weeks!r}", code=2)
        first, last = int(low), int(high or low)
    drawn = map_data(report, prerequisite_edges(notes), first, last)
    if not drawn["concepts"]:
        fail(f"no concepts in weeks {first}-{last}: the notes cover weeks {known[0]}-{known[-1]}")
    draw_svg(drawn, output)
    met = sum(1 for c in drawn["concepts"] if c["chance"] is not None)
    out.print(
        f"{len(drawn['concepts'])} concepts of weeks {first}-{last} ({met} met) drawn to {output}.",
        highlight=False,
    )

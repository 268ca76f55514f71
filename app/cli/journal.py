"""Your week's own record: `tutor tasks` (the checklist) and `tutor journal`."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.base import DataDirOption
from app.cli.base import JsonOption
from app.cli.base import app
from app.cli.base import argument
from app.cli.base import check_week
from app.cli.base import fail
from app.cli.base import local_learner
from app.cli.base import option
from app.cli.base import out
from app.cli.base import print_json
from app.cli.base import settings_for
from app.cli.base import week_for
from app.course.curriculum import load_curriculum


@app.command(rich_help_panel="Plan and pace")
def tasks(
    names: Annotated[
        list[str] | None,
        argument(
            help="Tasks to tick off, by name (reading, videos, course, practice, assignment, ...)."
        ),
    ] = None,
    week: Annotated[
        int | None,
        option(
            "--week", "-w", help="Another week than yours (1-48; months 13-18 have no checklist)."
        ),
    ] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Untick the named tasks instead.")] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Your week's checklist, from the plan: tick off what you have done. `tutor progress`
    counts the ticks, and the UI's Plan tab shows the same ones.

    [dim]Examples:[/dim]
      tutor tasks                      this week's checklist
      tutor tasks reading practice     tick two tasks off
      tutor tasks practice --undo      not done after all
      tutor tasks --week 6 --json      [{"task": "reading", "text": "...", "done": true}, ...]
    """
    from app.records.base import NotFound

    check_week(week)
    if undo and not names:
        fail("name the tasks to untick, e.g. `tutor tasks practice --undo`", code=2)
    store, learner = local_learner(settings_for(data_dir))
    week = week_for(store, learner, week)
    curriculum = load_curriculum()
    checklist = store.checklist(learner.id, week, curriculum)
    try:
        for name in names or []:
            checklist = store.tick(learner.id, week, name, not undo, curriculum)
    except NotFound as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json([vars(task) for task in checklist])
        return
    if not checklist:
        out.print(
            f"Week {week} has no checklist: months 13-18 are planned by month "
            f"(`tutor plan --week {week}`)."
        )
        return
    done = sum(task.done for task in checklist)
    out.print(f"[bold]Week {week}[/bold]: {done} of {len(checklist)} done")
    for task in checklist:
        mark = "[green]✓[/green]" if task.done else "[dim]○[/dim]"
        out.print(f" {mark} [bold]{task.task}[/bold]  {task.text}", highlight=False)


@app.command(rich_help_panel="Plan and pace")
def journal(
    text: Annotated[
        str | None,
        argument(help="A note on your week: what clicked, what didn't, what to ask next."),
    ] = None,
    rating: Annotated[
        int | None,
        option("--rating", "-r", min=1, max=10, help="How well you understand the week, 1-10."),
    ] = None,
    week: Annotated[
        int | None,
        option("--week", "-w", help="Another week than yours (1-72)."),
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Your study journal: notes and a 1-10 self-rating per week, as in the UI's Journal tab.
    `tutor progress` charts the ratings.

    [dim]Examples:[/dim]
      tutor journal                                      your notes and ratings so far
      tutor journal "Attention finally clicked" -r 8     a note and a rating for your week
      tutor journal --rating 6 --week 17                 rate another week
      tutor journal --json                               {"ratings": {...}, "entries": [...]}
    """
    from app.records.learners import JOURNAL_CHARS

    check_week(week)
    if text is not None and not 1 <= len(text.strip()) <= JOURNAL_CHARS:
        fail(f"a journal note is 1-{JOURNAL_CHARS:,} characters", code=2)
    store, learner = local_learner(settings_for(data_dir))
    week = week_for(store, learner, week)
    if text is not None:
        store.write_journal(learner.id, week, text.strip())
    if rating is not None:
        store.rate(learner.id, week, rating)
    entries, ratings = store.journal(learner.id), store.ratings(learner.id)
    if as_json:
        print_json({"ratings": ratings, "entries": [entry.to_dict() for entry in entries]})
        return
    if text is not None or rating is not None:
        out.print(f"Saved for week {week}.")
    if not entries and not ratings:
        out.print(
            "Your journal is empty. Write what you learned this week: "
            '`tutor journal "..." --rating 7`.'
        )
        return
    for number in sorted({e.week for e in entries} | set(ratings)):
        rated = f"  [dim]rated {ratings[number]}/10[/dim]" if number in ratings else ""
        out.print(f"\n[bold]Week {number}[/bold]{rated}")
        for entry in (e for e in entries if e.week == number):
            out.print(f"  [dim]{entry.created_at:%Y-%m-%d}[/dim]  {entry.text}", highlight=False)

"""The plan and your pace through it: `tutor plan`, `week`, `today`, `replan`, `tasks`, `journal`."""

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
from app.course.curriculum import CurriculumError
from app.course.curriculum import WeekOutOfRange
from app.course.curriculum import load_curriculum
from app.course.pacing import MAX_PACE
from app.course.pacing import MIN_PACE


@app.command(rich_help_panel="Plan and pace")
def plan(
    week: Annotated[
        int | None,
        option("--week", "-w", help="Show one week (1-72; weeks 49-72 are months 13-18)."),
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Show the learning plan: the 18-month overview, or one week in detail.

    [dim]Examples:[/dim]
      tutor plan                  the months, phases and capstones at a glance
      tutor plan --week 18        week 18: readings, videos, practice hours, the next capstone
      tutor plan --week 18 --json the same as JSON, for scripts
    """
    from app.cli.render import render_overview
    from app.cli.render import render_week

    settings_for(data_dir)  # validates TUTOR_* settings early, like every command
    try:
        curriculum = load_curriculum()
        if week is None:
            if as_json:
                print_json(
                    curriculum.model_dump(mode="json", include={"phases", "months", "capstones"})
                )
            else:
                out.print(render_overview(curriculum))
            return
        week_plan = curriculum.week(week)
    except WeekOutOfRange as exc:
        fail(str(exc), code=2)
    except CurriculumError as exc:
        fail(str(exc))
    if as_json:
        print_json(week_plan.model_dump(mode="json"))
    else:
        out.print(render_week(week_plan))


@app.command("week", rich_help_panel="Plan and pace")
def current_week(
    number: Annotated[
        int | None,
        argument(help="The week you are in now (1-72); leave it out to see your week."),
    ] = None,
    auto: Annotated[
        bool,
        typer.Option("--auto", help="Follow the calendar from your first use again, from week 1."),
    ] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Show or set your current week: the week `tutor ask`, `tutor quiz` and `tutor progress`
    use.

    The command line keeps your quizzes, reviews and progress in the data dir's database as a
    local learner: no sign-up or token. Your week moves on with the calendar at your pace (one
    plan week a week unless you re-plan slower or faster), from the week you last set.

    [dim]Examples:[/dim]
      tutor week            which week you are in
      tutor week 18         you are in week 18 today; next week you are in week 19
      tutor week --auto     follow the calendar from your first use again
      tutor week --json     {"week": 18, "title": "...", "set": true}
    """
    import datetime as dt

    if number is not None and auto:
        fail("give a week or --auto, not both", code=2)
    check_week(number)
    store, learner = local_learner(settings_for(data_dir))
    if number is not None or auto:
        learner = store.set_week(learner.id, number, dt.date.today())
    week = week_for(store, learner, None)
    title = load_curriculum().week(week).title
    if as_json:
        print_json({"week": week, "title": title, "set": learner.current_week is not None})
        return
    how = (
        f"from week {learner.current_week} on {(learner.week_set_on or learner.start_date).isoformat()}"
        if learner.current_week is not None
        else f"following the calendar since {learner.start_date.isoformat()}"
    )
    out.print(f"You are in [bold]week {week}[/bold]: {title}  [dim]({how})[/dim]")


@app.command(rich_help_panel="Plan and pace")
def today(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Today's task: the plan's day (Monday theory, Tuesday videos, Wednesday coding, Thursday
    project, Friday review) applied to your week, and where you stand against the plan.

    [dim]Examples:[/dim]
      tutor today           what to do today, and whether you are ahead or behind
      tutor today --json    {"today": {"day": "Monday", "tasks": [...], ...}, "pace": {...}}
    """
    import datetime as dt

    from app.cli.render import pace_line
    from app.records.reviews import ReviewRecords
    from app.records.reviews import due_phrase
    from app.records.schedules import ScheduleRecords

    store, learner = local_learner(settings_for(data_dir))
    on, curriculum, schedules = dt.date.today(), load_curriculum(), ScheduleRecords(store)
    now = dt.datetime.now(dt.UTC)
    task = schedules.today(learner, curriculum, on)
    pace = schedules.standing(learner, curriculum, on).to_dict()
    if as_json:
        print_json({"today": task.to_dict(), "pace": pace})
        return
    hours = f" · {task.hours:g} h" if task.hours else ""
    out.print(
        f"[bold]{task.day}, week {task.week}[/bold]: {task.title}[dim]{hours}[/dim]",
        highlight=False,
    )
    out.print(task.advice, highlight=False)
    for item in task.tasks:
        mark = "[green]✓[/green]" if item["done"] else "[dim]○[/dim]"
        out.print(f" {mark} [bold]{item['task']}[/bold]  {item['text']}", highlight=False)
    out.print(pace_line(pace))
    out.print(
        f"Reviews: {due_phrase(ReviewRecords(store).summary(learner.id, now), now)} "
        "(`tutor review`).",
        highlight=False,
    )
    if task.milestone_month:
        out.print(
            f"Month {task.milestone_month} ends this week: its milestone is due "
            "(`tutor milestone --quiz`)."
        )
    if pace["status"] == "behind":
        out.print("[dim]`tutor replan` resumes the plan from where you are.[/dim]")


@app.command(rich_help_panel="Plan and pace")
def replan(
    pace: Annotated[
        float | None,
        option(
            "--pace",
            min=MIN_PACE,
            max=MAX_PACE,
            help="Plan weeks per calendar week from now on (1 = the plan's rhythm).",
        ),
    ] = None,
    hours: Annotated[
        float | None,
        option("--hours", help="Hours a week you can study (the plan's rhythm is 6)."),
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Re-plan: resume the plan today from where your ticks have you, and move the rest of
    the schedule (capstones too) to fit. Each re-plan is kept; `tutor progress` lists them.

    [dim]Examples:[/dim]
      tutor replan              back after a break: pick up where you left off
      tutor replan --hours 3    half the plan's pace from now on
      tutor replan --json       {"replan": {"from_week": 8, "to_week": 5, ...}, "pace": {...}}
    """
    import datetime as dt

    from app.cli.render import pace_line
    from app.course.pacing import pace_from_hours
    from app.records.schedules import ScheduleRecords

    if pace is not None and hours is not None:
        fail("give --pace or --hours, not both", code=2)
    curriculum = load_curriculum()
    if hours is not None:
        try:
            pace = pace_from_hours(hours, curriculum)
        except ValueError as exc:
            fail(str(exc).replace("hours_per_week", "--hours"), code=2)
    store, learner = local_learner(settings_for(data_dir))
    schedules, on = ScheduleRecords(store), dt.date.today()
    moved, record = schedules.replan(learner.id, curriculum, on, pace)
    report = schedules.standing(moved, curriculum, on).to_dict()
    if as_json:
        print_json({"replan": record.to_dict(), "pace": report})
        return
    out.print(
        f"Re-planned: the plan had you in week {record.from_week}; you resume at "
        f"[bold]week {record.to_week}[/bold] today."
    )
    out.print(pace_line(report))

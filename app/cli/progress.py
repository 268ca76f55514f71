"""Your work and where it stands: `tutor capstone`, `tutor milestone`, `tutor progress`."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import typer

from app.cli.base import DataDirOption
from app.cli.base import JsonOption
from app.cli.base import app
from app.cli.base import argument
from app.cli.base import fail
from app.cli.base import local_learner
from app.cli.base import option
from app.cli.base import out
from app.cli.base import print_json
from app.cli.base import settings_for
from app.cli.base import week_for
from app.cli.in_turn import ask_in_turn
from app.course.curriculum import load_curriculum


@app.command(rich_help_panel="Your work")
def capstone(
    quarter: Annotated[
        int | None,
        argument(help="The quarter (1-4); leave it out for your next capstone."),
    ] = None,
    tick: Annotated[
        list[str] | None,
        option(
            "--tick",
            "-t",
            help="A deliverable done, by its id (the `deliverable-` prefix may be "
            "left out); repeat for more.",
        ),
    ] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Untick the --tick deliverables.")] = False,
    repo: Annotated[
        str | None,
        option("--repo", help="Link your repository (https://...)."),
    ] = None,
    report: Annotated[
        str | None,
        option("--report", help="Link your report, blog post or documentation."),
    ] = None,
    score: Annotated[
        list[str] | None,
        option(
            "--score",
            "-s",
            help="Self-review: CRITERION=1-4 (1 not yet, 2 partly, 3 meets it, "
            "4 beyond it); repeat for more.",
        ),
    ] = None,
    note: Annotated[str | None, option("--note", help="A note with your self-review.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Your capstone coach: the quarter's capstone from the plan as a rubric (scope,
    deliverables, focus), your deliverables ticked, links to your work, and your self-review
    against the rubric. `tutor progress` shows where each capstone stands.

    [dim]Examples:[/dim]
      tutor capstone                               your next capstone's rubric
      tutor capstone 2 --tick model-demo           a Q2 deliverable done
      tutor capstone 2 --repo https://github.com/you/bert-finetune
      tutor capstone 2 --score scope=3 --score focus-proper-evaluation=2 --note "needs a baseline"
      tutor capstone 2 --json                      the rubric and your work, as the API gives it
    """
    import datetime as dt

    from app.cli.render_progress import render_capstone
    from app.course.rubric import NoCapstone
    from app.course.rubric import rubric_for
    from app.records.capstones import CapstoneRecords
    from app.records.schedules import ScheduleRecords

    curriculum = load_curriculum()
    store, learner = local_learner(settings_for(data_dir))
    if quarter is None:
        upcoming = (
            ScheduleRecords(store).standing(learner, curriculum, dt.date.today()).next_capstone
        )
        quarter = upcoming.quarter if upcoming else curriculum.capstones[-1].quarter
    try:
        plan = rubric_for(quarter, curriculum)
        scores = dict(_scored(item) for item in score or [])
        records = CapstoneRecords(store)
        for name in tick or []:
            records.tick(learner.id, plan, _deliverable_id(name, plan), not undo)
        links: dict[str, str | None] = {
            name: url for name, url in (("repository", repo), ("report", report)) if url
        }
        if links:
            records.link(learner.id, plan, links)
        if scores or note is not None:
            records.review(learner.id, plan, scores, note, dt.date.today())
    except NoCapstone as exc:
        fail(str(exc), code=2)
    except KeyError as exc:
        fail(exc.args[0], code=2)
    except ValueError as exc:
        fail(str(exc), code=2)
    work = records.read(learner.id, plan)
    if as_json:
        print_json(work)
        return
    out.print(render_capstone(work))


def _scored(item: str) -> tuple[str, int]:
    """ "scope=3" -> ("scope", 3); a ValueError says the form."""
    name, _, value = item.partition("=")
    if not name or not value.strip().isdigit():
        raise ValueError(f"--score {item!r}: write CRITERION=SCORE, e.g. scope=3")
    return name.strip(), int(value)


def _deliverable_id(name: str, plan: Any) -> str:
    """A deliverable's id, its `deliverable-` prefix optional."""
    ids = {c.id for c in plan.by_kind("deliverable")}
    return name if name in ids or f"deliverable-{name}" not in ids else f"deliverable-{name}"


@app.command(rich_help_panel="Your work")
def milestone(
    month: Annotated[
        int | None,
        argument(help="The month (1-18); leave it out for yours."),
    ] = None,
    take_quiz: Annotated[
        bool,
        typer.Option(
            "--quiz",
            help="Take the month's milestone quiz now (with --json: print it, recording nothing).",
        ),
    ] = False,
    n: Annotated[
        int, typer.Option("--n", min=4, max=30, help="Questions in the quiz: one a week at least.")
    ] = 8,
    tick: Annotated[
        list[str] | None,
        option(
            "--tick",
            "-t",
            help="A checklist item done (coding-challenge-completion, "
            "project-milestone-review, peer-feedback-session); repeat for more.",
        ),
    ] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Untick the --tick items.")] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Your monthly milestone, as the plan sets it: a concept quiz over all the month's
    topics, a coding challenge, a project review and peer feedback.

    The quiz has a question on every week of the month at least; the rest go to the weeks
    and concepts you have missed most. Its answers count in `tutor progress`, and missed
    ones come back in `tutor review`.

    [dim]Examples:[/dim]
      tutor milestone                          this month's checklist and quiz results
      tutor milestone --quiz                   take this month's milestone quiz (8 questions)
      tutor milestone 3 --tick coding-challenge-completion
      tutor milestone 3 --json                 {"month": 3, "quiz": {...}, "checklist": [...]}
    """
    import random

    from app.cli.render_progress import render_milestone
    from app.course.curriculum import month_of_week
    from app.course.notes import read_notes
    from app.practice.milestones import NoMonth
    from app.practice.milestones import milestone_quiz
    from app.practice.quiz import KINDS
    from app.practice.quiz import QuizError
    from app.records.base import NotFound
    from app.records.milestones import MilestoneRecords
    from app.records.milestones import QuizItemIsAnswered
    from app.records.quizzes import QuizRecords
    from app.records.weak_spots import weak_spots

    settings = settings_for(data_dir)
    store, learner = local_learner(settings)
    curriculum = load_curriculum()
    month = month_of_week(week_for(store, learner, None)) if month is None else month
    records = MilestoneRecords(store)
    try:
        if take_quiz and as_json:
            missed = weak_spots(store, learner.id, read_notes())
            print_json(
                [
                    q.to_dict()
                    for q in milestone_quiz(read_notes(), month, missed, n=n, seed=random.random())
                ]
            )
            return
        for item in tick or []:
            records.tick(learner.id, month, item, not undo, curriculum)
        if take_quiz:
            quiz_id, questions = records.new_quiz(
                learner.id, month, read_notes(), n=n, kinds=KINDS, seed=random.random()
            )
            right = ask_in_turn(questions, settings, QuizRecords(store), learner.id, quiz_id)
            out.print(f"\n[bold]{right} of {len(questions)} right.[/bold]")
        status = records.status(learner.id, month, curriculum)
    except (NoMonth, NotFound, QuizItemIsAnswered, QuizError) as exc:
        fail(str(exc), code=2)
    if as_json:
        print_json(status)
    else:
        out.print(render_milestone(status))


@app.command("progress", rich_help_panel="Your work")
def progress_(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Your progress: where you stand against the plan (ahead or behind, finish date, next
    capstone), tasks done per week from the week you started in, quiz accuracy, self-ratings,
    your streak of active days, the concepts you miss most and, for a concept you keep missing
    (2 of your last 3 answers on it wrong), the earlier week it builds on with the passage of
    the notes to reread.

    [dim]Examples:[/dim]
      tutor progress          tables, daily accuracy as a sparkline, what to reread
      tutor progress --json   the same data as GET /learners/{id}/progress
    """
    import datetime as dt

    from app.cli.render_progress import render_progress
    from app.course.notes import read_notes
    from app.progress.overview import progress
    from app.progress.prerequisites import PrerequisitePassages
    from app.search.retrieval import Retriever

    settings = settings_for(data_dir)
    store, learner = local_learner(settings)
    report = progress(
        store,
        learner,
        load_curriculum(),
        dt.date.today(),
        read_notes(),
        PrerequisitePassages(lambda: Retriever.from_settings(settings)),
    )
    if as_json:
        print_json(report)
    else:
        out.print(render_progress(report))

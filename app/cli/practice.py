"""Practice: `tutor quiz` and `tutor review`, asked in turn in the terminal."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import typer

from app.cli.base import DataDirOption
from app.cli.base import JsonOption
from app.cli.base import app
from app.cli.base import check_week
from app.cli.base import fail
from app.cli.base import local_learner
from app.cli.base import open_retriever
from app.cli.base import option
from app.cli.base import out
from app.cli.base import print_json
from app.cli.base import settings_for
from app.cli.base import week_for
from app.cli.in_turn import ask_in_turn
from app.cli.in_turn import flip_in_turn


@app.command(rich_help_panel="Practice")
def quiz(
    week: Annotated[
        int | None,
        option(
            "--week",
            "-w",
            help="The week to be quizzed on (1-72; default: yours, see `tutor week`).",
        ),
    ] = None,
    n: Annotated[int, typer.Option("--n", min=1, max=30, help="How many questions.")] = 5,
    kinds: Annotated[
        str,
        typer.Option(
            "--kinds",
            help="Comma-separated: mcq,truefalse,short,cloze, and llm for questions the "
            "chat model writes (slower; each one checked, our own fill in what it can't write).",
        ),
    ] = "mcq,truefalse,short,cloze",
    seed: Annotated[int | None, typer.Option("--seed", help="Same seed, same quiz.")] = None,
    about: Annotated[
        str | None,
        option(
            "--about",
            help="Quiz me on this: a topic (a question you asked the tutor); the "
            "questions are the notes' closest to it and to the passages the search finds for it "
            "(up to --n; fewer when the notes have fewer). Needs the index (`tutor ingest`).",
        ),
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Quiz yourself on a week, or on a topic: questions from our notes, each citing its source.

    Without --json it asks the questions one by one, grades each answer with feedback and
    keeps the result: missed questions come back in `tutor review`, and `tutor progress`
    counts them. With --json it only prints the quiz (nothing is recorded).

    [dim]Examples:[/dim]
      tutor quiz                              your week (`tutor week`), 5 questions
      tutor quiz --week 6 --n 3 --kinds mcq,cloze
      tutor quiz --week 18 --kinds llm,mcq    some questions written by the model
      tutor quiz --week 18 --n 5 --json
      tutor quiz --about "What is multi-head attention?"

    [dim]Settings:[/dim] TUTOR_LLM_PROVIDER for the model writing `llm` questions, and
    TUTOR_DATABASE_URL for where results are kept (default: SQLite in the data dir).
    """
    import random

    from app.course.notes import read_notes
    from app.llm.providers import LLMError
    from app.practice.quiz import LLM
    from app.practice.quiz import QuizError
    from app.practice.quiz import make_quiz
    from app.practice.quiz import question_writer
    from app.practice.quiz import topic_quiz

    check_week(week)
    settings = settings_for(data_dir)
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    if about is not None and (not about.strip() or LLM in chosen):
        fail(
            "--about takes a topic (a question you asked) and the notes' own kinds, not llm", code=2
        )
    recording = not as_json
    store, learner = local_learner(settings) if recording or week is None else (None, None)
    if store is not None and learner is not None:
        week = week_for(store, learner, week)
    assert week is not None  # a store was opened above when no week was given
    drawn: float | str = seed if seed is not None else random.random()
    who = learner.id if learner else ""
    try:
        if about:
            retriever = open_retriever(settings)
            found = retriever.search(about, k=5, week=week)
            questions = topic_quiz(
                read_notes(),
                about,
                [h.text for h in found],
                {week, *(h.week for h in found if h.week)},
                n=n,
                kinds=chosen,
                seed=drawn,
                learner=who,
                embedder=retriever.embedder,
            )
        else:
            questions = make_quiz(
                read_notes(),
                week,
                n=n,
                seed=drawn,
                kinds=chosen,
                writer=question_writer(settings) if LLM in chosen else None,
                learner=who,
            )
    except QuizError as exc:
        fail(str(exc), code=2)
    except LLMError as exc:
        fail(str(exc))
    if as_json:
        print_json([q.to_dict() for q in questions])
        return
    import datetime as dt

    from app.cli.render import render_summary
    from app.practice.grading import score_summary
    from app.records.quizzes import QuizRecords
    from app.records.reviews import ReviewRecords

    assert store is not None and learner is not None  # recording: opened above
    records = QuizRecords(store)
    quiz_id = records.save(learner.id, week, questions)
    right = ask_in_turn(questions, settings, records, learner.id, quiz_id)
    first = ReviewRecords(store).first_due(learner.id, [q.id for q in questions])
    now = dt.datetime.now(dt.UTC)
    out.print(render_summary(score_summary(right, len(questions), first, now)), highlight=False)
    out.print("[dim]Missed ones come back in `tutor review`.[/dim]")


@app.command(rich_help_panel="Practice")
def review(
    list_only: Annotated[
        bool, typer.Option("--list", help="Show what is due without asking.")
    ] = False,
    forecast: Annotated[
        bool,
        typer.Option("--forecast", help="Reviews due each day of the next 7 and 30 days (FSRS)."),
    ] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Review what is due: questions you answered in `tutor quiz` and your own cards
    (`tutor cards`), brought back by spaced repetition (FSRS).

    Each due question is asked again and graded, and the result decides when it returns: a
    miss within minutes, a sure answer after days, then weeks. After a short answer you rate
    yourself (again, hard, good or easy), since meaning is hard to grade exactly; your own
    cards show their back when you press Enter, and you rate them the same way (1-4).

    [dim]Examples:[/dim]
      tutor review                   ask the due questions one by one
      tutor review --list            how many are due, when the next one is, and which
      tutor review --json            the due questions as JSON (as GET /learners/{id}/reviews/due)
      tutor review --forecast        reviews due each day of the next week, and the month's total
      tutor review --forecast --json as GET /learners/{id}/reviews/forecast?days=30
    """
    import datetime as dt

    from app.cli.render import render_summary
    from app.practice.grading import score_summary
    from app.records.quizzes import QuizRecords
    from app.records.reviews import OWN
    from app.records.reviews import ReviewRecords
    from app.records.reviews import due_phrase

    settings = settings_for(data_dir)
    store, learner = local_learner(settings)
    records, deck, now = QuizRecords(store), ReviewRecords(store), dt.datetime.now(dt.UTC)
    if forecast:
        print_forecast(deck.forecast(learner.id, now, 30), as_json)
        return
    due = records.due(learner.id, now)
    if as_json:
        print_json([q.public() for q in due])
        return
    out.print(due_phrase(deck.summary(learner.id, now), now) + ".", highlight=False)
    if not due:
        out.print(
            "[dim]Take a quiz (`tutor quiz`) or make a card (`tutor cards add`): they "
            "come back here.[/dim]"
        )
        return
    if list_only:
        for question in due:
            out.print(
                f"• {question.prompt}  [dim]({question.kind}, week "
                f"{question.citation['week']})[/dim]",
                highlight=False,
            )
        return
    own = [q for q in due if q.kind == OWN]
    asked = [q for q in due if q.kind != OWN]
    right = ask_in_turn(asked, settings, records, learner.id, None)
    right += flip_in_turn(own, deck, learner.id)
    first = deck.first_due(learner.id, [q.id for q in due])
    summary = score_summary(right, len(due), first, dt.datetime.now(dt.UTC), "remembered")
    out.print(render_summary(summary), highlight=False)


def print_forecast(days: list[dict[str, Any]], as_json: bool) -> None:
    """The next 7 days as bars, and the 7- and 30-day totals."""
    from app.text import counted

    week, month = sum(d["due"] for d in days[:7]), sum(d["due"] for d in days[:30])
    if as_json:
        print_json({"days": days, "next_7_days": week, "next_30_days": month})
        return
    out.print(
        f"[bold]{counted(week, 'review')} in the next 7 days, {month} in the next 30"
        "[/bold] "
        "[dim](FSRS forecast, counting each card again when it returns if you recall "
        "it)[/dim]"
    )
    widest = max((d["due"] for d in days[:7]), default=0) or 1
    for day in days[:7]:
        bar = "█" * round(20 * day["due"] / widest)
        out.print(f"  {day['date']}  {bar:<20} {day['due']}", highlight=False)

"""Practice: `tutor quiz` and `tutor review`, asked in turn in the terminal."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from app.cli.base import (
    DataDirOption,
    JsonOption,
    app,
    check_week,
    fail,
    local_learner,
    open_retriever,
    out,
    print_json,
    settings_for,
    your_week,
)
from app.config import Settings


@app.command()
def quiz(
    week: Annotated[int | None, typer.Option(
        "--week", "-w", help="The week to be quizzed on (1-72; default: yours, see `tutor week`).",
        show_default=False)] = None,
    n: Annotated[int, typer.Option("--n", min=1, max=30, help="How many questions.")] = 5,
    kinds: Annotated[str, typer.Option(
        "--kinds", help="Comma-separated: mcq,truefalse,short,cloze, and llm for questions the "
        "chat model writes (slower; each one checked, our own fill in what it can't write).")]
    = "mcq,truefalse,short,cloze",
    seed: Annotated[int | None, typer.Option("--seed", help="Same seed, same quiz.")] = None,
    about: Annotated[str | None, typer.Option(
        "--about", help="Quiz me on this: a topic (a question you asked the tutor); the "
        "questions are the notes' closest to it and to the passages the search finds for it "
        "(up to --n; fewer when the notes have fewer). Needs the index (`tutor ingest`).",
        show_default=False)] = None,
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
    from app.practice.quiz import LLM, QuizError, make_quiz, question_writer, topic_quiz

    check_week(week)
    settings = settings_for(data_dir)
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    if about is not None and (not about.strip() or LLM in chosen):
        fail("--about takes a topic (a question you asked) and the notes' own kinds, not llm",
             code=2)
    recording = not as_json
    store, learner = local_learner(settings) if recording or week is None else (None, None)
    week = week or your_week(learner)
    drawn: float | str = seed if seed is not None else random.random()
    who = learner.id if learner else ""
    try:
        if about:
            retriever = open_retriever(settings)
            found = retriever.search(about, k=5, week=week)
            questions = topic_quiz(read_notes(), about, [h.text for h in found],
                                   {week, *(h.week for h in found if h.week)}, n=n,
                                   kinds=chosen, seed=drawn, learner=who,
                                   embedder=retriever.embedder)
        else:
            questions = make_quiz(read_notes(), week, n=n, seed=drawn, kinds=chosen,
                                  writer=question_writer(settings) if LLM in chosen else None,
                                  learner=who)
    except QuizError as exc:
        fail(str(exc), code=2)
    except LLMError as exc:
        fail(str(exc))
    if as_json:
        print_json([q.to_dict() for q in questions])
        return
    from app.cli.render import render_summary
    from app.practice.quiz import score_summary
    from app.records.quizzes import QuizRecords

    assert store is not None and learner is not None  # recording: opened above
    records = QuizRecords(store)
    quiz_id = records.save(learner.id, week, questions)
    right = ask_in_turn(questions, settings, records, learner.id, quiz_id, self_rate=False)
    out.print(render_summary(score_summary(right, len(questions))), highlight=False)
    out.print("[dim]Missed ones come back in `tutor review`.[/dim]")


def ask_in_turn(questions: list[Any], settings: Settings, records: Any, learner_id: int,
                quiz_id: str | None, self_rate: bool) -> int:
    """Ask each question, grade it, record it (FSRS schedules its review) and say when it comes
    back; with `self_rate` the learner rates their short answers. Returns how many were right."""
    import datetime as dt

    from app.cli.render import render_outcome
    from app.course.notes import read_notes
    from app.llm.providers import judge_model
    from app.practice.quiz import Verdict, glossary, grade, outcome, ratings_for, self_rated

    judge = judge_model(settings, Verdict.model_json_schema())
    similarity = _lazy_similarity()
    terms = glossary(read_notes())
    right = 0
    for number, question in enumerate(questions, 1):
        out.print(f"\n[bold]{number}. {question.prompt}[/bold]  [dim]({question.kind})[/dim]")
        for letter, option in zip("ABCD", question.options):
            out.print(f"   [cyan]{letter}[/cyan]  {option}")
        response = typer.prompt("your answer", default="", show_default=False)
        result = grade(question, response, similarity, judge, terms)
        out.print(render_outcome(outcome(question, result)), highlight=False)
        if self_rate and (choices := ratings_for(question)):
            rating = ""
            while rating not in choices:
                rating = typer.prompt(f"   how did it go? ({'/'.join(choices)})",
                                      default=result.fsrs_rating).strip().lower()
            result = self_rated(question, result, rating)
            out.print(render_outcome(outcome(question, result), quote=False), highlight=False)
        due = records.answer(learner_id, quiz_id, question, response, result,
                             dt.datetime.now(dt.UTC))
        out.print(f"   [dim]next review: {_when(due)}[/dim]")
        right += result.correct
    return right


def _lazy_similarity() -> Any:
    """Embedding similarity, the encoder loaded only when a short answer needs it."""
    loaded: list[Any] = []

    def similarity(a: str, b: str) -> float:
        if not loaded:
            from app.search.vectors import Embedder

            loaded.append(Embedder())
        return loaded[0].similarity(a, b)

    return similarity


def _when(due: Any) -> str:
    import datetime as dt

    from app.records.reviews import in_words

    return in_words(due, dt.datetime.now(dt.UTC))


@app.command()
def review(
    list_only: Annotated[bool, typer.Option("--list", help="Show what is due without asking.")]
    = False,
    forecast: Annotated[bool, typer.Option(
        "--forecast", help="Reviews due each day of the next 7 and 30 days (FSRS).")] = False,
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
    from app.practice.quiz import score_summary
    from app.records.quizzes import QuizRecords
    from app.records.reviews import OWN, ReviewRecords, due_phrase

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
        out.print("[dim]Take a quiz (`tutor quiz`) or make a card (`tutor cards add`): they "
                  "come back here.[/dim]")
        return
    if list_only:
        for question in due:
            out.print(f"• {question.prompt}  [dim]({question.kind}, week "
                      f"{question.citation['week']})[/dim]", highlight=False)
        return
    own = [q for q in due if q.kind == OWN]
    asked = [q for q in due if q.kind != OWN]
    right = ask_in_turn(asked, settings, records, learner.id, None, self_rate=True)
    right += flip_in_turn(own, deck, learner.id)
    out.print(render_summary(score_summary(right, len(due), "remembered")), highlight=False)


def flip_in_turn(cards: list[Any], deck: Any, learner_id: int) -> int:
    """Your own cards: the front, the back on Enter, then your rating (1-4 or its name)
    reschedules it. Returns how many were remembered (rated above again)."""
    import datetime as dt

    from app.practice.scheduler import RATINGS

    remembered = 0
    for card in cards:
        out.print(f"\n[bold]{card.prompt}[/bold]  [dim](your card)[/dim]", highlight=False)
        typer.prompt("   press Enter to see the back", default="", show_default=False)
        out.print(f"   {card.answer}", highlight=False)
        rating = ""
        while rating not in RATINGS:
            given = typer.prompt("   how did it go? 1 again, 2 hard, 3 good, 4 easy",
                                 default="3").strip().lower()
            rating = RATINGS[int(given) - 1] if given in ("1", "2", "3", "4") else given
        rated = deck.rate(learner_id, card.id, rating, dt.datetime.now(dt.UTC))
        out.print(f"   [dim]next review: {_when(dt.datetime.fromisoformat(rated['next_review']))}"
                  "[/dim]")
        remembered += rating != "again"
    return remembered


def print_forecast(days: list[dict[str, Any]], as_json: bool) -> None:
    """The next 7 days as bars, and the 7- and 30-day totals."""
    from app.records.reviews import counted

    week, month = sum(d["due"] for d in days[:7]), sum(d["due"] for d in days[:30])
    if as_json:
        print_json({"days": days, "next_7_days": week, "next_30_days": month})
        return
    out.print(f"[bold]{counted(week, 'review')} in the next 7 days, {month} in the next 30"
              "[/bold] "
              "[dim](FSRS forecast, counting each card again when it returns if you recall "
              "it)[/dim]")
    widest = max((d["due"] for d in days[:7]), default=0) or 1
    for day in days[:7]:
        bar = "█" * round(20 * day["due"] / widest)
        out.print(f"  {day['date']}  {bar:<20} {day['due']}", highlight=False)

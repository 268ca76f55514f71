"""Questions and cards asked one at a time in the terminal, each answer graded or rated and
recorded as it comes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from app.cli.base import out
from app.config import Settings

if TYPE_CHECKING:
    import datetime as dt

    from app.practice.quiz import Question
    from app.records.quizzes import QuizRecords
    from app.records.reviews import ReviewRecords
    from app.search.vectors import Embedder


def ask_in_turn(
    questions: list[Question],
    settings: Settings,
    records: QuizRecords,
    learner_id: int,
    quiz_id: str | None,
) -> int:
    """Ask each question, grade it, record it (FSRS schedules its review) and say when it comes
    back. A short answer, which the grader only estimates, is the learner's to rate: Enter
    keeps the grader's verdict, another rating overrides it (as the UI's Reviews tab does), in
    a quiz and a review alike. Returns how many were right."""
    import datetime as dt

    from app.cli.render import render_outcome
    from app.course.notes import read_notes
    from app.llm.providers import judge_model
    from app.practice.grading import Verdict
    from app.practice.grading import glossary
    from app.practice.grading import grade
    from app.practice.grading import outcome
    from app.practice.grading import ratings_for
    from app.practice.grading import self_rated

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
        if choices := ratings_for(question):
            rating = ""
            while rating not in choices:
                rating = (
                    typer.prompt(
                        f"   how did it go? ({'/'.join(choices)})", default=result.fsrs_rating
                    )
                    .strip()
                    .lower()
                )
            result = self_rated(question, result, rating)
            out.print(render_outcome(outcome(question, result), quote=False), highlight=False)
        due = records.answer(
            learner_id, quiz_id, question, response, result, dt.datetime.now(dt.UTC)
        )
        out.print(f"   [dim]next review: {_when(due)}[/dim]")
        right += result.correct
    return right


def _lazy_similarity() -> Callable[[str, str], float]:
    """Embedding similarity, the encoder loaded only when a short answer needs it."""
    loaded: list[Embedder] = []

    def similarity(a: str, b: str) -> float:
        if not loaded:
            from app.search.vectors import Embedder

            loaded.append(Embedder())
        return loaded[0].similarity(a, b)

    return similarity


def _when(due: dt.datetime) -> str:
    import datetime as dt

    from app.practice.scheduler import in_words

    return in_words(due, dt.datetime.now(dt.UTC))


def flip_in_turn(cards: list[Question], deck: ReviewRecords, learner_id: int) -> int:
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
            given = (
                typer.prompt("   how did it go? 1 again, 2 hard, 3 good, 4 easy", default="3")
                .strip()
                .lower()
            )
            rating = RATINGS[int(given) - 1] if given in ("1", "2", "3", "4") else given
        rated = deck.rate(learner_id, card.id, rating, dt.datetime.now(dt.UTC))
        out.print(
            f"   [dim]next review: {_when(dt.datetime.fromisoformat(rated['next_review']))}[/dim]"
        )
        remembered += rating != "again"
    return remembered

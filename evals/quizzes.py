"""Quiz quality over the whole plan: can every week get a quiz, is every question grounded in
the indexed course text, and does a second quiz repeat the first?

Validity per generator (before the quiz filter drops invalid items) comes from
`app.quiz.quiz_validity`, the model-written kind included when a question writer is given
(the full suite); this module adds what only the eval index can check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.quiz import (
    KINDS,
    LLM,
    Question,
    QuestionWriter,
    QuizError,
    make_quiz,
    normalized,
    quiz_validity,
)
from ingest.notes import Note, read_notes

WEEKS = range(1, 49)
QUIZ_SIZE = 5
LLM_EVERY = 4


def grounded(question: Question, source_texts: dict[str, str]) -> bool:
    """The cited snippet is in the indexed text of the cited source."""
    text = source_texts.get(question.citation["source"])
    return bool(text) and normalized(question.citation["snippet"]) in text


def duplicates(questions: Iterable[Question]) -> int:
    """Questions whose prompt (normalized) was already asked earlier in the sequence."""
    seen, repeated = set(), 0
    for question in questions:
        key = normalized(question.prompt)
        repeated += key in seen
        seen.add(key)
    return repeated


def quiz_quality(chunks_by_source: dict[str, list[str]], notes: list[Note] | None = None,
                 weeks: Iterable[int] = WEEKS, writer: QuestionWriter | None = None) -> dict[str, Any]:
    """Validity per generator, then two quizzes per week, the second excluding the first's
    questions (as the API does)."""
    notes = notes if notes is not None else read_notes()
    weeks = list(weeks)
    generators = quiz_validity(notes, weeks, KINDS)
    if writer:  # a model call or two per question: every 4th week is enough to see its rate
        generators |= quiz_validity(notes, weeks[::LLM_EVERY], (LLM,), writer=writer, per_week=1)
    model_free = [generators[k] for k in KINDS]
    source_texts = {s: normalized(" ".join(chunks)) for s, chunks in chunks_by_source.items()}
    made, second_made, failed, asked, grounded_count, repeated = 0, 0, [], 0, 0, 0
    for week in weeks:
        try:
            quiz = make_quiz(notes, week, QUIZ_SIZE, seed="eval-1")
        except QuizError as exc:
            failed.append({"week": week, "quiz": 1, "reason": str(exc)})
            continue
        made += 1
        try:
            quiz += make_quiz(notes, week, QUIZ_SIZE, seed="eval-2", exclude={q.id for q in quiz})
            second_made += 1
        except QuizError as exc:
            failed.append({"week": week, "quiz": 2, "reason": str(exc)})
        asked += len(quiz)
        grounded_count += sum(grounded(q, source_texts) for q in quiz)
        repeated += duplicates(quiz)
    overall = {"validity_rate": round(sum(g["valid"] for g in model_free)
                                      / max(sum(g["generated"] for g in model_free), 1), 4)}
    if writer:
        overall["llm_validity_rate"] = generators[LLM]["rate"]
    return {"overall": overall | {
        "weeks_with_quiz": round(made / len(weeks), 4),
        "weeks_with_second_quiz": round(second_made / len(weeks), 4),
        "grounded_rate": round(grounded_count / asked, 4) if asked else 0.0,
        "duplicate_rate": round(repeated / asked, 4) if asked else 0.0,
    }, "generators": generators, "failed": failed, "questions": asked}

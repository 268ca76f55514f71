"""Quiz quality over the whole plan: can every week get a quiz, is every question grounded in
the indexed course text, and does a second quiz repeat the first?

Validity per generator (before the quiz filter drops invalid items) comes from
`app.practice.quiz.quiz_validity`, the model-written kind included when a question writer is given
(the full suite); this module adds what only the eval index can check, and how good the
questions are: are the MCQ distractors plausible, and is "Quiz me on this" on the topic?
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from app.course.notes import Note
from app.course.notes import read_notes
from app.practice.distractors import BAND
from app.practice.distractors import ConceptSpace
from app.practice.distractors import concept_space
from app.practice.distractors import default_embedder
from app.practice.quiz import GENERATORS
from app.practice.quiz import KINDS
from app.practice.quiz import LLM
from app.practice.quiz import Question
from app.practice.quiz import QuestionWriter
from app.practice.quiz import QuizError
from app.practice.quiz import make_quiz
from app.practice.quiz import quiz_validity
from app.practice.quiz import tests_any
from app.practice.quiz import topic_quiz
from app.text import normalized

if TYPE_CHECKING:
    from app.search.vectors import Embedder

# (question, week) -> the passages that answer it, as (text, week): the product's retrieval
Search = Callable[[str, int], list[tuple[str, int | None]]]

WEEKS = range(1, 49)
QUIZ_SIZE = 5
LLM_EVERY = 4


def grounded(question: Question, source_texts: dict[str, str]) -> bool:
    """The cited snippet is in the indexed text of the cited source."""
    text = source_texts.get(question.citation["source"])
    return bool(text) and normalized(question.citation["snippet"]) in (text or "")


def duplicates(questions: Iterable[Question]) -> int:
    """Questions whose prompt (normalized) was already asked earlier in the sequence."""
    seen, repeated = set(), 0
    for question in questions:
        key = normalized(question.prompt)
        repeated += key in seen
        seen.add(key)
    return repeated


def distractor_plausibility(
    questions: Iterable[Question], space: ConceptSpace, embedder: Embedder
) -> dict[str, float]:
    """How plausible the wrong options of MCQs on the notes' concepts are:
    - `distractor_in_band`: the share of distractors whose name-and-definition cosine to the
      answer lies in the band (0.30-0.80): confusable with it, not a synonym, and
    - `distractor_cosine`: their mean cosine to the answer (higher: closer in meaning);
    - `mcq_guessable_rate`: the share of MCQs a blind guesser answers, picking the option whose
      name is closest (cosine) to the prompt. It knows no answers, only which option sounds
      like the prompt: easy distractors let it guess right, plausible ones fool it."""
    mcqs = [q for q in questions if q.kind == "mcq" and space.similarity(q.answer, q.answer)]
    found = [space.similarity(q.answer, o) for q in mcqs for o in q.options if o != q.answer]
    cosines = [c for c in found if c is not None]
    if not mcqs:
        return {"distractor_in_band": 0.0, "distractor_cosine": 0.0, "mcq_guessable_rate": 0.0}
    prompts = embedder.embed([q.prompt for q in mcqs])
    options = embedder.embed([o for q in mcqs for o in q.options])
    guessed = sum(
        q.options[int(np.argmax(options[4 * i : 4 * i + 4] @ prompts[i]))] == q.answer
        for i, q in enumerate(mcqs)
    )
    return {
        "distractor_in_band": round(
            sum(BAND[0] <= c < BAND[1] for c in cosines) / max(len(cosines), 1), 4
        ),
        "distractor_cosine": round(float(np.mean(cosines)), 4) if cosines else 0.0,
        "mcq_guessable_rate": round(guessed / len(mcqs), 4),
    }


def concept_section(note: Note, concept: str) -> str:
    """The text of a note's section on `concept` (its `## concept` heading to the next)."""
    for section in re.split(r"^## ", note.body, flags=re.M)[1:]:
        heading, _, text = section.partition("\n")
        if heading.strip().lower() == concept.lower():
            return text
    return ""


def on_topic(question: Question, note: Note, concept: str) -> bool:
    """A question is on a concept when its answer or quote names it, or it quotes the
    concept's own section of the notes."""
    section = normalized(concept_section(note, concept))
    return tests_any(question, frozenset({concept.lower()})) or (
        bool(section) and normalized(question.citation["snippet"]) in section
    )


def topic_relevance(
    notes: list[Note],
    search: Search,
    embedder: Embedder,
    weeks: Iterable[int] = WEEKS,
    n: int = QUIZ_SIZE,
) -> dict[str, float]:
    """ "Quiz me on this" measured: for every concept the notes define in `weeks`, the learner
    asks "What is <concept>?", `search` finds the passages (the product's retrieval), and
    `topic_quiz` makes `n` questions from them. `topic_on_topic_rate`: the share of its
    questions on the concept (`on_topic`); `week_quiz_on_topic_rate`: the same share for a
    quiz on the concept's week, what the button gave before; `topic_quiz_size`: questions per
    topic quiz (it gives fewer than `n` when the notes have fewer on the topic)."""
    wanted = set(weeks)
    asked = on = made = topics = week_asked = week_on = 0
    for note in notes:
        if note.meta.week not in wanted:
            continue
        for concept in note.definitions:
            topic = f"What is {concept}?"
            found = search(topic, note.meta.week)
            try:
                quiz = topic_quiz(
                    notes,
                    topic,
                    [text for text, _ in found],
                    {note.meta.week, *(w for _, w in found if w)},
                    n=n,
                    seed="eval",
                    embedder=embedder,
                )
            except QuizError:
                quiz = []
            topics += 1
            made += len(quiz)
            asked += max(len(quiz), 1)  # a topic with no quiz counts as one miss
            on += sum(on_topic(q, note, concept) for q in quiz)
            week_quiz = make_quiz(notes, note.meta.week, n, seed=f"eval-{concept}")
            week_asked += len(week_quiz)
            week_on += sum(on_topic(q, note, concept) for q in week_quiz)
    return {
        "topic_on_topic_rate": round(on / asked, 4) if asked else 0.0,
        "week_quiz_on_topic_rate": round(week_on / week_asked, 4) if week_asked else 0.0,
        "topic_quiz_size": round(made / topics, 2) if topics else 0.0,
    }


def quiz_quality(
    chunks_by_source: dict[str, list[str]],
    notes: list[Note] | None = None,
    weeks: Iterable[int] = WEEKS,
    writer: QuestionWriter | None = None,
    search: Search | None = None,
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    """Validity per generator, then two quizzes per week, the second excluding the first's
    questions (as the API does); the MCQ distractors' plausibility over every MCQ the
    generator makes, and with `search` the on-topic rate of "Quiz me on this"."""
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
    overall = {
        "validity_rate": round(
            sum(g["valid"] for g in model_free) / max(sum(g["generated"] for g in model_free), 1), 4
        )
    }
    if writer:
        overall["llm_validity_rate"] = generators[LLM]["rate"]
    space = concept_space(notes, embedder)
    every_mcq = [
        q
        for note in notes
        if note.meta.week in weeks
        for q in GENERATORS["mcq"](note, random.Random(0), space)
    ]
    overall |= distractor_plausibility(every_mcq, space, embedder or default_embedder())
    if search:
        overall |= topic_relevance(notes, search, embedder or default_embedder(), weeks)
    return {
        "overall": overall
        | {
            "weeks_with_quiz": round(made / len(weeks), 4),
            "weeks_with_second_quiz": round(second_made / len(weeks), 4),
            "grounded_rate": round(grounded_count / asked, 4) if asked else 0.0,
            "duplicate_rate": round(repeated / asked, 4) if asked else 0.0,
        },
        "generators": generators,
        "failed": failed,
        "questions": asked,
    }

"""Grading a learner's answer: exact for multiple choice and true/false, by the term for a
cloze, by meaning and key terms (or a judge model) for a short answer; and the learner's own
rating, which overrides the grader's estimate of a short answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError

from app.course.notes import Note
from app.llm.prompts import render
from app.practice.quiz import Question
from app.practice.quiz import QuizError
from app.practice.quiz import json_text
from app.practice.scheduler import RATINGS
from app.text import content_words
from app.text import normalized

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable


TONES = ("success", "info", "warning", "error")  # how a verdict or a score is shown
RATING_MEANINGS = {
    "again": "you did not recall it, so it comes back within minutes",
    "hard": "you recalled it with effort, so it comes back soon",
    "good": "you count it as recalled, so it comes back in a few days",
    "easy": "you recalled it easily, so it comes back later than after Good",
}


@dataclass(frozen=True)
class Grade:
    correct: bool  # what is recorded: the grader's verdict, or the learner's rating if given
    score: float  # 0-1
    feedback: str  # the verdict in words, without the quote (see `quote_for`)
    rating: str | None = None  # the learner's own verdict (again/hard/good/easy), if given
    estimate: bool | None = None  # with a rating: the grader's own verdict, which it overrode

    @property
    def fsrs_rating(self) -> str:
        """How the review card is rescheduled: the learner's rating, else right = good."""
        return self.rating or ("good" if self.correct else "again")

    @property
    def tone(self) -> str:
        """One of TONES, matching what is recorded: right is success and wrong is error; a
        self-rating of again is error, hard a warning, good or easy success when the grader
        agreed and info (neutral) when it did not, so no green check sits next to "Not yet"."""
        if self.rating is None:
            return "success" if self.correct else "error"
        if self.rating in ("again", "hard"):
            return "error" if self.rating == "again" else "warning"
        return "success" if self.estimate else "info"


def key_terms(text: str) -> set[str]:
    """Content words, numbers included ("64" matters in an answer)."""
    return content_words(text) | set(re.findall(r"\d+(?:\.\d+)?", text))


def glossary(notes: Iterable[Note]) -> frozenset[str]:
    """The notes' concept names, lower case: the terms a missing-term hint may name."""
    return frozenset(c.lower() for note in notes for c in note.meta.concepts)


_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]*[A-Z][A-Z0-9]*s?\b")  # XOR, PCA, GPT2, MLPs


def missing_terms(expected: str, given: str, terms: Iterable[str] = ()) -> list[str]:
    """The content terms of `expected` that `given` lacks: concept names from `terms` (a
    `glossary`) and acronyms ("XOR", "PCA") it mentions, in the order they come. Never a
    number, a stopword or a lone word cut from a phrase; often none, and then no hint is
    better than a noisy one."""
    lower, have = expected.lower(), content_words(given) | set(_ACRONYM.findall(given))
    found = [
        (m.start(), expected[m.start() : m.end()])
        for term in terms
        if content_words(term)
        for m in [re.search(rf"(?<![\w-]){re.escape(term.lower())}(?![\w-])", lower)]
        if m
    ]
    found += [
        (m.start(), m.group())
        for m in _ACRONYM.finditer(expected)
        if not any(m.group().lower() in t.lower() for _, t in found)
    ]
    missing: list[str] = []
    for _, term in sorted(found):
        if any(
            term.lower() != other.lower() and term.lower() in other.lower() for _, other in found
        ):
            continue  # "embeddings" inside "[CLS] embeddings": the longer term says it
        words = content_words(term) or {term}
        if not words <= have and term.lower() not in given.lower() and term not in missing:
            missing.append(term)
    return missing


def grade(
    question: Question,
    response: str,
    similarity: Callable[[str, str], float] | None = None,
    judge: Runnable[Any, Any] | None = None,
    terms: Iterable[str] = (),
) -> Grade:
    """Exact for MCQ and true/false (an option's text or letter); cloze by the words of the
    term; short answers by a `judge` model when there is one (an API model: the local one is
    too weak to judge), else by meaning (`similarity`, e.g. embedding cosine) and key terms,
    a miss naming the `terms` (a `glossary`) the answer lacks."""
    given = response.strip()
    if question.kind in ("mcq", "truefalse"):
        letters = {chr(ord("A") + i): option for i, option in enumerate(question.options)}
        chosen = letters.get(given.upper(), given)
        ok = normalized(chosen) == normalized(question.answer)
        return Grade(
            ok, float(ok), "Correct." if ok else f"Not quite: the answer is {question.answer}."
        )
    if question.kind == "cloze":
        ok = normalized(given) == normalized(question.answer) or (
            bool(content_words(question.answer))
            and content_words(question.answer) <= content_words(given)
        )
        return Grade(
            ok,
            float(ok),
            "Correct." if ok else f'Not quite: the missing term is "{question.answer}".',
        )
    if judge is not None:
        return _judged(question, given, judge, similarity, terms)
    return _by_meaning(question, given, similarity, terms)


def quote_for(question: Question) -> str | None:
    """The source sentence to show with the verdict, or None when the learner has already
    read it: in the prompt (a cloze, MCQ or true/false definition) or as the answer (the
    notes' check-yourself answers). A question quotes its source once, not three times."""
    snippet = question.citation["snippet"]
    seen = content_words(question.prompt) | content_words(question.answer)
    return None if content_words(snippet) <= seen else snippet


def outcome(question: Question, result: Grade) -> dict[str, Any]:
    """What a learner is shown after answering (the API's reply, the CLI's lines): the
    verdict and its tone, the answer, the quote when it adds something, and the source."""
    return {
        "correct": result.correct,
        "score": result.score,
        "feedback": result.feedback,
        "tone": result.tone,
        "rating": result.rating,
        "answer": question.answer,
        "explanation": question.explanation,
        "quote": quote_for(question),
        "citation": question.citation,
    }


def _by_meaning(
    question: Question,
    given: str,
    similarity: Callable[[str, str], float] | None,
    terms: Iterable[str],
) -> Grade:
    expected, got = key_terms(question.answer), key_terms(given)
    coverage = len(expected & got) / len(expected) if expected else 0.0
    meaning = similarity(given, question.answer) if similarity and given else 0.0
    score = round(0.6 * meaning + 0.4 * coverage, 3) if similarity else round(coverage, 3)
    ok = score >= 0.55
    missing = [] if ok else missing_terms(question.answer, given, terms)[:3]
    hint = f" The answer also names {', '.join(missing)}." if missing else ""
    return Grade(ok, score, ("Good answer." if ok else "Not yet.") + hint)


class Verdict(BaseModel):
    """The judge model's reply (JSON constrained by this schema where the server allows)."""

    model_config = ConfigDict(extra="forbid")
    correct: bool
    score: float = Field(ge=0, le=1)
    feedback: str = Field(min_length=1, max_length=400)


def _judged(
    question: Question,
    given: str,
    judge: Runnable[Any, Any],
    similarity: Callable[[str, str], float] | None,
    terms: Iterable[str],
) -> Grade:
    """The judge's verdict on a short answer; one it can't give, or gives unreadable, falls
    back to the meaning-and-key-terms grader, and the feedback says so."""
    from langchain_core.messages import HumanMessage

    prompt = render(
        "judge_short",
        question=question.prompt,
        answer=question.answer,
        snippet=question.citation["snippet"],
        response=given or "(no answer)",
    )
    try:
        reply = judge.invoke([HumanMessage(prompt)]).content
    except Exception as exc:  # any provider failure: the offline grader still works
        return _fallback(
            question, given, similarity, terms, f"the judge model failed ({type(exc).__name__})"
        )
    try:
        verdict = Verdict.model_validate_json(json_text(str(reply)))
    except ValidationError:
        return _fallback(
            question, given, similarity, terms, "the judge model's verdict was unreadable"
        )
    return Grade(
        verdict.correct,
        round(verdict.score, 3),
        f"{'Good answer' if verdict.correct else 'Not yet'} (judged by the model): "
        f"{verdict.feedback}",
    )


def _fallback(
    question: Question,
    given: str,
    similarity: Callable[[str, str], float] | None,
    terms: Iterable[str],
    why: str,
) -> Grade:
    result = _by_meaning(question, given, similarity, terms)
    return Grade(
        result.correct,
        result.score,
        f"({why}, so this was graded by meaning and key terms.) {result.feedback}",
    )


def ratings_for(question: Question) -> tuple[str, ...]:
    """The ratings a learner may give their own answer: short answers, which the grader only
    estimates, take one; the other kinds are graded exactly and take none."""
    return RATINGS if question.kind == "short" else ()


def self_rated(question: Question, result: Grade, rating: str) -> Grade:
    """A learner's own verdict on a short answer; it is what is recorded and decides the
    review schedule. The feedback says what the rating means and, when the grader thought
    otherwise, that the rating overrode it."""
    if not ratings_for(question):
        raise QuizError(
            f"only short answers are self-graded; a {question.kind} question is "
            "graded exactly, so leave the rating out"
        )
    if rating not in RATINGS:
        raise QuizError(f"a rating is one of {', '.join(RATINGS)}")
    recalled = rating != "again"
    said = f"You rated it {rating.capitalize()}: {RATING_MEANINGS[rating]}."
    if recalled != result.correct:
        said += f" The grader's estimate was different ({result.feedback}); your rating counts."
    return Grade(recalled, result.score, said, rating, estimate=result.correct)


def score_summary(right: int, total: int, what: str = "right") -> dict[str, str]:
    """A quiz's or review's end: {"text", "tone"}, the tone by share right (a success from
    80 %, info from half, a warning below), so "0 of 5 right" is never shown as a success."""
    share = right / total if total else 0.0
    tone = "success" if share >= 0.8 else "info" if share >= 0.5 else "warning"
    advice = {
        "success": "Well done: these come back for review in days.",
        "info": "The missed ones come back for review soon.",
        "warning": "Not there yet: reread the quoted passages; the missed ones come "
        "back for review within minutes.",
    }[tone]
    return {"text": f"{right} of {total} {what}. {advice}", "tone": tone}

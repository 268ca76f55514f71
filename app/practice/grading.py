"""Grading a learner's answer: exact for multiple choice and true/false, by the term for a
cloze, by meaning and key terms (or a judge model) for a short answer; and the learner's own
rating, which overrides the grader's estimate of a short answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import Stemmer
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
from app.practice.scheduler import in_words
from app.text import STOPWORDS
from app.text import content_words
from app.text import normalized

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable


TONES = ("success", "info", "warning", "error")  # how a verdict or a score is shown
RATING_MEANINGS = {
    "again": "you did not recall it",
    "hard": "you recalled it with effort",
    "good": "you count it as recalled",
    "easy": "you recalled it easily",
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


# Learners' shorthand for words the notes spell out: chat abbreviations and clipped forms of the
# course's own terms. Small on purpose: beyond these, similarity judges the wording.
SHORTHAND = {
    "bc": "because",
    "cuz": "because",
    "grad": "gradient",
    "grads": "gradients",
    "backprop": "backpropagation",
    "batchnorm": "batch normalization",
    "layernorm": "layer normalization",
    "prob": "probability",
    "probs": "probabilities",
    "param": "parameter",
    "params": "parameters",
    "lr": "learning rate",
    "val": "validation",
    "var": "variance",
    "dim": "dimension",
    "dims": "dimensions",
    "init": "initialization",
    "info": "information",
    "min": "minimum",
    "max": "maximum",
    "net": "network",
    "nets": "networks",
}
_SHORTHAND = re.compile(rf"\b(?:{'|'.join(SHORTHAND)})\b", re.I)
_STEMMER = Stemmer.Stemmer("english")  # Snowball: computation, computational -> comput
_BRITISH = re.compile(r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations|er|ers)\b")  # normalise
_LATEX = re.compile(r"\\[a-zA-Z]+")  # \sqrt, \top: a formula's markup, not its words


def spelled_out(text: str) -> str:
    """`text` with learners' shorthand spelled out ("bc the grads add up" -> "because the
    gradients add up"): what the similarity model and the key terms read."""
    return _SHORTHAND.sub(lambda m: SHORTHAND[m.group().lower()], text)


def _stems(words: Iterable[str]) -> list[str]:
    """Snowball stems of lower-case words, British -ise spellings as -ize first."""
    return _STEMMER.stemWords([_BRITISH.sub(r"iz\1", word) for word in words])


def key_terms(text: str) -> set[str]:
    """The stems of `text`'s content words, shorthand spelled out and formula markup left
    out, and its numbers by value ("64" matters in an answer, and 3.30 is 3.3):
    "computational graphs" and "computation graph" have the same key terms."""
    text = spelled_out(_LATEX.sub(" ", text))
    return set(_stems(content_words(text))) | _numbers(text)


def _numbers(text: str) -> set[str]:
    """The numbers in `text`, written alike whatever their trailing zeros: {"3.3", "27"}."""
    return {f"{float(n):g}" for n in re.findall(r"\d+(?:\.\d+)?", text)}


def _term_words(text: str) -> list[str]:
    """A cloze answer's words in order, stemmed, stopwords and possessives dropped, short
    words kept ("k" of k-means, "kv" of KV cache)."""
    text = spelled_out(re.sub(r"'s\b", "", text))
    return _stems(w for w in normalized(text).split() if w not in STOPWORDS)


def _runs(n: int) -> list[tuple[int, int]]:
    """Spans (start, end) of 2 to 4 adjacent words among n."""
    return [(i, j) for i in range(n) for j in range(i + 2, min(i + 4, n) + 1)]


def _fused(words: list[str]) -> set[str]:
    """What runs of adjacent words are also written as: joined ("drop out" -> dropout) or by
    initials ("key value" -> kv)."""
    return {
        form
        for i, j in _runs(len(words))
        for form in ("".join(words[i:j]), "".join(w[0] for w in words[i:j]))
    }


def names_term(term: str, given: str) -> bool:
    """Whether `given` names `term`, in any inflection, spelling or compounding and with any
    words around it: "computation graphs" names "computational graph", "drop out" names
    "dropout", "RAG" names "retrieval-augmented generation", "key-value cache" names "KV
    cache"; "layer normalization" does not name "batch normalization"."""
    want, have = _term_words(term), _term_words(given)
    if not want:
        return normalized(term) == normalized(given)
    found = set(have) | _fused(have)
    spans = [(i, j) for i, j in _runs(len(want)) if _fused(want[i:j]) & set(have)]
    return all(word in found or any(i <= k < j for i, j in spans) for k, word in enumerate(want))


def glossary(notes: Iterable[Note]) -> frozenset[str]:
    """The notes' concept names, lower case: the terms a missing-term hint may name."""
    return frozenset(c.lower() for note in notes for c in note.meta.concepts)


_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]*[A-Z][A-Z0-9]*s?\b")  # XOR, PCA, GPT2, MLPs


def missing_terms(expected: str, given: str, terms: Iterable[str] = ()) -> list[str]:
    """The content terms of `expected` that `given` lacks: concept names from `terms` (a
    `glossary`) and acronyms ("XOR", "PCA") it mentions, in the order they come. Never a
    number, a stopword or a lone word cut from a phrase; often none (see `_missing_words`).
    A term counts as given in any inflection ("attentions" gives "attention")."""
    lower, have = expected.lower(), key_terms(given) | set(_ACRONYM.findall(given))
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
        words = key_terms(term) or {term}
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
    term in any inflection, spelling or compounding (`names_term`); short answers by a `judge`
    model when there is one (an API model: the local one is too weak to judge), else by
    meaning (`similarity`, e.g. embedding cosine) and key terms, a miss naming what the answer
    lacks: the `terms` (a `glossary`) it names, else its words that carry its meaning."""
    given = response.strip()
    if question.kind in ("mcq", "truefalse"):
        letters = {chr(ord("A") + i): option for i, option in enumerate(question.options)}
        chosen = letters.get(given.upper(), given)
        ok = normalized(chosen) == normalized(question.answer)
        return Grade(
            ok, float(ok), "Correct." if ok else f"Not quite: the answer is {question.answer}."
        )
    if question.kind == "cloze":
        ok = names_term(question.answer, given)
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


# Calibrated on the dev split of evals/grading/graded_answers.jsonl: the cut with the fewest
# wrong verdicts there (`python -m evals.grading` prints it beside this one).
SHORT_ANSWER_CUT = 0.374
HINTS = 3  # terms a hint names at most


def _by_meaning(
    question: Question,
    given: str,
    similarity: Callable[[str, str], float] | None,
    terms: Iterable[str],
) -> Grade:
    """Right from SHORT_ANSWER_CUT (`_short_score`); a miss names what the answer lacks."""
    score = _short_score(question, given, similarity)
    if score >= SHORT_ANSWER_CUT:
        return Grade(True, score, "Good answer.")
    missing = missing_terms(question.answer, given, terms)[:HINTS] or _missing_words(
        question, given, similarity
    )
    hint = f" The answer also names {', '.join(missing)}." if missing else ""
    return Grade(False, score, "Not yet." + hint)


def _short_score(
    question: Question, given: str, similarity: Callable[[str, str], float] | None
) -> float:
    """0-1: 0.6 x the cosine of `given`, shorthand spelled out, to the expected answer
    (`similarity`) plus 0.4 x the share of the key terms the expected answer adds to the
    question that `given` names. That share alone without a similarity or when the answer
    is a number (3 and 4 are close in meaning, not in value); 0 for a yes where the answer
    is no, or the other way round."""
    new, said = _new_terms(question), key_terms(given)
    coverage = len(new & said) / len(new) if new else 0.0
    if _contradicts(question.answer, given):
        return 0.0
    if similarity is None or not given or new <= _numbers(question.answer):
        return round(coverage, 3)
    meaning = similarity(spelled_out(given), question.answer)
    return round(0.6 * meaning + 0.4 * coverage, 3)


def _new_terms(question: Question) -> set[str]:
    """The key terms the expected answer adds to the question (all of them if it adds none):
    what an answer must name, since restating the question earns nothing."""
    expected = key_terms(question.answer)
    return (expected - key_terms(question.prompt)) or expected


_YES = frozenset({"yes", "yeah", "yep", "yup"})
_NO = frozenset({"no", "nope", "nah"})


def _polarity(text: str) -> str | None:
    """The "yes" or "no" that `text` opens with ("No; it converges to a local minimum"), if
    any."""
    first = normalized(text).partition(" ")[0]
    return "yes" if first in _YES else "no" if first in _NO else None


def _contradicts(expected: str, given: str) -> bool:
    """`given` says yes where `expected` says no, or no where it says yes."""
    said, meant = _polarity(given), _polarity(expected)
    return said is not None and meant is not None and said != meant


def _missing_words(
    question: Question, given: str, similarity: Callable[[str, str], float] | None
) -> list[str]:
    """Up to HINTS words of the expected answer that neither `given` nor the question says,
    the closest in meaning to the whole answer (`similarity`) chosen, in the answer's order.
    None for an answer sharing no key term with the question or its answer ("I don't know"):
    nothing to build on."""
    said, asked = key_terms(given), key_terms(question.prompt)
    if similarity is None or not said & (asked | key_terms(question.answer)):
        return []
    words: dict[str, str] = {}  # stem -> the answer's first word with it
    for word in re.findall(r"[a-z]+", _LATEX.sub(" ", question.answer.lower())):
        stem = _stems([word])[0]
        if len(word) > 3 and word not in STOPWORDS and stem not in said | asked:
            words.setdefault(stem, word)
    closest = sorted(words.values(), key=lambda w: -similarity(w, question.answer))[:HINTS]
    return [word for word in words.values() if word in closest]


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


def score_summary(
    right: int,
    total: int,
    next_due: dt.datetime | None,
    now: dt.datetime,
    what: str = "right",
) -> dict[str, str]:
    """A quiz's or review's end: {"text", "tone"}, the tone by share right (a success from
    80 %, info from half, a warning below), so "0 of 5 right" is never shown as a success.
    `next_due` (aware UTC) is when the first of these questions is due again: the text says
    when from it, never a guess by the score."""
    share = right / total if total else 0.0
    tone = "success" if share >= 0.8 else "info" if share >= 0.5 else "warning"
    advice = {
        "success": "Well done.",
        "info": "Worth another look at the missed ones.",
        "warning": "Not there yet: reread the quoted passages.",
    }[tone]
    back = "" if next_due is None else f" The first comes back {in_words(next_due, now)}."
    return {"text": f"{right} of {total} {what}. {advice}{back}", "tone": tone}

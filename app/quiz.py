"""Quizzes grounded in our notes, and grading with feedback that quotes the source.

Four generators need no model, so every quiz is valid even with the weak local model:
- `cloze`: a concept's definition with the concept blanked out;
- `mcq`: "which concept is this?", the distractors being concepts of other weeks;
- `truefalse`: a definition, true as written or with the concept swapped for another one;
- `short`: the notes' own check-yourself questions, graded by meaning and key terms.
Every question cites the note and the snippet that supports its answer, and `validate` checks
each one before it reaches a learner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from app.citations import content_words
from ingest.notes import Note

KINDS = ("mcq", "truefalse", "short", "cloze")
BLANK = "_____"


class QuizError(ValueError):
    """No valid quiz can be made for the request; the message says why."""


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    prompt: str
    options: list[str]
    answer: str
    explanation: str
    difficulty: str
    citation: dict[str, Any]  # {"source", "snippet", "week"}
    generator: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public(self) -> dict[str, Any]:
        """What a learner sees before answering: no answer, no explanation, no snippet (a
        cloze's snippet is its answer)."""
        return {"id": self.id, "kind": self.kind, "prompt": self.prompt, "options": self.options,
                "difficulty": self.difficulty,
                "citation": {"source": self.citation["source"], "week": self.citation["week"]}}


def _question(kind: str, prompt: str, options: list[str], answer: str, explanation: str,
              difficulty: str, note: Note, snippet: str, generator: str) -> Question:
    qid = hashlib.sha256(f"{kind}\0{prompt}\0{answer}".encode()).hexdigest()[:12]
    citation = {"source": f"notes/{note.path.name}", "snippet": snippet, "week": note.meta.week}
    return Question(qid, kind, prompt, options, answer, explanation, difficulty, citation, generator)


def _blank(text: str, term: str) -> str | None:
    pattern = re.compile(re.escape(term), re.I)
    return pattern.sub(BLANK, text) if pattern.search(text) else None


# -- generators ----------------------------------------------------------------------------


def cloze(note: Note, rng: random.Random, others: list[Note]) -> Iterator[Question]:
    for concept, definition in note.definitions.items():
        blanked = _blank(definition, concept)
        if blanked:
            yield _question("cloze", f"Fill in the blank: {blanked}", [], concept,
                            f"The notes define it: {definition}", "medium", note, definition,
                            "cloze-definition")


NEARBY = 12  # distractors come from the concepts of the closest other weeks: plausible, not silly


def _siblings(note: Note, concept: str, others: list[Note], rng: random.Random, k: int) -> list[str]:
    """Concepts of nearby weeks, none sharing a word with the answer."""
    taken = content_words(concept)
    pool = sorted({(abs(other.meta.week - note.meta.week), c) for other in others
                   if other.meta.week != note.meta.week
                   for c in other.meta.concepts if not content_words(c) & taken})
    nearby = [c for _, c in pool[:NEARBY]]
    return rng.sample(nearby, k) if len(nearby) >= k else []


def mcq(note: Note, rng: random.Random, others: list[Note]) -> Iterator[Question]:
    for concept, definition in note.definitions.items():
        blanked = _blank(definition, concept)
        distractors = _siblings(note, concept, others, rng, 3)
        if not blanked or not distractors:
            continue
        options = [concept, *distractors]
        rng.shuffle(options)
        yield _question("mcq", f"Which concept does this describe? {blanked}", options, concept,
                        f"It is {concept}: {definition}", "easy", note, definition, "mcq-siblings")


def truefalse(note: Note, rng: random.Random, others: list[Note]) -> Iterator[Question]:
    for concept, definition in note.definitions.items():
        if not _blank(definition, concept):
            continue
        swap = _siblings(note, concept, others, rng, 1)
        if swap and rng.random() < 0.5:
            statement = re.sub(re.escape(concept), swap[0], definition, flags=re.I)
            statement = statement[0].upper() + statement[1:]
            yield _question("truefalse", f"True or false? {statement}", ["True", "False"], "False",
                            f"False: that describes {concept}, not {swap[0]}. {definition}",
                            "medium", note, definition, "truefalse-swap")
        else:
            yield _question("truefalse", f"True or false? {definition}", ["True", "False"], "True",
                            f"True, as the notes put it: {definition}", "easy", note, definition,
                            "truefalse-definition")


def short(note: Note, rng: random.Random, others: list[Note]) -> Iterator[Question]:
    for question, answer in note.check_yourself:
        yield _question("short", question, [], answer, answer, "hard", note, answer,
                        "check-yourself")


GENERATORS: dict[str, Callable[[Note, random.Random, list[Note]], Iterator[Question]]] = {
    "mcq": mcq, "truefalse": truefalse, "short": short, "cloze": cloze,
}


# -- validation ------------------------------------------------------------------------------


def problems(question: Question, note_text: str) -> list[str]:
    """Why a question must not be shown (empty when it is valid)."""
    found = []
    if question.kind not in KINDS:
        found.append(f"unknown kind {question.kind!r}")
    if not question.prompt.strip() or not question.answer.strip():
        found.append("empty prompt or answer")
    if question.kind == "mcq":
        if len(question.options) != 4 or len({o.lower() for o in question.options}) != 4:
            found.append("an MCQ needs 4 distinct options")
        if question.answer not in question.options:
            found.append("the answer is not among the options")
    if question.kind == "truefalse" and (question.options != ["True", "False"]
                                         or question.answer not in ("True", "False")):
        found.append("a true/false question needs options True, False and one of them as answer")
    if question.kind in ("mcq", "cloze") and question.answer.lower() in question.prompt.lower():
        found.append("the prompt gives the answer away")
    snippet = question.citation.get("snippet", "")
    if not snippet or " ".join(snippet.split()) not in " ".join(note_text.split()):
        found.append("the cited snippet is not in the source")
    elif question.kind != "truefalse" and not content_words(question.answer) <= content_words(snippet):
        found.append("the cited snippet does not support the answer")
    return found


def make_quiz(notes: list[Note], week: int, n: int = 5, kinds: tuple[str, ...] = KINDS,
              seed: int | str = 0, exclude: set[str] = frozenset()) -> list[Question]:
    """`n` valid questions on `week`, mixing kinds, none of whose ids are in `exclude`
    (a learner's recent questions)."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise QuizError(f"unknown question kinds {sorted(unknown)}: use {', '.join(KINDS)}")
    own = [note for note in notes if week == note.meta.week
           or week in range(note.meta.week, note.meta.week + 4 * len(note.meta.months))]
    if not own:
        raise QuizError(f"there are no notes for week {week} to make a quiz from")
    rng = random.Random(f"{seed}-{week}")
    pools: dict[str, list[Question]] = {}
    for kind in kinds:
        candidates = [q for note in own for q in GENERATORS[kind](note, rng, notes)
                      if q.id not in exclude and not problems(q, note.body)]
        rng.shuffle(candidates)
        pools[kind] = candidates
    quiz: list[Question] = []
    used: set[str] = set()  # one question per definition or check-yourself answer
    while len(quiz) < n and any(pools.values()):  # round-robin over kinds for variety
        for kind in kinds:
            while pools[kind] and len(quiz) < n:
                question = pools[kind].pop()
                if question.citation["snippet"] not in used:
                    used.add(question.citation["snippet"])
                    quiz.append(question)
                    break
    if len(quiz) < n:
        raise QuizError(f"only {len(quiz)} new questions available for week {week} "
                        f"(asked for {n}); try other kinds or fewer questions")
    return quiz


# -- grading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    correct: bool
    score: float  # 0-1
    feedback: str


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def key_terms(text: str) -> set[str]:
    """Content words, numbers included ("64" matters in an answer)."""
    return content_words(text) | set(re.findall(r"\d+(?:\.\d+)?", text))


def grade(question: Question, response: str,
          similarity: Callable[[str, str], float] | None = None) -> Grade:
    """Exact for MCQ and true/false (an option's text or letter); cloze by the words of the
    term; short answers by meaning (`similarity`, e.g. embedding cosine) and key-term coverage."""
    quote = f'From {question.citation["source"]}: "{question.citation["snippet"]}"'
    given = response.strip()
    if question.kind in ("mcq", "truefalse"):
        letters = {chr(ord("A") + i): option for i, option in enumerate(question.options)}
        chosen = letters.get(given.upper(), given)
        ok = _norm(chosen) == _norm(question.answer)
        return Grade(ok, float(ok), ("Correct. " if ok else f"Not quite: the answer is "
                                     f"{question.answer}. ") + quote)
    if question.kind == "cloze":
        ok = _norm(given) == _norm(question.answer) or (
            bool(content_words(question.answer)) and content_words(question.answer) <= content_words(given))
        return Grade(ok, float(ok), ("Correct. " if ok else f"The missing term is "
                                     f"\"{question.answer}\". ") + quote)
    expected, got = key_terms(question.answer), key_terms(given)
    coverage = len(expected & got) / len(expected) if expected else 0.0
    meaning = similarity(given, question.answer) if similarity and given else 0.0
    score = round(0.6 * meaning + 0.4 * coverage, 3) if similarity else round(coverage, 3)
    ok = score >= 0.55
    missing = sorted(expected - got)[:5]
    hint = "" if ok or not missing else f" Your answer misses: {', '.join(missing)}."
    return Grade(ok, score, ("Good answer. " if ok else "Not yet.") + hint + " " + quote)


# -- spaced review -------------------------------------------------------------------------


def question_from_dict(data: dict[str, Any]) -> Question:
    return Question(**data)


def schedule(card: dict[str, Any] | None, correct: bool,
             now: dt.datetime) -> tuple[dict[str, Any], dt.datetime]:
    """FSRS: the review card after an answer (right = Good, wrong = Again), and when it is due."""
    from fsrs import Card, Rating, Scheduler

    current = Card.from_dict(card) if card else Card(due=now)
    updated, _ = Scheduler().review_card(current, Rating.Good if correct else Rating.Again,
                                         review_datetime=now)
    return updated.to_dict(), updated.due

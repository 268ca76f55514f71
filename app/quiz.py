"""Quizzes grounded in our notes, and grading with feedback that quotes the source.

Four generators need no model, so every quiz is valid even with the weak local model:
- `cloze`: a concept's definition with the concept blanked out;
- `mcq`: "which concept is this?", the distractors being concepts of other weeks;
- `truefalse`: a definition, true as written or with the concept swapped for another one;
- `short`: the notes' own check-yourself questions, graded by meaning and key terms.
Every question cites the note and the snippet that supports its answer, and `problems` checks
each one before it reaches a learner.

A fifth source, `llm`, is opt-in: the chat model writes a question on one passage of the notes
(JSON constrained by a schema), the same checks plus grounding ones judge it, a faulty one is
sent back once with its problems listed, and what still fails is dropped; the generators above
fill the quiz, so every quiz is valid whatever the model does.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.citations import content_words, split_sentences, support
from app.prompts import render
from ingest.notes import CHECK_HEADING, Note

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from app.config import Settings

KINDS = ("mcq", "truefalse", "short", "cloze")
LLM = "llm"  # not a kind of question but who writes it: the chat model
CHOICES = (*KINDS, LLM)
RATINGS = ("again", "hard", "good", "easy")  # FSRS's four grades, for self-graded answers
BLANK = "_____"
log = logging.getLogger(__name__)


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


# -- questions the model writes ---------------------------------------------------------------

WRITTEN_KINDS = ("short", "mcq", "truefalse")  # asked for in turn, one per passage
MIN_SNIPPET_WORDS = 6
WRITER_TOKENS = 200
_FENCED = re.compile(r"^(```|\$\$).*?^\1", re.M | re.S)
_LABEL = re.compile(r"^\*\*[^*]+\.\*\*\s*")


def passages(note: Note, limit: int = 600) -> list[str]:
    """The note's prose paragraphs (their bold label such as "**Definition.**" dropped, cut at a
    sentence end near `limit` characters): what the model writes questions on. Code, display
    formulas, headings, lists and the check-yourself questions (the `short` generator's) are
    left out."""
    body = _FENCED.sub("", note.body.partition(CHECK_HEADING)[0])
    found = []
    for block in re.split(r"\n\s*\n", body):
        text = _LABEL.sub("", " ".join(block.split()))
        if text.startswith(("#", "|", "- ", "* ", "1. ")) or text.count("$") > 6:
            continue
        kept = ""
        for sentence in split_sentences(text):
            if kept and len(kept) + len(sentence) >= limit:
                break
            kept = f"{kept} {sentence}".strip()
        if len(kept.split()) >= 12 and quotable(kept):
            found.append(kept)
    return found


class ShortDraft(BaseModel):
    """A short-answer question as the model writes it: the quote first, then the answer in
    it, then the question (a small model asks better once it knows the answer)."""

    model_config = ConfigDict(extra="forbid")
    snippet: str
    answer: str
    question: str

    def to_question(self, note: Note) -> Question:
        return _question("short", self.question, [], self.answer, _said(self.snippet), "medium",
                         note, self.snippet, LLM)


class McqDraft(ShortDraft):
    wrong_options: list[str] = Field(min_length=3, max_length=3)

    def to_question(self, note: Note) -> Question:
        options = sorted([self.answer, *self.wrong_options], key=str.lower)  # order says nothing
        return _question("mcq", self.question, options, self.answer, _said(self.snippet),
                         "medium", note, self.snippet, LLM)


class TrueFalseDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    snippet: str
    statement: str
    answer: Literal["True", "False"]

    def to_question(self, note: Note) -> Question:
        return _question("truefalse", f"True or false? {self.statement}", ["True", "False"],
                         self.answer, _said(self.snippet), "medium", note, self.snippet, LLM)


DRAFTS: dict[str, type[ShortDraft | TrueFalseDraft]] = {
    "short": ShortDraft, "mcq": McqDraft, "truefalse": TrueFalseDraft}


def draft_schema(kind: str, passage: str) -> dict[str, Any]:
    """The JSON schema of a draft on `passage`, its snippet one of the passage's sentences:
    a grammar-constrained model then quotes exactly; the checks still apply to any model.
    No length bounds: llama.cpp's grammar makes them slow (a draft took 135 s, not 10 s)."""
    schema = DRAFTS[kind].model_json_schema()
    schema["properties"]["snippet"]["enum"] = quotable(passage)
    return schema


def quotable(passage: str) -> list[str]:
    """The passage's sentences long enough to cite, leaving out those with backslashes or
    double quotes: llama.cpp's schema-to-grammar step mangles their escapes."""
    return [s for s in split_sentences(passage)
            if len(s.split()) >= MIN_SNIPPET_WORDS and not {"\\", '"'} & set(s)]


def _said(snippet: str) -> str:
    return f"The notes say: {snippet}"


def grounding_problems(question: Question) -> list[str]:
    """What a model-written question needs beyond `problems`: a real quote, a question that
    does not give its answer away, and a true/false statement about what it quotes."""
    found = []
    snippet, answer = question.citation["snippet"], question.answer
    if len(snippet.split()) < MIN_SNIPPET_WORDS:
        found.append(f"the snippet must quote at least {MIN_SNIPPET_WORDS} words of the passage")
    words = f" {normalized(answer)} "
    if question.kind == "short" and words.strip() and words in f" {normalized(question.prompt)} ":
        found.append("the prompt gives the answer away")
    if question.kind == "truefalse":
        statement = question.prompt.removeprefix("True or false? ")
        if support(statement, snippet) < (0.8 if answer == "True" else 0.5):
            found.append("the statement is not about what the snippet says")
        elif answer == "False" and normalized(statement) in normalized(snippet):
            found.append("the statement is copied from the notes, so it is true, not false")
    return found


@dataclass(frozen=True)
class Written:
    """One try of the model at a question: the question if it passed (after at most one
    repair), and what was wrong with the first draft."""

    question: Question | None
    problems: list[str]

    @property
    def repaired(self) -> bool:
        return self.question is not None and bool(self.problems)


class QuestionWriter:
    """The chat model writing questions on passages of the notes, each checked and, when
    faulty, sent back once with its problems listed.

    One question at a time, whoever asks: the server shares one writer between requests, and
    a llama.cpp model used by two threads at once aborts the process (two quizzes at once
    killed the server with "Unexpected empty grammar stack")."""

    def __init__(self, constrained: Callable[[str, dict[str, Any]], Runnable]) -> None:
        self.constrained = constrained  # (name, JSON schema) -> the model held to that schema
        self._one_at_a_time = threading.Lock()

    def write(self, note: Note, passage: str, kind: str) -> Written:
        with self._one_at_a_time:
            return self._write(note, passage, kind)

    def _write(self, note: Note, passage: str, kind: str) -> Written:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        model = self.constrained(f"{kind}_question", draft_schema(kind, passage))
        messages = [SystemMessage(render("quiz_system")),
                    HumanMessage(render(f"quiz_{kind}", passage=passage))]
        reply = str(model.invoke(messages).content)
        question, found = self.read(reply, kind, note, passage)
        if not found:
            return Written(question, [])
        messages += [AIMessage(reply), HumanMessage(render(
            "quiz_repair", problems="\n".join(f"- {p}" for p in found)))]
        question, still = self.read(str(model.invoke(messages).content), kind, note, passage)
        return Written(None if still else question, found)

    @staticmethod
    def read(reply: str, kind: str, note: Note, passage: str) -> tuple[Question | None, list[str]]:
        """The question in a reply and its problems (none: it may be shown)."""
        try:
            draft = DRAFTS[kind].model_validate_json(_json_text(reply))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "the reply"
            return None, [f"the reply is not the JSON object asked for ({where}: {error['msg']})"]
        question = draft.to_question(note)
        return question, problems(question, passage) + grounding_problems(question)

    def pool(self, own: list[Note], rng: random.Random, exclude: set[str],
             attempts: int) -> Iterator[Question]:
        """Valid questions, written only as the quiz asks for them, from at most `attempts`
        passages. A model that fails stops the pool; the model-free generators fill in."""
        for note, passage, kind in assignments(own, rng, attempts):
            try:
                written = self.write(note, passage, kind)
            except Exception as exc:  # any provider failure: the quiz is still made without it
                log.warning("the model could not write quiz questions (%s: %s); our own "
                            "generators fill the quiz", type(exc).__name__, exc)
                return
            if written.question and written.question.id not in exclude:
                yield written.question


def assignments(own: list[Note], rng: random.Random, count: int) -> list[tuple[Note, str, str]]:
    """`count` (note, passage, kind) tasks for the model: passages in random order, kinds in turn."""
    items = [(note, passage) for note in own for passage in passages(note)]
    rng.shuffle(items)
    return [(note, passage, WRITTEN_KINDS[i % len(WRITTEN_KINDS)])
            for i, (note, passage) in enumerate(items[:count])]


def question_writer(settings: Settings, model: BaseChatModel | None = None) -> QuestionWriter:
    """The configured chat model (or `model`) as a question writer, its replies held to each
    draft's JSON schema."""
    from app.llm import chat_model, json_replies

    model = model or chat_model(settings, max_tokens=WRITER_TOKENS)
    return QuestionWriter(lambda name, schema: json_replies(model, settings, name, schema))


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


def notes_for_week(notes: list[Note], week: int) -> list[Note]:
    """The notes a week is quizzed on: its own, or for weeks 49-72 its month's topic notes."""
    return [note for note in notes if week == note.meta.week
            or week in range(note.meta.week, note.meta.week + 4 * len(note.meta.months))]


def make_quiz(notes: list[Note], week: int, n: int = 5, kinds: tuple[str, ...] = KINDS,
              seed: int | str = 0, exclude: set[str] = frozenset(),
              writer: QuestionWriter | None = None,
              prefer: frozenset[str] = frozenset()) -> list[Question]:
    """`n` valid questions on `week`, mixing kinds, none of whose ids are in `exclude`
    (a learner's recent questions). With `llm` among the kinds, `writer` writes some and the
    model-free generators fill whatever it could not. Questions on the concepts in `prefer`
    (lower case: a learner's weak spots) come first in each kind."""
    unknown = set(kinds) - set(CHOICES)
    if unknown:
        raise QuizError(f"unknown question kinds {sorted(unknown)}: use {', '.join(CHOICES)}")
    if LLM in kinds and writer is None:
        raise QuizError("model-written (llm) questions need a chat model: see TUTOR_LLM_PROVIDER")
    own = notes_for_week(notes, week)
    if not own:
        raise QuizError(f"there are no notes for week {week} to make a quiz from")
    rng = random.Random(f"{seed}-{week}")
    pools = {kind: _pool(kind, own, notes, rng, exclude, prefer) for kind in kinds if kind != LLM}
    if LLM in kinds:
        pools = {**pools, LLM: writer.pool(own, random.Random(f"{seed}-{week}-llm"), exclude, n)}
    quiz: list[Question] = []
    used: set[str] = set()  # one question per definition, answer or passage
    _round_robin(pools, n, quiz, used)
    if LLM in kinds and len(quiz) < n:  # the model fell short: our own generators fill in
        _round_robin({kind: _pool(kind, own, notes, rng, exclude, prefer) for kind in KINDS}, n,
                     quiz, used)
    if len(quiz) < n:
        raise QuizError(f"only {len(quiz)} new questions available for week {week} "
                        f"(asked for {n}); try other kinds or fewer questions")
    return quiz


def _pool(kind: str, own: list[Note], notes: list[Note], rng: random.Random,
          exclude: set[str], prefer: frozenset[str] = frozenset()) -> Iterator[Question]:
    candidates = [q for note in own for q in GENERATORS[kind](note, rng, notes)
                  if q.id not in exclude and not problems(q, note.body)]
    rng.shuffle(candidates)
    candidates.sort(key=lambda q: tests_any(q, prefer))  # stable: the preferred go last...
    return reversed(candidates)  # ...and so come first


def tests_any(question: Question, concepts: frozenset[str]) -> bool:
    """Whether `question` is on one of `concepts` (lower case): its answer, or its cited
    snippet, names it."""
    text = f"{question.answer} {question.citation['snippet']}".lower()
    return any(concept in text for concept in concepts)


def _round_robin(pools: dict[str, Iterator[Question]], n: int, quiz: list[Question],
                 used: set[str]) -> None:
    """Take one question from each pool in turn, for variety, until `quiz` holds `n`."""
    live = list(pools)
    while len(quiz) < n and live:
        for kind in list(live):
            question = next((q for q in pools[kind] if q.citation["snippet"] not in used), None)
            if question is None:
                live.remove(kind)
                continue
            used.add(question.citation["snippet"])
            quiz.append(question)
            if len(quiz) == n:
                return


def quiz_validity(notes: list[Note], weeks: Iterable[int], generators: Iterable[str] = CHOICES,
                  writer: QuestionWriter | None = None, per_week: int = 3,
                  seed: int | str = 0) -> dict[str, dict[str, float]]:
    """How many questions each generator makes on `weeks` and how many pass validation:
    {generator: {"generated", "valid", "repaired", "rate"}}, generator being a `--kinds`
    name. `llm` (it needs `writer`) tries `per_week` passages a week; "repaired" counts its
    questions valid only after the one repair; for the model-free generators it is 0."""
    names = list(generators)
    unknown = set(names) - set(CHOICES)
    if unknown:
        raise QuizError(f"unknown generators {sorted(unknown)}: use {', '.join(CHOICES)}")
    if LLM in names and writer is None:
        raise QuizError("measuring the llm generator needs a question writer (a chat model)")
    counts = {name: {"generated": 0, "valid": 0, "repaired": 0} for name in names}
    for week in weeks:
        own = notes_for_week(notes, week)
        rng = random.Random(f"{seed}-{week}")
        for name in names:
            if name == LLM:
                written = [writer.write(note, passage, kind)
                           for note, passage, kind in assignments(own, rng, per_week)]
                results = [(w.question is not None, w.repaired) for w in written]
            else:
                results = [(not problems(q, note.body), False) for note in own
                           for q in GENERATORS[name](note, rng, notes)]
            counts[name]["generated"] += len(results)
            counts[name]["valid"] += sum(ok for ok, _ in results)
            counts[name]["repaired"] += sum(fixed for _, fixed in results)
    return {name: {**c, "rate": round(c["valid"] / c["generated"], 3) if c["generated"] else 0.0}
            for name, c in counts.items()}


# -- grading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    correct: bool
    score: float  # 0-1
    feedback: str
    rating: str | None = None  # the learner's own verdict (again/hard/good/easy), if given

    @property
    def fsrs_rating(self) -> str:
        """How the review card is rescheduled: the learner's rating, else right = good."""
        return self.rating or ("good" if self.correct else "again")


def normalized(text: str) -> str:
    """Lower-case words and numbers only: how two prompts or answers are compared."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def key_terms(text: str) -> set[str]:
    """Content words, numbers included ("64" matters in an answer)."""
    return content_words(text) | set(re.findall(r"\d+(?:\.\d+)?", text))


def grade(question: Question, response: str,
          similarity: Callable[[str, str], float] | None = None,
          judge: Runnable | None = None) -> Grade:
    """Exact for MCQ and true/false (an option's text or letter); cloze by the words of the
    term; short answers by a `judge` model when there is one (an API model: the local one is
    too weak to judge), else by meaning (`similarity`, e.g. embedding cosine) and key terms."""
    quote = _quote(question)
    given = response.strip()
    if question.kind in ("mcq", "truefalse"):
        letters = {chr(ord("A") + i): option for i, option in enumerate(question.options)}
        chosen = letters.get(given.upper(), given)
        ok = normalized(chosen) == normalized(question.answer)
        return Grade(ok, float(ok), ("Correct. " if ok else f"Not quite: the answer is "
                                     f"{question.answer}. ") + quote)
    if question.kind == "cloze":
        ok = normalized(given) == normalized(question.answer) or (
            bool(content_words(question.answer)) and content_words(question.answer) <= content_words(given))
        return Grade(ok, float(ok), ("Correct. " if ok else f"The missing term is "
                                     f"\"{question.answer}\". ") + quote)
    if judge is not None:
        return _judged(question, given, judge, similarity)
    return _by_meaning(question, given, similarity)


def _quote(question: Question) -> str:
    return f'From {question.citation["source"]}: "{question.citation["snippet"]}"'


def _by_meaning(question: Question, given: str,
                similarity: Callable[[str, str], float] | None) -> Grade:
    quote = _quote(question)
    expected, got = key_terms(question.answer), key_terms(given)
    coverage = len(expected & got) / len(expected) if expected else 0.0
    meaning = similarity(given, question.answer) if similarity and given else 0.0
    score = round(0.6 * meaning + 0.4 * coverage, 3) if similarity else round(coverage, 3)
    ok = score >= 0.55
    missing = sorted(expected - got)[:5]
    hint = "" if ok or not missing else f" Your answer misses: {', '.join(missing)}."
    return Grade(ok, score, ("Good answer. " if ok else "Not yet.") + hint + " " + quote)


class Verdict(BaseModel):
    """The judge model's reply (JSON constrained by this schema where the server allows)."""

    model_config = ConfigDict(extra="forbid")
    correct: bool
    score: float = Field(ge=0, le=1)
    feedback: str = Field(min_length=1, max_length=400)


def _judged(question: Question, given: str, judge: Runnable,
            similarity: Callable[[str, str], float] | None) -> Grade:
    """The judge's verdict on a short answer; one it can't give, or gives unreadable, falls
    back to the meaning-and-key-terms grader, and the feedback says so."""
    from langchain_core.messages import HumanMessage

    prompt = render("judge_short", question=question.prompt, answer=question.answer,
                    snippet=question.citation["snippet"], response=given or "(no answer)")
    try:
        reply = judge.invoke([HumanMessage(prompt)]).content
    except Exception as exc:  # any provider failure: the offline grader still works
        return _fallback(question, given, similarity, f"the judge model failed ({type(exc).__name__})")
    try:
        verdict = Verdict.model_validate_json(_json_text(str(reply)))
    except ValidationError:
        return _fallback(question, given, similarity, "the judge model's verdict was unreadable")
    return Grade(verdict.correct, round(verdict.score, 3),
                 f"{'Good answer' if verdict.correct else 'Not yet'} (judged by the model): "
                 f"{verdict.feedback} {_quote(question)}")


def _fallback(question: Question, given: str, similarity: Callable[[str, str], float] | None,
              why: str) -> Grade:
    result = _by_meaning(question, given, similarity)
    return Grade(result.correct, result.score,
                 f"({why}, so this was graded by meaning and key terms.) {result.feedback}")


def _json_text(reply: str) -> str:
    """The JSON object in a reply: servers without schema support may wrap it in prose or a
    code fence."""
    start, end = reply.find("{"), reply.rfind("}")
    return reply[start:end + 1] if 0 <= start < end else reply


def ratings_for(question: Question) -> tuple[str, ...]:
    """The ratings a learner may give their own answer: short answers, which the grader only
    estimates, take one; the other kinds are graded exactly and take none."""
    return RATINGS if question.kind == "short" else ()


def self_rated(question: Question, result: Grade, rating: str) -> Grade:
    """A learner's own verdict on a short answer; it decides the review schedule."""
    if not ratings_for(question):
        raise QuizError(f"only short answers are self-graded; a {question.kind} question is "
                        "graded exactly, so leave the rating out")
    if rating not in RATINGS:
        raise QuizError(f"a rating is one of {', '.join(RATINGS)}")
    return Grade(rating != "again", result.score,
                 f"{result.feedback} You rated your answer: {rating}.", rating)


# -- spaced review -------------------------------------------------------------------------


def question_from_dict(data: dict[str, Any]) -> Question:
    return Question(**data)


"""Quizzes grounded in our notes, and grading with feedback that quotes the source.

Four generators need no model, so every quiz is valid even with the weak local model:
- `cloze`: a concept's definition with the concept blanked out;
- `mcq`: "which concept is this?", the distractors being concepts of other weeks;
- `truefalse`: a definition as written (true), or with its subject swapped for a concept of
  the same kind that it does not describe (false: no part, instance or synonym of it);
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
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Set
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
from itertools import zip_longest
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

import numpy as np
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError

from app.answering.citations import support
from app.course.notes import CHECK_HEADING
from app.course.notes import Note
from app.llm.prompts import render
from app.practice.distractors import ConceptSpace
from app.practice.distractors import concept_space
from app.practice.distractors import default_embedder
from app.text import content_words
from app.text import normalized
from app.text import split_sentences

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from app.config import Settings
    from app.search.vectors import Embedder

Kind = Literal["mcq", "truefalse", "short", "cloze"]
KINDS: tuple[Kind, ...] = ("mcq", "truefalse", "short", "cloze")
LLM = "llm"  # not a kind of question but who writes it: the chat model
CHOICES = (*KINDS, LLM)
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
        return {
            "id": self.id,
            "kind": self.kind,
            "prompt": self.prompt,
            "options": self.options,
            "difficulty": self.difficulty,
            "citation": {"source": self.citation["source"], "week": self.citation["week"]},
        }


def _question(
    kind: str,
    prompt: str,
    options: list[str],
    answer: str,
    explanation: str,
    difficulty: str,
    note: Note,
    snippet: str,
    generator: str,
) -> Question:
    qid = hashlib.sha256(f"{kind}\0{prompt}\0{answer}".encode()).hexdigest()[:12]
    citation = {"source": f"notes/{note.path.name}", "snippet": snippet, "week": note.meta.week}
    return Question(
        qid, kind, prompt, options, answer, explanation, difficulty, citation, generator
    )


def _blank(text: str, term: str) -> str | None:
    pattern = re.compile(re.escape(term), re.I)
    return pattern.sub(BLANK, text) if pattern.search(text) else None


# -- generators ----------------------------------------------------------------------------


def cloze(note: Note, rng: random.Random, space: ConceptSpace) -> Iterator[Question]:
    for concept, definition in note.definitions.items():
        blanked = _blank(definition, concept)
        if blanked:
            yield _question(
                "cloze",
                f"Fill in the blank: {blanked}",
                [],
                concept,
                f"The term is {concept}.",
                "medium",
                note,
                definition,
                "cloze-definition",
            )


def mcq(note: Note, rng: random.Random, space: ConceptSpace) -> Iterator[Question]:
    """ "Which concept is this?", the wrong options plausible ones (`ConceptSpace`); options
    in a fixed order here, arranged for each learner by `arranged`."""
    for concept, definition in note.definitions.items():
        blanked = _blank(definition, concept)
        distractors = space.distractors(concept, note.meta.week, blanked or "", rng, 3)
        if not blanked or not distractors:
            continue
        yield _question(
            "mcq",
            f"Which concept does this describe? {blanked}",
            sorted([concept, *distractors], key=str.lower),
            concept,
            f"It is {concept}.",
            "easy",
            note,
            definition,
            "mcq-siblings",
        )


def truefalse(note: Note, rng: random.Random, space: ConceptSpace) -> Iterator[Question]:
    """A definition with its concept swapped for one of the same kind that makes it false
    (`ConceptSpace.swap`: not a part, instance or synonym of it, fitting the sentence's
    grammar), else as written (true). Few concepts have such a twin (about one in five), so
    every one is used: true statements still make most."""
    for concept, definition in note.definitions.items():
        if not _blank(definition, concept):
            continue
        swap = space.swap(concept, note.meta.week, definition)
        if swap:
            yield _question(
                "truefalse",
                f"True or false? {space.swapped(concept, swap, definition)}",
                ["True", "False"],
                "False",
                f"False: that describes {concept}, not {swap}.",
                "medium",
                note,
                definition,
                "truefalse-swap",
            )
        else:
            yield _question(
                "truefalse",
                f"True or false? {definition}",
                ["True", "False"],
                "True",
                "True, as the notes put it.",
                "easy",
                note,
                definition,
                "truefalse-definition",
            )


def short(note: Note, rng: random.Random, space: ConceptSpace) -> Iterator[Question]:
    for question, answer in note.check_yourself:
        yield _question(
            "short", question, [], answer, answer, "hard", note, answer, "check-yourself"
        )


GENERATORS: dict[str, Callable[[Note, random.Random, ConceptSpace], Iterator[Question]]] = {
    "mcq": mcq,
    "truefalse": truefalse,
    "short": short,
    "cloze": cloze,
}


def arranged(question: Question, learner: int | str) -> Question:
    """`question` with its options in this learner's order: shuffled, the same order every
    time this learner meets this question (in the quiz and in its reviews), another order for
    another learner. True/false keeps True, False."""
    if question.kind != "mcq":
        return question
    options = sorted(question.options, key=str.lower)
    random.Random(f"{learner}\0{question.id}").shuffle(options)
    return replace(question, options=options)


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


class _Draft(BaseModel):
    """A question as the model writes it, quote first (a small model asks better once it has
    the sentence in front of it)."""

    model_config = ConfigDict(extra="forbid")
    snippet: str

    def _question(
        self, kind: str, prompt: str, options: list[str], answer: str, note: Note
    ) -> Question:
        """The draft as a question of `kind`, explained and cited by its quote in `note`."""
        explanation = _said(self.snippet)
        return _question(
            kind, prompt, options, answer, explanation, "medium", note, self.snippet, LLM
        )


class ShortDraft(_Draft):
    """A short-answer question: the quote, then the answer in it, then the question."""

    answer: str
    question: str

    def to_question(self, note: Note) -> Question:
        return self._question("short", self.question, [], self.answer, note)


class McqDraft(ShortDraft):
    wrong_options: list[str] = Field(min_length=3, max_length=3)

    def to_question(self, note: Note) -> Question:
        options = [self.answer, *self.wrong_options]
        return self._question("mcq", self.question, options, self.answer, note)


class TrueFalseDraft(_Draft):
    statement: str
    answer: Literal["True", "False"]

    def to_question(self, note: Note) -> Question:
        prompt = f"True or false? {self.statement}"
        return self._question("truefalse", prompt, ["True", "False"], self.answer, note)


DRAFTS: dict[str, type[ShortDraft | TrueFalseDraft]] = {
    "short": ShortDraft,
    "mcq": McqDraft,
    "truefalse": TrueFalseDraft,
}


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
    return [
        s
        for s in split_sentences(passage)
        if len(s.split()) >= MIN_SNIPPET_WORDS and not {"\\", '"'} & set(s)
    ]


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

    def __init__(self, constrained: Callable[[str, dict[str, Any]], Runnable[Any, Any]]) -> None:
        self.constrained = constrained  # (name, JSON schema) -> the model held to that schema
        self._one_at_a_time = threading.Lock()

    def write(self, note: Note, passage: str, kind: str) -> Written:
        with self._one_at_a_time:
            return self._write(note, passage, kind)

    def _write(self, note: Note, passage: str, kind: str) -> Written:
        from langchain_core.messages import AIMessage
        from langchain_core.messages import HumanMessage
        from langchain_core.messages import SystemMessage

        model = self.constrained(f"{kind}_question", draft_schema(kind, passage))
        messages = [
            SystemMessage(render("quiz_system")),
            HumanMessage(render(f"quiz_{kind}", passage=passage)),
        ]
        reply = str(model.invoke(messages).content)
        question, found = self.read(reply, kind, note, passage)
        if not found:
            return Written(question, [])
        messages += [
            AIMessage(reply),
            HumanMessage(render("quiz_repair", problems="\n".join(f"- {p}" for p in found))),
        ]
        question, still = self.read(str(model.invoke(messages).content), kind, note, passage)
        return Written(None if still else question, found)

    @staticmethod
    def read(reply: str, kind: str, note: Note, passage: str) -> tuple[Question | None, list[str]]:
        """The question in a reply and its problems (none: it may be shown)."""
        try:
            draft = DRAFTS[kind].model_validate_json(json_text(reply))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "the reply"
            return None, [f"the reply is not the JSON object asked for ({where}: {error['msg']})"]
        question = draft.to_question(note)
        return question, problems(question, passage) + grounding_problems(question)

    def pool(
        self, own: list[Note], rng: random.Random, exclude: Set[str], attempts: int
    ) -> Iterator[Question]:
        """Valid questions, written only as the quiz asks for them, from at most `attempts`
        passages. A model that fails stops the pool; the model-free generators fill in."""
        for note, passage, kind in assignments(own, rng, attempts):
            try:
                written = self.write(note, passage, kind)
            except Exception as exc:  # any provider failure: the quiz is still made without it
                log.warning(
                    "the model could not write quiz questions (%s: %s); our own "
                    "generators fill the quiz",
                    type(exc).__name__,
                    exc,
                )
                return
            if written.question and written.question.id not in exclude:
                yield written.question


def assignments(own: list[Note], rng: random.Random, count: int) -> list[tuple[Note, str, str]]:
    """`count` (note, passage, kind) tasks for the model: passages in random order, kinds in turn."""
    items = [(note, passage) for note in own for passage in passages(note)]
    rng.shuffle(items)
    return [
        (note, passage, WRITTEN_KINDS[i % len(WRITTEN_KINDS)])
        for i, (note, passage) in enumerate(items[:count])
    ]


def question_writer(settings: Settings, model: BaseChatModel | None = None) -> QuestionWriter:
    """The configured chat model (or `model`) as a question writer, its replies held to each
    draft's JSON schema."""
    from app.llm.providers import chat_model
    from app.llm.providers import json_replies

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
    if question.kind == "truefalse" and (
        question.options != ["True", "False"] or question.answer not in ("True", "False")
    ):
        found.append("a true/false question needs options True, False and one of them as answer")
    if question.kind in ("mcq", "cloze") and question.answer.lower() in question.prompt.lower():
        found.append("the prompt gives the answer away")
    snippet = question.citation.get("snippet", "")
    if not snippet or " ".join(snippet.split()) not in " ".join(note_text.split()):
        found.append("the cited snippet is not in the source")
    elif question.kind != "truefalse" and not content_words(question.answer) <= content_words(
        snippet
    ):
        found.append("the cited snippet does not support the answer")
    return found


def notes_for_week(notes: list[Note], week: int) -> list[Note]:
    """The notes a week is quizzed on: its own, or for weeks 49-72 its month's topic notes."""
    return [
        note
        for note in notes
        if week == note.meta.week
        or week in range(note.meta.week, note.meta.week + 4 * len(note.meta.months))
    ]


def make_quiz(
    notes: list[Note],
    week: int,
    n: int = 5,
    kinds: tuple[str, ...] = KINDS,
    seed: float | str = 0,
    exclude: Set[str] = frozenset(),
    writer: QuestionWriter | None = None,
    prefer: frozenset[str] = frozenset(),
    learner: int | str = "",
    space: ConceptSpace | None = None,
) -> list[Question]:
    """`n` valid questions on `week`, mixing kinds, none of whose ids are in `exclude`
    (a learner's recent questions), options in `learner`'s order (`arranged`). With `llm`
    among the kinds, `writer` writes some and the model-free generators fill whatever it
    could not. Questions on the concepts in `prefer` (lower case: a learner's weak spots) come
    first in each kind. `space`: the notes' concepts embedded (default: `concept_space`)."""
    _check_kinds(kinds, writer)
    own = notes_for_week(notes, week)
    if not own:
        raise QuizError(f"there are no notes for week {week} to make a quiz from")
    space = space or concept_space(notes)
    rng = random.Random(f"{seed}-{week}")
    pools = {kind: _pool(kind, own, space, rng, exclude, prefer) for kind in kinds if kind != LLM}
    if LLM in kinds and writer is not None:  # _check_kinds: llm comes with a writer
        pools = {**pools, LLM: writer.pool(own, random.Random(f"{seed}-{week}-llm"), exclude, n)}
    quiz: list[Question] = []
    used: set[str] = set()  # one question per definition, answer or passage
    _round_robin(pools, n, quiz, used)
    if LLM in kinds and len(quiz) < n:  # the model fell short: our own generators fill in
        _round_robin(
            {kind: _pool(kind, own, space, rng, exclude, prefer) for kind in KINDS}, n, quiz, used
        )
    if len(quiz) < n:
        raise QuizError(
            f"only {len(quiz)} new questions available for week {week} "
            f"(asked for {n}); try other kinds or fewer questions"
        )
    return [arranged(q, learner) for q in quiz]


def _check_kinds(kinds: Iterable[str], writer: QuestionWriter | None) -> None:
    unknown = set(kinds) - set(CHOICES)
    if unknown:
        raise QuizError(f"unknown question kinds {sorted(unknown)}: use {', '.join(CHOICES)}")
    if LLM in kinds and writer is None:
        raise QuizError("model-written (llm) questions need a chat model: see TUTOR_LLM_PROVIDER")


TOPIC_MIN = 0.45  # cosine of a question's answer-and-quote to the topic: below it, off topic


def topic_quiz(
    notes: list[Note],
    topic: str,
    passages: list[str],
    weeks: Iterable[int],
    n: int = 5,
    kinds: tuple[str, ...] = KINDS,
    seed: float | str = 0,
    exclude: Set[str] = frozenset(),
    learner: int | str = "",
    embedder: Embedder | None = None,
) -> list[Question]:
    """ "Quiz me on this": up to `n` questions on a conversation's `topic` (the learner's
    question) and the `passages` that answered it, from the notes of `weeks` (the passages'
    weeks). Only questions on the conversation's concepts (`topic_concepts`) are asked: a
    cosine to the topic alone let a neighbouring concept of the same note in (weight decay
    after a question on batch norm). Candidates come best first by the cosine of their answer
    and quote to the topic and to its closest passage (the mean of the two), mixing kinds;
    when no concept is known, those under TOPIC_MIN are left out as off topic. Fewer than `n`
    when the notes have fewer on the topic, never padded with another; QuizError when they
    have none."""
    _check_kinds(kinds, None)
    own = topic_notes(notes, weeks)
    if not own:
        raise QuizError(f"there are no notes for weeks {sorted(set(weeks))} to make a quiz from")
    embedder = embedder or default_embedder()
    space = concept_space(notes, embedder)
    rng = random.Random(f"{seed}-topic")
    concepts = topic_concepts(own, topic, passages)
    definitions = {d: c for note in own for c, d in note.definitions.items()}
    candidates = [
        q
        for kind in kinds
        for q in _pool(kind, own, space, rng, exclude)
        if not concepts or on_concepts(q, concepts, definitions)
    ]
    if candidates:
        topic_vector, *passage_vectors = embedder.embed([topic, *passages])
        vectors = embedder.embed([f"{q.answer}: {q.citation['snippet']}" for q in candidates])
        to_topic = vectors @ topic_vector
        to_passage = (
            (vectors @ np.stack(passage_vectors).T).max(axis=1) if passage_vectors else to_topic
        )
        relevance = (to_topic + to_passage) / 2
        floor = -1.0 if concepts else TOPIC_MIN
        ranked = sorted((r, i) for i, r in enumerate(relevance) if r >= floor)
        candidates = [candidates[i] for _, i in reversed(ranked)]
    pools = {kind: iter([q for q in candidates if q.kind == kind]) for kind in kinds}
    quiz: list[Question] = []
    _round_robin(pools, n, quiz, set())
    if not quiz:
        about = " or ".join(concepts) if concepts else f"close enough to {topic!r}"
        raise QuizError(
            f"the notes of weeks {sorted(set(weeks))} have no new questions {about}"
            ": take a quiz on the week instead"
        )
    return [arranged(q, learner) for q in quiz]


def topic_notes(notes: list[Note], weeks: Iterable[int]) -> list[Note]:
    """The notes a topic quiz draws on: those of each of `weeks`, once each."""
    return list(
        {note.path: note for week in weeks for note in notes_for_week(notes, week)}.values()
    )


def topic_concepts(notes: list[Note], topic: str, passages: Iterable[str]) -> list[str]:
    """The concepts of `notes` a conversation is about: those its question (`topic`) names,
    as the learner wrote them ("batch norm"); when it names none ("why divide by the square
    root of d_k?"), those whose sections the answer's `passages` were quoted from. Empty
    when neither says (the passages are from a curriculum page or a note's introduction)."""
    named = [c for note in notes for c in note.meta.concepts if names(topic, c)]
    if named:
        return named
    sections = {c: text for note in notes for c, text in concept_sections(note).items()}
    quoted = (quoted_from(passage, sections) for passage in passages)
    return list(dict.fromkeys(c for c in quoted if c))


def names(text: str, concept: str) -> bool:
    """Whether `text` names `concept` the way a learner writes it: each word of the concept,
    a plural of it, or its start of four letters or more ("batch norm" names batch
    normalization, "heads" multi-head attention)."""
    said = content_words(text)
    wanted = content_words(concept)
    return bool(wanted) and all(any(_same_word(w, word) for w in said) for word in wanted)


def _same_word(said: str, word: str) -> bool:
    return (
        said == word
        or (len(said) >= 4 and word.startswith(said))
        or (len(word) >= 4 and said.startswith(word))
    )


def concept_sections(note: Note) -> dict[str, str]:
    """Each concept's section of `note` (its `## concept` heading to the next), `normalized`:
    what a passage quoted from it is found in."""
    found = {}
    for section in re.split(r"^## ", note.body, flags=re.M)[1:]:
        heading, _, text = section.partition("\n")
        concept = next(
            (c for c in note.meta.concepts if c.lower() == heading.strip().lower()), None
        )
        if concept:
            found[concept] = normalized(text)
    return found


def quoted_from(passage: str, sections: dict[str, str]) -> str | None:
    """The concept whose section holds most of `passage`'s sentences (more than half: a
    passage running over a section's end belongs to the one it mostly quotes), or None."""
    sentences = [normalized(s) for s in split_sentences(passage) if len(content_words(s)) >= 3]
    held = {c: sum(s in text for s in sentences) for c, text in sections.items()}
    best = max(held, key=held.__getitem__, default=None)
    return best if best and held[best] * 2 > len(sentences) else None


def on_concepts(question: Question, concepts: list[str], definitions: dict[str, str]) -> bool:
    """Whether `question` is on one of `concepts`: one that quotes a definition (cloze,
    multiple choice, true or false; `definitions` maps each to its concept) is on that
    concept alone, whatever else it mentions; one of the notes' own questions is on the
    concepts its prompt or answer names."""
    defined = definitions.get(question.citation["snippet"])
    if defined is not None:
        return defined in concepts
    return any(names(f"{question.prompt} {question.answer}", c) for c in concepts)


def _pool(
    kind: str,
    own: list[Note],
    space: ConceptSpace,
    rng: random.Random,
    exclude: Set[str],
    prefer: frozenset[str] = frozenset(),
) -> Iterator[Question]:
    candidates = [
        q
        for note in own
        for q in GENERATORS[kind](note, rng, space)
        if q.id not in exclude and not problems(q, note.body)
    ]
    rng.shuffle(candidates)
    if kind == "truefalse":
        candidates = balanced(candidates)
    candidates.sort(key=lambda q: tests_any(q, prefer))  # stable: the preferred go last...
    return reversed(candidates)  # ...and so come first


def balanced(statements: list[Question]) -> list[Question]:
    """True/false statements with at most one more true than false: a false statement
    needs a concept of the same kind that the definition does not describe, and most have
    none, so left alone nine in ten would be true and "True" a safe guess."""
    false = [q for q in statements if q.answer == "False"]
    true = [q for q in statements if q.answer != "False"][: len(false) + 1]
    return [q for pair in zip_longest(true, false) for q in pair if q is not None]


def tests_any(question: Question, concepts: frozenset[str]) -> bool:
    """Whether `question` is on one of `concepts` (lower case): its answer, or its cited
    snippet, names it."""
    text = f"{question.answer} {question.citation['snippet']}".lower()
    return any(concept in text for concept in concepts)


def _round_robin(
    pools: dict[str, Iterator[Question]], n: int, quiz: list[Question], used: set[str]
) -> None:
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


def quiz_validity(
    notes: list[Note],
    weeks: Iterable[int],
    generators: Iterable[str] = CHOICES,
    writer: QuestionWriter | None = None,
    per_week: int = 3,
    seed: float | str = 0,
    space: ConceptSpace | None = None,
) -> dict[str, dict[str, float]]:
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
    space = space or concept_space(notes)
    for week in weeks:
        own = notes_for_week(notes, week)
        rng = random.Random(f"{seed}-{week}")
        for name in names:
            if name == LLM and writer is not None:  # checked above
                written = [
                    writer.write(note, passage, kind)
                    for note, passage, kind in assignments(own, rng, per_week)
                ]
                results = [(w.question is not None, w.repaired) for w in written]
            else:
                results = [
                    (not problems(q, note.body), False)
                    for note in own
                    for q in GENERATORS[name](note, rng, space)
                ]
            counts[name]["generated"] += len(results)
            counts[name]["valid"] += sum(ok for ok, _ in results)
            counts[name]["repaired"] += sum(fixed for _, fixed in results)
    return {
        name: {**c, "rate": round(c["valid"] / c["generated"], 3) if c["generated"] else 0.0}
        for name, c in counts.items()
    }


def json_text(reply: str) -> str:
    """The JSON object in a reply: servers without schema support may wrap it in prose or a
    code fence."""
    start, end = reply.find("{"), reply.rfind("}")
    return reply[start : end + 1] if 0 <= start < end else reply


# -- spaced review -------------------------------------------------------------------------


def question_from_dict(data: dict[str, Any]) -> Question:
    """A stored card's question; keys kept beside it (a changed source's flag) are left out."""
    return Question(**{f.name: data[f.name] for f in fields(Question)})

"""The tutor: a question and the learner's week -> grounded, cited answer.

question -> (condense follow-up) -> hybrid retrieval (+ the week's plan for plan questions)
-> weak evidence? say so, don't invent -> compact numbered context -> prompt from prompts/
-> model (streamed) -> keep only supported sentences, fix citation markers -> answer.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from app.citations import (
    asks_something,
    candidate_sentences,
    check_answer,
    content_words,
    looks_harmful,
    looks_like_injection,
    redact_instructions,
    split_sentences,
)
from app.config import Settings
from app.llm import chat_model, describe_failure, model_label
from app.model_gate import Abandoned, ModelBusy, ModelGate
from app.plan_answers import is_plan_question, plan_answer
from app.prompts import render
from app.retrieval import Filters, Retriever, SearchHit
from ingest.curriculum import Curriculum, load_curriculum

Mode = Literal["explain", "socratic", "quick"]
MODES: tuple[str, ...] = ("explain", "socratic", "quick")
MIN_SENTENCES = 2  # a checked answer shorter than this is topped up from the sources
# Best dense cosine below this: not covered. Calibrated on 79 in-scope questions (lowest 0.28)
# and 20 off-topic ones (cooking, sport, geography...): at 0.27 all in-scope are answered and
# 18 of 20 off-topic declined. The evals re-check it on held-out questions.
MIN_SIMILARITY = 0.27
HISTORY_TURNS = 3
CONDENSE_TOKENS = 48  # one question; the model otherwise rambles on to its answer budget
MAX_TOKENS = {"explain": 320, "socratic": 260, "quick": 160}
DECLINE_INJECTION = ("I can only help with the course material, so I'll skip that request. "
                     "Ask me about a concept from your week's plan instead.")


@dataclass
class Citation:
    n: int
    source: str
    title: str
    heading: str
    week: int | None
    url: str
    snippet: str


@dataclass
class Answer:
    answer: str
    citations: list[Citation]
    grounded: bool
    mode: str = "explain"
    week: int | None = None
    conversation_id: str = ""
    question: str = ""
    standalone_question: str = ""
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    dropped_sentences: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Prepared:
    """Everything decided before the model speaks."""

    question: str
    standalone: str
    week: int | None
    mode: str
    conversation_id: str
    passages: list[SearchHit]
    grounded: bool
    refusal: str = ""
    direct: str = ""  # an answer that needs no model (plan questions)
    messages: list[Any] = field(default_factory=list)
    retrieval_ms: float = 0.0
    memory: Memory | None = None  # where the turn is remembered


class Memory(Protocol):
    """Where a conversation's turns are kept: in process for anonymous calls
    (`Conversations`), in the learner's database when the learner is known
    (`app.learners.ConversationLog`)."""

    def history(self, conversation_id: str) -> list[tuple[str, str]]: ...

    def add(self, conversation_id: str, question: str, answer: str,
            citations: list[dict[str, Any]], week: int | None) -> None: ...


class Conversations:
    """Short memory per conversation id, in process: anonymous calls' conversations."""

    def __init__(self, turns: int = HISTORY_TURNS) -> None:
        self._turns: dict[str, deque[tuple[str, str]]] = {}
        self._size = turns
        self._lock = threading.Lock()

    def history(self, conversation_id: str) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._turns.get(conversation_id, ()))

    def add(self, conversation_id: str, question: str, answer: str,
            citations: list[dict[str, Any]], week: int | None) -> None:
        with self._lock:
            self._turns.setdefault(conversation_id, deque(maxlen=self._size)).append((question, answer))


class Tutor:
    def __init__(self, settings: Settings, retriever: Retriever,
                 model: BaseChatModel | None = None, curriculum: Curriculum | None = None,
                 gate: ModelGate | None = None) -> None:
        """`gate`: the queue in front of the model, shared by everything using it in this
        process (the API passes its own, so /health can report it)."""
        self.settings = settings
        self.retriever = retriever
        self.curriculum = curriculum or load_curriculum()
        self._model = model
        # llama.cpp serves one generation at a time: the others wait their turn here.
        self.gate = gate or ModelGate(settings.model_queue_size, settings.model_wait_s)
        self.conversations = Conversations()

    @property
    def model(self) -> BaseChatModel:
        if self._model is None:
            self._model = chat_model(self.settings)
        return self._model

    # -- before the model ------------------------------------------------------------------

    def prepare(self, question: str, week: int | None = None, mode: str = "explain",
                conversation_id: str | None = None, filters: Filters | None = None,
                memory: Memory | None = None) -> Prepared:
        """`memory` keeps the conversation: the learner's, else this process's (anonymous)."""
        started = time.perf_counter()
        conversation_id = conversation_id or uuid.uuid4().hex
        memory = memory or self.conversations
        if looks_like_injection(question):  # answer the study question around it, if any
            question, _ = redact_instructions(question)
            if not asks_something(question):
                question = ""
        if not question or looks_harmful(question):
            return Prepared(question, question, week, mode, conversation_id, [], grounded=False,
                            refusal=DECLINE_INJECTION, memory=memory)
        if week is not None and is_plan_question(question):
            return self._prepare_plan(question, week, mode, conversation_id, started, memory)
        history = memory.history(conversation_id)
        standalone = self.condense(question, history) if history else question
        passages = self.retriever.search(standalone, k=self.settings.context_passages, week=week,
                                         filters=filters)
        best = max((p.similarity or 0.0 for p in passages), default=0.0)
        grounded = best >= MIN_SIMILARITY
        prepared = Prepared(question, standalone, week, mode, conversation_id, passages, grounded,
                            retrieval_ms=(time.perf_counter() - started) * 1000, memory=memory)
        if not grounded:
            prepared.refusal = render("not_covered", nearest=self._nearest(passages, week))
            return prepared
        prepared.messages = self._messages(prepared)
        return prepared

    def _prepare_plan(self, question: str, week: int, mode: str, conversation_id: str,
                      started: float, memory: Memory) -> Prepared:
        plan = self.curriculum.week(week)
        source = f"curriculum/week-{week:02d}" if plan.week else f"curriculum/month-{plan.month.number:02d}"
        passages = self.retriever.get_source(source)[:1]
        text, cites_capstone = plan_answer(question, plan)
        if cites_capstone and plan.next_capstone:
            passages += self.retriever.get_source(f"curriculum/capstone-q{plan.next_capstone.quarter}")[:1]
        return Prepared(question, question, week, mode, conversation_id, passages, grounded=True,
                        direct=text, retrieval_ms=(time.perf_counter() - started) * 1000,
                        memory=memory)

    def condense(self, question: str, history: list[tuple[str, str]]) -> str:
        """A follow-up as a standalone question: joined to the last question, or rewritten by
        the model when `condense_with_model` is on (falling back to the join if it fails)."""
        last_question = history[-1][0]
        fallback = f"{last_question} {question}"
        if not self.settings.condense_with_model:
            return fallback
        try:
            with self.gate.slot():
                reply = self.model.invoke([HumanMessage(render(
                    "condense", history=last_question, question=question))],
                    max_tokens=CONDENSE_TOKENS).content
        except Exception:  # the fallback is as good for retrieval; the answer step reports failures
            return fallback
        reply = str(reply).strip().splitlines()[0].strip() if str(reply).strip() else ""
        known = content_words(question) | content_words(last_question)
        if not reply or len(reply) > 300 or not (content_words(reply) & known):
            return fallback
        return reply

    def _messages(self, prepared: Prepared) -> list[Any]:
        blocks = []
        for n, passage in enumerate(prepared.passages, 1):
            text, _ = redact_instructions(passage.text)
            limit = self.settings.passage_chars
            text = text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
            label = passage.heading.rsplit(" > ", 1)[-1] if passage.heading else passage.title
            blocks.append(f"[{n}] ({label})\n{text}")
        # The system prompt is the same for every question of a mode, so llama.cpp reuses its
        # cached prefix; what varies (week, sources, question) goes in the user message.
        system = render("system", mode_instructions=render(f"mode_{prepared.mode}"))
        user = render("user", week=prepared.week or "not given", context="\n\n".join(blocks),
                      question=prepared.standalone)
        return [SystemMessage(system), HumanMessage(user)]

    @staticmethod
    def _nearest(passages: list[SearchHit], week: int | None) -> str:
        if not passages:
            return f"your week {week} plan (`tutor plan --week {week}`)" if week else "the plan"
        top = passages[0]
        where = f"week {top.week}: " if top.week else ""
        return f"{where}{top.title} ({top.source})"

    # -- after the model ---------------------------------------------------------------------

    def finish(self, prepared: Prepared, raw: str, generation_ms: float = 0.0) -> Answer:
        base = dict(mode=prepared.mode, week=prepared.week, conversation_id=prepared.conversation_id,
                    question=prepared.question, standalone_question=prepared.standalone,
                    retrieved=[{"source": p.source, "heading": p.heading, "score": round(p.score, 4),
                                "similarity": p.similarity} for p in prepared.passages],
                    model=model_label(self.settings))
        if not prepared.grounded:
            return Answer(answer=prepared.refusal, citations=[], grounded=False,
                          timings_ms={"retrieval": prepared.retrieval_ms}, **base)
        if prepared.direct:
            text, cited, dropped = prepared.direct, list(range(1, len(prepared.passages) + 1)), []
        else:
            texts = [redact_instructions(p.text)[0] for p in prepared.passages]
            checked = check_answer(raw, texts, question=prepared.standalone)
            text, cited, dropped = checked.text, checked.cited, checked.dropped
            if len(split_sentences(text)) < MIN_SENTENCES:  # too little survived: quote the sources
                text, cited = self._top_up(text, cited, prepared.standalone, texts)
        citations = [self._citation(n, prepared.passages[n - 1]) for n in cited]
        prepared.memory.add(prepared.conversation_id, prepared.question, text,
                            [asdict(c) for c in citations], prepared.week)
        return Answer(answer=text, citations=citations, grounded=True,
                      dropped_sentences=len(dropped),
                      timings_ms={"retrieval": prepared.retrieval_ms, "generation": generation_ms},
                      **base)

    def _top_up(self, text: str, cited: list[int], question: str,
                texts: list[str]) -> tuple[str, list[int]]:
        """Add the source sentences closest in meaning to the question, each cited."""
        candidates = [(n, sentence) for n, passage in enumerate(texts, 1)
                      for sentence in candidate_sentences(passage) if sentence not in text]
        if not candidates:
            return text, cited
        vectors = self.retriever.embedder.embed([question] + [s for _, s in candidates])
        scores = vectors[1:] @ vectors[0]
        best = sorted(range(len(candidates)), key=lambda i: -scores[i])
        needed = MIN_SENTENCES - len(split_sentences(text))
        chosen = sorted(best[:max(needed, 1)])  # keep the sources' own order
        quoted = " ".join(f"{candidates[i][1].rstrip('.')} [{candidates[i][0]}]." for i in chosen)
        cited = cited + [candidates[i][0] for i in chosen if candidates[i][0] not in cited]
        lead = text if text else "From the course notes:"
        return f"{lead} {quoted}", cited

    @staticmethod
    def _citation(n: int, passage: SearchHit) -> Citation:
        snippet = " ".join(passage.text.split())
        return Citation(n=n, source=passage.source, title=passage.title, heading=passage.heading,
                        week=passage.week, url=passage.url,
                        snippet=snippet[:280] + ("…" if len(snippet) > 280 else ""))

    # -- the two ways to ask -----------------------------------------------------------------

    def ask(self, question: str, week: int | None = None, mode: str = "explain",
            conversation_id: str | None = None, filters: Filters | None = None,
            memory: Memory | None = None) -> Answer:
        prepared = self.prepare(question, week, mode, conversation_id, filters, memory)
        if not prepared.grounded or prepared.direct:
            return self.finish(prepared, "")
        started = time.perf_counter()
        raw = "".join(self._generate(prepared))
        return self.finish(prepared, raw, (time.perf_counter() - started) * 1000)

    def stream(self, question: str, week: int | None = None, mode: str = "explain",
               conversation_id: str | None = None, filters: Filters | None = None,
               memory: Memory | None = None) -> Iterator[tuple[str, Any]]:
        """Events: ("token", text)*, then ("answer", the checked Answer), then ("done", None).

        Tokens arrive as the model writes them; the final answer may differ where a sentence
        was dropped for lack of support, so clients replace the streamed text with it.
        """
        yield from self.respond(self.prepare(question, week, mode, conversation_id, filters,
                                             memory))

    def respond(self, prepared: Prepared) -> Iterator[tuple[str, Any]]:
        """The events of `stream` for an already prepared question (the evals score both the
        passages it used and the model's raw words, so they prepare it themselves)."""
        started = time.perf_counter()
        raw = []
        if not prepared.grounded or prepared.direct:
            yield "token", prepared.refusal or prepared.direct
        else:
            for token in self._generate(prepared):
                raw.append(token)
                yield "token", token
        yield "answer", self.finish(prepared, "".join(raw), (time.perf_counter() - started) * 1000)
        yield "done", None

    def _generate(self, prepared: Prepared) -> Iterator[str]:
        max_tokens = min(MAX_TOKENS.get(prepared.mode, MAX_TOKENS["explain"]),
                         self.settings.llm_max_tokens)
        try:
            with self.gate.slot() as slot:  # released on close too: a client that left
                for chunk in self.model.stream(prepared.messages, max_tokens=max_tokens):
                    slot.check()  # stop at the next token when the client is gone
                    if chunk.content:
                        yield str(chunk.content)
        except (ModelBusy, Abandoned):
            raise
        except Exception as exc:
            raise describe_failure(exc, self.settings) from exc

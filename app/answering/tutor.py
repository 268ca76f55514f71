"""The tutor: a question and the learner's week -> grounded, cited answer.

question -> (join a follow-up to its topic) -> hybrid retrieval (+ the week's plan for plan
questions) -> weak evidence? say so, don't invent -> the answer's sentences, from one of two
writers -> each streamed as it is final, its citation numbered in order of first use.

Writers (`Settings.answer_writer`):
- `sources` (the default with the packaged 135M model): the passages' own sentences, chosen and
  ordered for the question (`app.answering.compose`). Nothing is claimed that a passage does not say.
- `model` (the default for an API model): the model's prose, each sentence streamed only once a
  passage supports it by meaning, words, numbers and negation (`app.answering.support`); too little
  survives -> topped up with composed sentences.
What streams is what stays: no text is replaced afterwards, and no marker points nowhere.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import TYPE_CHECKING
from typing import Any
from typing import Concatenate
from typing import ParamSpec

from app.answering import support
from app.answering.asks import Ask
from app.answering.asks import asks
from app.answering.citations import strip_markers
from app.answering.citations import without_source_references
from app.answering.compose import BUDGETS
from app.answering.compose import EXAMPLE_ASK
from app.answering.compose import PITFALL_LEAD
from app.answering.compose import Composition
from app.answering.compose import compose
from app.answering.compose import compose_asks
from app.answering.compose import covers
from app.answering.compose import said_form
from app.answering.compose import stems
from app.answering.memory import Memory
from app.answering.memory import Turn
from app.answering.passages import excerpt_around
from app.answering.route import PlanAnswer
from app.answering.route import route
from app.answering.safety import asks_something
from app.answering.safety import looks_harmful
from app.answering.safety import looks_like_injection
from app.answering.safety import redact_instructions
from app.answering.topicality import Topicality
from app.answering.turns import continues
from app.config import Settings
from app.course.curriculum import Curriculum
from app.course.curriculum import load_curriculum
from app.llm.gate import Abandoned
from app.llm.gate import ModelBusy
from app.llm.gate import ModelGate
from app.llm.prompts import render
from app.llm.providers import chat_model
from app.llm.providers import describe_failure
from app.llm.providers import model_label
from app.search.retrieval import Filters
from app.search.retrieval import Retriever
from app.search.retrieval import SearchHit
from app.sse import answer_of
from app.text import content_words
from app.text import split_sentences

if TYPE_CHECKING:  # LangChain loads only when a model is asked (0.5 s of a cold command)
    from langchain_core.language_models.chat_models import BaseChatModel

MIN_SENTENCES = 2  # a model's checked answer shorter than this is topped up from the sources
SNIPPET_CHARS = 320  # a citation card's passage, cut at a sentence or word boundary
PROMPT_HEADROOM = 48  # tokens of the chat template around the two messages
# Best dense cosine below this: not covered. Calibrated on 79 in-scope questions (lowest 0.28)
# and 20 off-topic ones (cooking, sport, geography...): at 0.27 all in-scope are answered and
# 18 of 20 off-topic declined. The evals re-check it on held-out questions.
MIN_SIMILARITY = 0.27
CONDENSE_TOKENS = 48  # one question; the model otherwise rambles on to its answer budget
MAX_TOKENS = {"explain": 320, "socratic": 260, "quick": 160}
DECLINE_INJECTION = (
    "I can only help with the course material, so I'll skip that request. "
    "Ask me about a concept from your week's plan instead."
)

P = ParamSpec("P")


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
    dropped_sentences: int = 0  # the model's sentences no passage supported
    timings_ms: dict[str, float] = field(default_factory=dict)
    model: str = ""
    writer: str = ""  # "sources", "model", "plan" or "" (declined)
    raw: str = ""  # the model's own words before the check ("" when it did not write)
    model_tokens: int = 0  # tokens the model generated for this answer
    warnings: list[str] = field(default_factory=list)  # e.g. passages trimmed to fit the model

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
    writer: str = "sources"  # who writes the sentences: "sources" or "model"
    composition: Composition = field(  # the sources' sentences that answer, in answer order
        default_factory=lambda: Composition([], 0.0, 0, 0)
    )
    shown: list[str] = field(default_factory=list)  # sentences the conversation already showed
    warnings: list[str] = field(default_factory=list)  # e.g. passages trimmed to fit the model


def estimated_tokens(text: str) -> int:
    """A generous token count for a model whose tokenizer is not at hand (about 3 characters a
    token for English prose and formulas; real BPE counts run lower)."""
    return len(text) // 3 + 1


def _prepared_then_responded(
    prepare: Callable[Concatenate[Tutor, P], Prepared],
) -> Callable[Concatenate[Tutor, P], Iterator[tuple[str, Any]]]:
    """`Tutor.stream`: prepare, then respond (see `respond` for the events), with `prepare`'s
    own parameters, so the two cannot drift apart."""

    def stream(tutor: Tutor, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[tuple[str, Any]]:
        yield from tutor.respond(prepare(tutor, *args, **kwargs))

    return stream


class Tutor:
    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        model: BaseChatModel | None = None,
        curriculum: Curriculum | None = None,
        gate: ModelGate | None = None,
    ) -> None:
        """`gate`: the queue in front of the model, shared by everything using it in this
        process (the API passes its own, so /health can report it)."""
        self.settings = settings
        self.retriever = retriever
        self.curriculum = curriculum or load_curriculum()
        self._model = model
        # llama.cpp serves one generation at a time: the others wait their turn here.
        self.gate = gate or ModelGate(settings.model_queue_size, settings.model_wait_s)
        self.topicality = Topicality(retriever.embedder.embed, retriever.embedder.embed_bank)

    @property
    def model(self) -> BaseChatModel:
        if self._model is None:
            self._model = chat_model(self.settings)
        return self._model

    # -- before the model ------------------------------------------------------------------

    def prepare(
        self,
        question: str,
        week: int | None = None,
        mode: str = "explain",
        conversation_id: str | None = None,
        filters: Filters | None = None,
        memory: Memory | None = None,
    ) -> Prepared:
        """`memory` keeps the conversation (None: the question stands alone and is not kept)."""
        started = time.perf_counter()
        conversation_id = conversation_id or uuid.uuid4().hex
        if looks_like_injection(question):  # answer the study question around it, if any
            question, _ = redact_instructions(question)
            if not asks_something(question):
                question = ""
        asked = Prepared(
            question, question, week, mode, conversation_id, [], grounded=False, memory=memory
        )
        if not question or looks_harmful(question):
            return replace(asked, refusal=DECLINE_INJECTION)
        history = memory.history(conversation_id) if memory else []
        follows = bool(history) and continues(question)  # else a new topic, in the same chat
        # What it follows: the questions before it, as `condense` joins them ("and the videos?"
        # after "and the reading?" after "What is my assignment this week?").
        before = " ".join(q for q, _ in history[-2:]) if follows else None
        if routed := route(question, week, self.curriculum, before):
            return self._prepare_plan(asked, routed, started)
        prepared = self._answer_from_notes(asked, question, history, follows, filters)
        if history and not follows and self._leans_after_all(question, prepared, history[-1]):
            again = self._answer_from_notes(asked, question, history, True, filters)
            prepared = again if again.grounded and self._on_course(question, again) else prepared
        prepared.retrieval_ms = (time.perf_counter() - started) * 1000
        if not prepared.grounded:
            prepared.refusal = render("not_covered", nearest=self._nearest(prepared.passages, week))
        elif prepared.writer == "model":
            prepared.messages = self._messages(prepared)
        return prepared

    @staticmethod
    def _leans_after_all(question: str, alone: Prepared, last: tuple[str, str]) -> bool:
        """A question that looked like a new topic but leans on the last turn after all: the
        notes find nothing close to it alone (not even a passage that shares a word, as
        "momentum trading" finds SGD's momentum), and it shares a word with that turn ("My
        first component looks like the least important direction. What am I doing wrong with
        eigh?" after PCA)."""
        best = max((p.similarity or 0.0 for p in alone.passages), default=0.0)
        return best < MIN_SIMILARITY and bool(stems(question) & stems(" ".join(last)))

    def _on_course(self, question: str, prepared: Prepared) -> bool:
        """`question` alone is closer to what the notes `prepared` quote than to an everyday
        question: joined to the conversation, "How do I train my dog to sit?" finds quotes
        about training networks, which say nothing about dogs; "What am I doing wrong with
        eigh?" finds the note that says `eigh` returns eigenvalues in ascending order."""
        quotes = [q.text for q in prepared.composition.quotes]
        if not quotes:
            return False
        vectors = self.retriever.embedder.embed([question, *quotes])
        return not self.topicality.everyday(question, float((vectors[1:] @ vectors[0]).max()))

    def _answer_from_notes(
        self,
        asked: Prepared,
        question: str,
        history: list[tuple[str, str]],
        follows: bool,
        filters: Filters | None,
    ) -> Prepared:
        """`asked` answered from the notes' passages: on its own, or as a follow-up of the
        conversation's `history` (`follows`); `grounded` says whether the notes answer it."""
        week, mode = asked.week, asked.mode
        standalone = self.condense(question, history) if follows else question
        parts = [Ask(standalone, standalone)] if follows else asks(standalone)
        # A follow-up wants what the topic's first passages did not say, an example ask the
        # worked example (often a chunk of its own): both look deeper.
        wider = 2 if follows or EXAMPLE_ASK.search(question) else 1
        passages = self._search([p.search for p in parts], week, filters, wider)
        best = max((p.similarity or 0.0 for p in passages), default=0.0)
        prepared = replace(
            asked,
            standalone=standalone,
            passages=passages,
            grounded=best >= MIN_SIMILARITY,
            writer=self.settings.resolved_answer_writer,
            shown=[s for _, said in history for s in split_sentences(said)] if follows else [],
        )
        if prepared.grounded:
            demoted = [
                i
                for i, p in enumerate(passages)
                if p.source.startswith("curriculum/") or self._ahead(p, week)
            ]
            budget = BUDGETS.get(mode, BUDGETS["explain"])
            headings = [p.heading for p in passages]
            texts, embed = self._texts(passages), self.retriever.embedder.embed
            prepared.composition = compose(
                standalone,
                texts,
                embed,
                ask=question if follows else "",
                shown=prepared.shown,
                budget=budget,
                demoted=demoted,
                headings=headings,
            )
            # Several asks, each answered in turn, once the question as a whole is the course's
            # (a part that shares a word with the notes does not make "kube-proxy, and iptables
            # or IPVS?" a question about serving).
            if len(parts) > 1 and covers(prepared.composition):
                prepared.composition = compose_asks(parts, texts, embed, budget, demoted, headings)
            # Covered, yet no sentence close enough to quote: only a conversation that already
            # showed them can say "nothing more"; a new question is declined.
            prepared.grounded = (
                covers(prepared.composition)
                and bool(prepared.composition.quotes or prepared.shown)
                and not self.topicality.everyday(
                    standalone, max(best, prepared.composition.similarity)
                )
            )
        return prepared

    def _search(
        self, queries: list[str], week: int | None, filters: Filters | None, wider: int = 1
    ) -> list[SearchHit]:
        """The passages for each part of a question, best first, taken in turn (a part's first,
        then each part's second, ...) and each passage once. `wider` > 1 looks that many times
        deeper, for passages from the weeks the learner has reached (a worked example or the
        rest of the topic, not a later week's use of the same words)."""
        depth = self.settings.context_passages
        found = [
            self.retriever.search(q, k=depth * wider, week=week, filters=filters) for q in queries
        ]
        merged: dict[str, SearchHit] = {}
        for rank in range(depth * wider):
            for hits in found:
                if rank < len(hits) and (rank < depth or not self._ahead(hits[rank], week)):
                    merged.setdefault(hits[rank].id, hits[rank])
        return list(merged.values())

    @staticmethod
    def _ahead(passage: SearchHit, week: int | None) -> bool:
        """From weeks the learner has not reached yet."""
        return week is not None and bool(passage.weeks) and min(passage.weeks) > week

    @staticmethod
    def _texts(passages: list[SearchHit]) -> list[str]:
        """The passages as the answer may use them: injected instructions cut out."""
        return [redact_instructions(p.text)[0] for p in passages]

    def _prepare_plan(self, asked: Prepared, routed: PlanAnswer, started: float) -> Prepared:
        """A plan question, answered from the plan: cites the curriculum chunks it names."""
        passages = [p for source in routed.sources for p in self.retriever.get_source(source)[:1]]
        return replace(
            asked,
            passages=passages,
            grounded=True,
            direct=routed.text,
            retrieval_ms=(time.perf_counter() - started) * 1000,
        )

    def condense(self, question: str, history: list[tuple[str, str]]) -> str:
        """A follow-up as a standalone question: joined to the last two questions, or rewritten by
        the model when `condense_with_model` is on (falling back to the join if it fails)."""
        last_question = history[-1][0]
        # The two questions before: a second "say more" still knows the topic of the first.
        fallback = " ".join([*(q for q, _ in history[-2:]), question])
        if not self.settings.condense_with_model:
            return fallback
        from langchain_core.messages import HumanMessage

        try:
            with self.gate.slot():
                reply = self.model.invoke(
                    [HumanMessage(render("condense", history=last_question, question=question))],
                    max_tokens=CONDENSE_TOKENS,
                ).content
        except Exception:  # the fallback is as good for retrieval; the answer step reports failures
            return fallback
        reply = str(reply).strip().splitlines()[0].strip() if str(reply).strip() else ""
        known = content_words(question) | content_words(last_question)
        if not reply or len(reply) > 300 or not (content_words(reply) & known):
            return fallback
        return reply

    def _messages(self, prepared: Prepared) -> list[Any]:
        """The prompt, fitted to the model's window: passages shortened, then dropped, from the
        last, until prompt and answer fit; a warning names the settings when it had to."""
        from langchain_core.messages import HumanMessage
        from langchain_core.messages import SystemMessage

        system = render("system", mode_instructions=render(f"mode_{prepared.mode}"))
        limit = self.settings.passage_chars
        passages = prepared.passages
        texts = [without_source_references(t) for t in self._texts(passages)]
        texts = [t if len(t) <= limit else t[:limit].rsplit(" ", 1)[0] + " …" for t in texts]
        window = self.settings.llm_context_tokens - self._max_tokens(prepared) - PROMPT_HEADROOM
        count = getattr(self.model, "count_tokens", estimated_tokens)
        trimmed = False
        while True:
            # The system prompt is the same for every question of a mode, so llama.cpp reuses
            # its cached prefix; what varies (week, sources, question) goes in the user message.
            user = render(
                "user",
                week=prepared.week or "not given",
                question=prepared.standalone,
                context="\n\n".join(
                    f"[{n}] ({self._label(p)})\n{t}"
                    for n, (p, t) in enumerate(zip(passages, texts), 1)
                ),
            )
            if count(system + user) <= window or (len(texts) == 1 and len(texts[0]) < 200):
                break
            trimmed = True
            if len(texts[-1]) >= 400:
                texts[-1] = texts[-1][: len(texts[-1]) // 2].rsplit(" ", 1)[0] + " …"
            else:
                texts.pop()
        if trimmed:
            prepared.warnings.append(
                f"The prompt was cut to fit the model's {self.settings.llm_context_tokens}-token "
                f"window: {len(texts)} of {len(passages)} passages, the last shortened. "
                f"Lower TUTOR_CONTEXT_PASSAGES ({self.settings.context_passages}) or "
                f"TUTOR_PASSAGE_CHARS ({limit}), or raise TUTOR_LLM_CONTEXT_TOKENS if the model "
                "reads more."
            )
        return [SystemMessage(system), HumanMessage(user)]

    @staticmethod
    def _label(passage: SearchHit) -> str:
        return passage.heading.rsplit(" > ", 1)[-1] if passage.heading else passage.title

    def _max_tokens(self, prepared: Prepared) -> int:
        return min(
            MAX_TOKENS.get(prepared.mode, MAX_TOKENS["explain"]), self.settings.llm_max_tokens
        )

    @staticmethod
    def _nearest(passages: list[SearchHit], week: int | None) -> str:
        if not passages:
            return f"your week {week} plan (`tutor plan --week {week}`)" if week else "the plan"
        top = passages[0]
        where = f"week {top.week}: " if top.week else ""
        return f"{where}{top.title} ({top.source})"

    # -- the answer's sentences ------------------------------------------------------------

    def respond(self, prepared: Prepared) -> Iterator[tuple[str, Any]]:
        """Events: ("token", text)*, then ("answer", Answer), then ("done", None).

        Each token is one final sentence (after the first, with its leading space): joined, the
        tokens are the answer's text, word for word, and every marker in them is a citation.
        """
        started = time.perf_counter()
        draft = Draft(prepared.shown)
        for sentence in self._sentences(prepared, draft):
            yield "token", sentence if len(draft.said) == 1 else f" {sentence}"
        yield "answer", self.finish(prepared, draft, (time.perf_counter() - started) * 1000)
        yield "done", None

    def _sentences(self, prepared: Prepared, draft: Draft) -> Iterator[str]:
        if not prepared.grounded:
            yield draft.plain(prepared.refusal)
        elif prepared.direct:  # a plan answer: the week's plan (and capstone) stand behind it
            for passage in range(len(prepared.passages)):
                draft.number(passage)
            yield draft.plain(prepared.direct)
        else:
            if prepared.writer == "model":
                yield from self._checked_model_sentences(prepared, draft)
            for quote in prepared.composition.quotes:
                if prepared.writer == "model" and len(draft.said) >= MIN_SENTENCES:
                    break
                sentence = draft.add(quote.text, quote.passage)
                if sentence:
                    yield sentence
            for part in prepared.composition.uncovered:
                yield draft.plain(render("ask_not_covered", ask=part.rstrip("?")))
            if not draft.said:  # covered, but everything on it was shown in this conversation
                yield draft.plain(render("nothing_new"))
            elif prepared.mode == "socratic":
                yield draft.plain(render("socratic_question"))

    def _checked_model_sentences(self, prepared: Prepared, draft: Draft) -> Iterator[str]:
        """The model's sentences, each as soon as it is complete and a passage supports it."""
        texts = self._texts(prepared.passages)
        asked = content_words(prepared.standalone)
        buffer = ""

        def checked(sentence: str) -> str | None:
            body = strip_markers(sentence)
            verdict = support.check(body, texts, self.retriever.embedder.embed)
            if not verdict.supported or len(content_words(body) - asked) < 2:
                draft.dropped += 1
                return None
            return draft.add(body, verdict.passage)

        for token in self._generate(prepared):
            draft.raw.append(token)
            buffer += token
            *complete, last = split_sentences(buffer) or [""]
            buffer = buffer[buffer.rindex(last) :] if complete else buffer
            for sentence in complete:
                kept = checked(sentence)
                if kept:
                    yield kept
        kept = checked(buffer) if buffer.strip() else None
        if kept:
            yield kept

    def finish(self, prepared: Prepared, draft: Draft, generation_ms: float = 0.0) -> Answer:
        """The Answer of what `respond` streamed; a grounded one is remembered."""
        citations = [
            self._citation(n, prepared.passages[passage], draft.quoted.get(passage, []))
            for passage, n in draft.numbers.items()
        ]
        text = " ".join(draft.said)
        answer = Answer(
            answer=text,
            citations=citations,
            grounded=prepared.grounded,
            mode=prepared.mode,
            week=prepared.week,
            conversation_id=prepared.conversation_id,
            question=prepared.question,
            standalone_question=prepared.standalone,
            retrieved=[
                {
                    "source": p.source,
                    "heading": p.heading,
                    "score": round(p.score, 4),
                    "similarity": p.similarity,
                }
                for p in prepared.passages
            ],
            dropped_sentences=draft.dropped,
            model=model_label(self.settings),
            timings_ms={"retrieval": prepared.retrieval_ms, "generation": generation_ms},
            writer=("plan" if prepared.direct else prepared.writer) if prepared.grounded else "",
            raw="".join(draft.raw),
            model_tokens=len(draft.raw),
            warnings=prepared.warnings,
        )
        if prepared.grounded and prepared.memory is not None:
            prepared.memory.add(
                Turn(
                    prepared.conversation_id,
                    prepared.question,
                    text,
                    [asdict(c) for c in citations],
                    prepared.week,
                )
            )
        return answer

    @staticmethod
    def _citation(n: int, passage: SearchHit, quoted: list[str]) -> Citation:
        """The card for marker `n`: its excerpt centred on what the answer quoted from it."""
        return Citation(
            n=n,
            source=passage.source,
            title=passage.title,
            heading=passage.heading,
            week=passage.week,
            url=passage.url,
            snippet=excerpt_around(passage.text, quoted, SNIPPET_CHARS),
        )

    # -- the two ways to ask -----------------------------------------------------------------

    stream = _prepared_then_responded(prepare)  # prepare's parameters; `respond`'s events
    ask = answer_of(stream)  # the same parameters; the answer alone

    def _generate(self, prepared: Prepared) -> Iterator[str]:
        try:
            with self.gate.slot() as slot:  # released on close too: a client that left
                for chunk in self.model.stream(
                    prepared.messages, max_tokens=self._max_tokens(prepared)
                ):
                    slot.check()  # stop at the next token when the client is gone
                    if chunk.content:
                        yield str(chunk.content)
        except (ModelBusy, Abandoned):
            raise
        except Exception as exc:
            raise describe_failure(exc, self.settings) from exc


class Draft:
    """The sentences said so far in one answer, and the passages they cite, numbered in order
    of first use. A sentence said before (in this answer or shown earlier in the conversation)
    is not said again."""

    def __init__(self, shown: list[str]) -> None:
        self.said: list[str] = []
        self.numbers: dict[int, int] = {}  # passage index (0-based) -> citation number
        self.quoted: dict[int, list[str]] = {}  # passage index -> what was said citing it
        self.raw: list[str] = []  # the model's tokens, when it writes
        self.dropped = 0
        self._seen = {said_form(s) for s in shown}

    def number(self, passage: int) -> int:
        return self.numbers.setdefault(passage, len(self.numbers) + 1)

    def add(self, text: str, passage: int) -> str | None:
        """`text` citing `passage`, or None when it was said before."""
        key = said_form(text)
        if not key or key in self._seen:
            return None
        self._seen.add(key)
        body = text.strip().rstrip(",;:")
        end = body[-1] if body[-1] in ".!?" else "."  # a formula ends its sentence too
        sentence = f"{body[:-1] if body[-1] in '.!?' else body} [{self.number(passage)}]{end}"
        self.said.append(sentence)
        self.quoted.setdefault(passage, []).append(body.removeprefix(PITFALL_LEAD))
        return sentence

    def plain(self, text: str) -> str:
        """A sentence that cites nothing: a refusal, a plan answer, a question to the learner."""
        self.said.append(text)
        return text

"""The HTTP service: routes only. Validation and status codes here; the work lives below.

Clients are built once in `lifespan` and reached through dependencies, so tests can hand the
app their own settings (override `get_settings`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from ipaddress import ip_address
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from functools import cached_property
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.exc import DatabaseError
from starlette.types import Receive, Scope, Send
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.guards import BodyLimit, HostAllowList
from app.config import Settings, get_settings
from app.ingest_jobs import Busy, Forbidden, IngestJobs, check_allowed, ingest_roots
from app.learners import (
    JOURNAL_CHARS,
    AlreadyAnswered,
    ConversationLog,
    Learner,
    LearnerStore,
    LearnerStoreError,
    NotFound,
    QuizRecords,
    unusable,
    week_on,
)
from app.llm import LLMError, judge_model, model_label
from app.rate_limit import RateLimit
from app.model_gate import ModelBusy, ModelGate, call_for, stream_for
from app.progress import progress
from app.quiz import (
    KINDS,
    LLM,
    QuestionWriter,
    QuizError,
    Verdict,
    grade,
    make_quiz,
    question_writer,
    ratings_for,
    self_rated,
)
from app.retrieval import Filters, Retriever
from app.store import Store, StoreError
from app.tutor import Tutor
from ingest.curriculum import LAST_WEEK, Curriculum, WeekOutOfRange, load_curriculum
from ingest.notes import Note, read_notes

VERSION = "0.1.0"


class Services:
    """What the routes share: the curriculum, the store and the encoder (loaded on first use)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.curriculum = load_curriculum()
        self._store: Store | None = None
        self._retriever: Retriever | None = None
        self._tutor: Tutor | None = None
        self._jobs: IngestJobs | None = None
        self._learners: LearnerStore | None = None
        self.learners_error = ""
        self.learners_lost = False  # failed while running: not reopened until restart
        self.gate = ModelGate(settings.model_queue_size, settings.model_wait_s)
        self.limits = {"questions": RateLimit(settings.asks_per_minute, 60),
                       "new learners": RateLimit(settings.signups_per_hour, 3600)}
        self._tutor_lock = threading.Lock()  # one Tutor: a second would load a second model

    def open_learners(self) -> None:
        """Open (and migrate) the learner database; done at start so a broken file is reported
        at once, and again on use until it opens (the file may have been moved aside)."""
        try:
            self._learners = LearnerStore(self.settings.resolved_database_url)
            self.learners_error = ""
        except LearnerStoreError as exc:
            self.learners_error = str(exc)

    @property
    def learners(self) -> LearnerStore:
        """The learner database, or a 503 saying what to do (`usable_learners`)."""
        store = self.usable_learners()
        if store is None:
            raise HTTPException(status_code=503, detail=self.learners_error)
        return store

    def usable_learners(self) -> LearnerStore | None:
        """The learner database, checked on each use; None, with `learners_error` saying why,
        when it can't be used. One that failed while the server ran (its file removed,
        replaced or damaged) stays failed until restart; one that would not open is tried
        again (it may have been moved aside)."""
        if self._learners is None and not self.learners_lost:
            self.open_learners()
        if self._learners is not None:
            try:
                self._learners.check()
            except LearnerStoreError as exc:
                self.learners_failed(str(exc))
        return self._learners

    def learners_failed(self, error: str) -> None:
        """The learner database failed in use: stop using it; /health says why."""
        if self._learners is not None:
            self._learners.close()
        self._learners, self.learners_error, self.learners_lost = None, error, True

    @cached_property
    def writer(self) -> QuestionWriter:
        """The chat model writing quiz questions (its own instance: quizzes don't queue
        behind answers)."""
        return question_writer(self.settings)

    @cached_property
    def judge(self) -> Any:
        """The model grading short answers, or None (offline: by meaning and key terms)."""
        return judge_model(self.settings, Verdict.model_json_schema())

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever.from_settings(self.settings, store=self.store)
        return self._retriever

    @property
    def quizzes(self) -> QuizRecords:
        return QuizRecords(self.learners)

    @cached_property
    def notes(self) -> list[Note]:
        return read_notes()

    @property
    def jobs(self) -> IngestJobs:
        if self._jobs is None:
            self._jobs = IngestJobs(self.settings, self.store, self.retriever.embedder)
        return self._jobs

    @property
    def tutor(self) -> Tutor:
        with self._tutor_lock:
            if self._tutor is None:
                self._tutor = Tutor(self.settings, self.retriever, gate=self.gate)
            return self._tutor


class Health(BaseModel):
    status: str
    ready: bool
    index_chunks: int
    model_provider: str
    model: str
    data_dir: str
    chroma_url: str
    version: str = VERSION
    detail: str = ""
    model_queue: dict[str, int] = Field(default_factory=dict,
                                        description="Questions the model is answering, and waiting.")


class Body(BaseModel):
    """What every JSON body is held to besides its fields: finite numbers (JSON has no NaN,
    though Python's parser takes it) and text that is valid Unicode (a lone surrogate such as
    "\\ud800" would fail later, when stored or sent back)."""

    model_config = ConfigDict(allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        def check(value: Any, where: str) -> None:
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise ValueError(f"{where or 'the body'} is not valid Unicode (a lone "
                                     f"surrogate at character {exc.start}): send UTF-8 text") from exc
            elif isinstance(value, dict):
                for key, item in value.items():
                    check(key, where)
                    check(item, f"{where}.{key}" if where else str(key))
            elif isinstance(value, list):
                for n, item in enumerate(value):
                    check(item, f"{where}[{n}]")

        check(data, "")
        return data


def _not_blank(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"{what} is blank")
    return value.strip()


class AskRequest(Body):
    question: str = Field(min_length=1, max_length=2000, description="1-2,000 characters.")
    week: int | None = Field(default=None, ge=1, le=LAST_WEEK, description="The learner's week.")
    mode: Literal["explain", "socratic", "quick"] = "explain"
    conversation_id: str | None = Field(default=None, max_length=100)
    no_spoilers: bool = Field(default=False, description="Leave out material of later weeks.")

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        return _not_blank(value, "question")

    def filters(self, week: int | None) -> Filters:
        return Filters(no_spoilers_after=week if self.no_spoilers else None)


class IngestRequest(Body):
    paths: list[str] = Field(min_length=1, description="Absolute paths on the server, or git URLs.")
    rebuild: bool = False


class LearnerCreate(Body):
    name: str = Field(min_length=1, max_length=100)
    start_date: dt.date = Field(default_factory=dt.date.today)
    pace: float = Field(default=1.0, gt=0, le=4, description="Plan weeks per calendar week.")
    current_week: int | None = Field(default=None, ge=1, le=LAST_WEEK)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _not_blank(value, "name")


class LearnerPublic(BaseModel):
    id: int
    name: str
    start_date: dt.date
    pace: float
    current_week: int

    @classmethod
    def of(cls, learner: Learner) -> LearnerPublic:
        return cls(id=learner.id, name=learner.name, start_date=learner.start_date,
                   pace=learner.pace, current_week=week_on(learner, dt.date.today()))


class LearnerCreated(LearnerPublic):
    token: str = Field(description="Shown once: send it as `Authorization: Bearer <token>`.")


class WeekChoice(Body):
    week: int | None = Field(ge=1, le=LAST_WEEK, description="null: follow start date and pace")


class TaskUpdate(Body):
    done: bool


class Rating(Body):
    rating: int = Field(ge=1, le=10)


class JournalIn(Body):
    text: str = Field(min_length=1, max_length=JOURNAL_CHARS)


class QuizRequest(Body):
    week: int | None = Field(default=None, ge=1, le=LAST_WEEK, description="Default: your week.")
    n: int = Field(default=5, ge=1, le=30)
    kinds: list[Literal["mcq", "truefalse", "short", "cloze", "llm"]] = Field(
        default=list(KINDS), description="`llm`: some questions written by the chat model "
        "(slower; each checked, and our own generators fill in what it can't write).")


class ResponseIn(Body):
    response: str = Field(max_length=2000, description="An option's text or letter, or free text.")


class AnswerIn(ResponseIn):
    question_id: str = Field(min_length=1, max_length=32)


class ReviewAnswerIn(ResponseIn):
    rating: Literal["again", "hard", "good", "easy"] | None = Field(
        default=None, description="Short answers only: your own verdict, which schedules the "
        "next review (again = missed it, hard, good, easy).")


class WeekSummary(BaseModel):
    number: int
    title: str
    month: int
    phase: int
    detailed: bool


class SearchHitOut(BaseModel):
    source: str
    title: str
    heading: str
    week: int | None
    score: float
    text: str
    url: str


def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]


def curriculum(svc: ServicesDep) -> Curriculum:
    return svc.curriculum


CurriculumDep = Annotated[Curriculum, Depends(curriculum)]


def current_learner(svc: ServicesDep,
                    authorization: Annotated[str | None, Header()] = None) -> Learner:
    """The learner whose bearer token came with the request."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=401, headers={"WWW-Authenticate": "Bearer"},
                            detail="send `Authorization: Bearer <token>`, the token that "
                            "POST /learners returned")
    learner = svc.learners.by_token(token.strip())
    if learner is None:
        raise HTTPException(status_code=401, headers={"WWW-Authenticate": "Bearer"},
                            detail="unknown token")
    return learner


def own_learner(learner_id: int,
                learner: Annotated[Learner, Depends(current_learner)]) -> Learner:
    """The path's learner, only for that learner: anyone else gets the 404 a stranger would."""
    if learner.id != learner_id:
        raise HTTPException(status_code=404, detail=f"no learner {learner_id}")
    return learner


LearnerDep = Annotated[Learner, Depends(own_learner)]


def optional_learner(svc: ServicesDep,
                     authorization: Annotated[str | None, Header()] = None) -> Learner | None:
    """The learner, when a token came with the request; anonymous otherwise. A wrong token is
    still a 401: asking anonymously by mistake would lose the conversation."""
    return current_learner(svc, authorization) if authorization else None


AskerDep = Annotated[Learner | None, Depends(optional_learner)]


FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def same_machine(request: Request) -> None:
    """403 unless the request came over loopback straight from this machine. A request that
    passed through a proxy (it says so in a forwarding header) is not: the proxy on this
    machine may be relaying anyone, and what such headers claim is not checked."""
    try:
        loopback = request.client is not None and ip_address(request.client.host).is_loopback
    except ValueError:  # not an IP address (a Unix socket's peer)
        loopback = False
    if not loopback or any(header in request.headers for header in FORWARDING_HEADERS):
        raise HTTPException(status_code=403, detail="ingest is accepted from this machine only: "
                            "run `tutor ingest` on the server")


def rate_limited(what: str) -> Any:
    """A dependency counting the request against the client's limit for `what`: 429 with
    Retry-After when it is over (TUTOR_ASKS_PER_MINUTE, TUTOR_SIGNUPS_PER_HOUR)."""

    def check(request: Request, svc: ServicesDep) -> None:
        wait = svc.limits[what].hit(request.client.host if request.client else "")
        if wait:
            raise HTTPException(status_code=429, headers={"Retry-After": str(wait)},
                                detail=f"too many {what} from your address: try again in {wait} s")

    return Depends(check)


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _sse(position: int,
               events: AsyncGenerator[tuple[str, Any]]) -> AsyncGenerator[str]:
    """`queued` at once (how many are ahead), then the answer's events as they come."""
    yield _event("queued", {"position": position})
    async with aclosing(events):
        try:
            async for name, data in events:
                if name == "token":
                    yield _event("token", {"text": data})
                elif name == "answer":
                    answer = data.to_dict()
                    yield _event("citations", answer["citations"])
                    yield _event("done", answer)
        except LLMError as exc:
            yield _event("error", {"detail": str(exc)})
        except ModelBusy as exc:
            yield _event("error", {"detail": str(exc), "retry_after": exc.retry_after})


class EventStream(StreamingResponse):
    """Server-sent events whose source is closed the moment the response ends, a hang-up
    included: closing it frees the model now rather than whenever the garbage collector
    gets to an abandoned generator."""

    def __init__(self, content: AsyncGenerator[str]) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._events = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._events.aclose()


def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field and what is wrong with it. The offending input is not echoed
    back: it may not be encodable as JSON at all (NaN, a lone surrogate)."""
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


def _learners_failed(request: Request, exc: Exception) -> JSONResponse:
    """The learner database failed mid-request (LearnerStoreError after a commit that may
    not have been stored, or a database error): 503, never an acknowledgement."""
    svc: Services = request.app.state.services
    if isinstance(exc, DatabaseError):
        exc = LearnerStoreError(unusable(svc.settings.resolved_database_url, exc))
    svc.learners_failed(str(exc))
    return JSONResponse({"detail": str(exc)}, status_code=503)


def _model_busy(_: Request, exc: ModelBusy) -> JSONResponse:
    """The model's queue is full or the turn did not come: when to come back."""
    return JSONResponse({"detail": str(exc)}, status_code=503,
                        headers={"Retry-After": str(exc.retry_after)})


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services(settings or get_settings())
        app.state.services.open_learners()
        yield
        app.state.services.gate.close()  # generation still running stops at its next token

    app = FastAPI(title="Study Tutor", version=VERSION, lifespan=lifespan,
                  description="The learning plan, a searchable course library and a tutor that "
                  "answers from it with citations.")
    app.add_exception_handler(ModelBusy, _model_busy)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(LearnerStoreError, _learners_failed)
    app.add_exception_handler(DatabaseError, _learners_failed)
    limits = settings or get_settings()
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_kb * 1024)
    app.add_middleware(HostAllowList, hosts=limits.allowed_hosts)

    @app.get("/health", response_model=Health)
    def health(svc: ServicesDep) -> Health:
        try:
            chunks = svc.store.count()
        except StoreError as exc:
            chunks, status, detail = 0, "degraded", str(exc)
        else:
            status, detail = "ok", "" if chunks else "the index is empty: run `tutor ingest`"
        if svc.usable_learners() is None:
            status, detail = "degraded", "; ".join(filter(None, [detail, svc.learners_error]))
        return Health(status=status, ready=chunks > 0, index_chunks=chunks,
                      model_provider=svc.settings.llm_provider, model=model_label(svc.settings),
                      data_dir=str(svc.settings.data_dir.resolve()),
                      chroma_url=svc.settings.chroma_url, detail=detail,
                      model_queue=svc.gate.load())

    @app.get("/weeks", response_model=list[WeekSummary])
    def weeks(cur: CurriculumDep) -> list[WeekSummary]:
        plans = [cur.week(n) for n in range(1, LAST_WEEK + 1)]
        return [WeekSummary(number=p.number, title=p.title, month=p.month.number,
                            phase=p.phase.number, detailed=p.week is not None) for p in plans]

    @app.get("/weeks/{number}")
    def week(number: int, cur: CurriculumDep) -> dict[str, Any]:
        try:
            return cur.week(number).model_dump(mode="json")
        except WeekOutOfRange as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    def require_index(svc: Services) -> None:
        try:
            empty = svc.store.count() == 0
        except StoreError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from exc
        if empty:
            raise HTTPException(status_code=409, detail="the index is empty: run `tutor ingest`")

    @app.get("/search", response_model=list[SearchHitOut])
    def search(
        svc: ServicesDep,
        q: Annotated[str, Query(min_length=1, max_length=2000, description="The question.")],
        week: Annotated[int | None, Query(ge=1, le=LAST_WEEK)] = None,
        k: Annotated[int, Query(ge=1, le=50)] = 5,
    ) -> list[SearchHitOut]:
        require_index(svc)
        hits = svc.retriever.search(q, k=k, week=week)
        return [SearchHitOut(**hit.to_dict(), url=hit.url) for hit in hits]

    def asking(request: AskRequest, learner: Learner | None, svc: Services) -> dict[str, Any]:
        """How to ask for this caller: a learner's own week (unless the body names one) and
        conversation history; anonymous calls keep theirs in process."""
        if learner is None:
            return dict(week=request.week, filters=request.filters(request.week))
        week = request.week or week_on(learner, dt.date.today())
        memory = ConversationLog(svc.learners, learner.id)
        if request.conversation_id:
            try:
                memory.require(request.conversation_id)
            except NotFound as exc:
                raise HTTPException(status_code=404, detail=str(exc)) from exc
        return dict(week=week, filters=request.filters(week), memory=memory)

    @app.post("/ask", dependencies=[rate_limited("questions")])
    async def ask(request: AskRequest, svc: ServicesDep, learner: AskerDep) -> dict[str, Any]:
        """Answer a question from the course material, with inline [n] citations.

        With a learner's token: their week (unless `week` is given) and their saved history.
        The model answers one question at a time: 503 with Retry-After when the queue is full
        or this question's turn does not come in time."""

        def answer() -> dict[str, Any]:
            require_index(svc)
            return svc.tutor.ask(request.question, mode=request.mode,
                                 conversation_id=request.conversation_id,
                                 **asking(request, learner, svc)).to_dict()

        try:
            return await call_for(svc.gate, answer)
        except LLMError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from exc

    @app.post("/ask/stream", dependencies=[rate_limited("questions")])
    def ask_stream(request: AskRequest, svc: ServicesDep, learner: AskerDep) -> StreamingResponse:
        """Server-sent events: `queued` at once ({"position": questions ahead}), `token`
        (many), then `citations`, then `done` with the whole answer.

        503 with Retry-After when the model's queue is full. Afterwards, an `error` event
        carries a model failure, or a turn that did not come in time (with `retry_after`).
        Hanging up stops the answer and frees the model. A learner's token works as for
        POST /ask."""
        require_index(svc)
        how = asking(request, learner, svc)
        position = svc.gate.admit()
        tutor = svc.tutor
        events = stream_for(svc.gate, lambda: tutor.stream(
            request.question, mode=request.mode, conversation_id=request.conversation_id, **how))
        return EventStream(_sse(position, events))

    # -- learners ----------------------------------------------------------------------------

    @app.post("/learners", status_code=201, response_model=LearnerCreated,
              dependencies=[rate_limited("new learners")])
    def create_learner(body: LearnerCreate, svc: ServicesDep) -> LearnerCreated:
        """Create a learner. The token in the response is shown this once; keep it."""
        learner, token = svc.learners.create(body.name, body.start_date, body.pace,
                                             body.current_week)
        return LearnerCreated(**LearnerPublic.of(learner).model_dump(), token=token)

    @app.get("/learners/{learner_id}", response_model=LearnerPublic)
    def get_learner(learner: LearnerDep) -> LearnerPublic:
        return LearnerPublic.of(learner)

    @app.put("/learners/{learner_id}/week", response_model=LearnerPublic)
    def set_week(body: WeekChoice, learner: LearnerDep, svc: ServicesDep) -> LearnerPublic:
        return LearnerPublic.of(svc.learners.set_week(learner.id, body.week))

    @app.get("/learners/{learner_id}/weeks/{week}/tasks")
    def tasks(week: int, learner: LearnerDep, svc: ServicesDep,
              cur: CurriculumDep) -> list[dict[str, Any]]:
        try:
            return [vars(t) for t in svc.learners.checklist(learner.id, week, cur)]
        except WeekOutOfRange as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @app.put("/learners/{learner_id}/weeks/{week}/tasks/{task}")
    def tick(week: int, task: str, body: TaskUpdate, learner: LearnerDep, svc: ServicesDep,
             cur: CurriculumDep) -> list[dict[str, Any]]:
        try:
            return [vars(t) for t in svc.learners.tick(learner.id, week, task, body.done, cur)]
        except (WeekOutOfRange, NotFound) as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @app.put("/learners/{learner_id}/weeks/{week}/rating", status_code=204)
    def rate(week: int, body: Rating, learner: LearnerDep, svc: ServicesDep) -> None:
        try:
            svc.learners.rate(learner.id, week, body.rating)
        except WeekOutOfRange as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @app.get("/learners/{learner_id}/ratings")
    def ratings(learner: LearnerDep, svc: ServicesDep) -> dict[int, int]:
        return svc.learners.ratings(learner.id)

    @app.post("/learners/{learner_id}/journal", status_code=201)
    def write_journal(body: JournalIn, learner: LearnerDep, svc: ServicesDep,
                      week: Annotated[int | None, Query(ge=1, le=LAST_WEEK)] = None) -> dict[str, Any]:
        entry = svc.learners.write_journal(learner.id, week or week_on(learner, dt.date.today()),
                                           body.text)
        return {"id": entry.id, "week": entry.week, "text": entry.text}

    @app.get("/learners/{learner_id}/journal")
    def journal(learner: LearnerDep, svc: ServicesDep) -> list[dict[str, Any]]:
        return [entry.to_dict() for entry in svc.learners.journal(learner.id)]

    # -- quizzes and spaced review -------------------------------------------------------------

    @app.post("/learners/{learner_id}/quizzes", status_code=201)
    def new_quiz(body: QuizRequest, learner: LearnerDep, svc: ServicesDep) -> dict[str, Any]:
        """A quiz on the week's material; answers are checked one by one afterwards."""
        week = body.week or week_on(learner, dt.date.today())
        records = svc.quizzes
        try:
            questions = make_quiz(svc.notes, week, n=body.n, kinds=tuple(body.kinds),
                                  seed=f"{learner.id}-{dt.datetime.now().isoformat()}",
                                  exclude=records.recent_ids(learner.id),
                                  writer=svc.writer if LLM in body.kinds else None)
        except QuizError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except LLMError as exc:  # the model is misconfigured (it failing midway is filled in)
            raise HTTPException(status_code=503, detail=str(exc)) from exc
        quiz_id = records.save(learner.id, week, questions)
        return {"quiz_id": quiz_id, "week": week, "questions": [q.public() for q in questions]}

    def _feedback(question: Any, result: Any) -> dict[str, Any]:
        return {"correct": result.correct, "score": result.score, "feedback": result.feedback,
                "answer": question.answer, "explanation": question.explanation,
                "citation": question.citation}

    def _review_question(svc: Services, learner: Learner, question_id: str) -> Any:
        try:
            return svc.quizzes.review_question(learner.id, question_id)
        except NotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    def _graded(svc: Services, question: Any, response: str) -> Any:
        try:
            return grade(question, response, svc.retriever.embedder.similarity, svc.judge)
        except LLMError as exc:  # a misconfigured judge; one failing to answer is fallen back on
            raise HTTPException(status_code=503, detail=str(exc)) from exc

    def _answer(svc: Services, learner: Learner, quiz_id: str | None, question: Any,
                response: str, rating: str | None = None) -> dict[str, Any]:
        result = _graded(svc, question, response)
        try:
            result = self_rated(question, result, rating) if rating else result
        except QuizError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        try:
            due = svc.quizzes.answer(learner.id, quiz_id, question, response, result,
                                     dt.datetime.now(dt.UTC))
        except AlreadyAnswered as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        return _feedback(question, result) | {"next_review": due.isoformat()}

    @app.post("/learners/{learner_id}/quizzes/{quiz_id}/answers")
    def answer_quiz(quiz_id: str, body: AnswerIn, learner: LearnerDep,
                    svc: ServicesDep) -> dict[str, Any]:
        """Grade one answer, with feedback quoting the source; schedules its review (FSRS)."""
        try:
            question = svc.quizzes.question(learner.id, quiz_id, body.question_id)
        except NotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        return _answer(svc, learner, quiz_id, question, body.response)

    @app.get("/learners/{learner_id}/reviews/due")
    def due_reviews(learner: LearnerDep, svc: ServicesDep,
                    until: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Questions whose review is due (now, or by `until`)."""
        until = until or dt.datetime.now(dt.UTC)
        try:  # a naive `until` is UTC already
            until = until.astimezone(dt.UTC) if until.tzinfo else until
        except OverflowError as exc:  # 9999-12-31T23:59-10:00 is after the last UTC datetime
            raise HTTPException(status_code=422, detail=f"until={until.isoformat()} is out of "
                                "range in UTC: give a date before 9999-12-31") from exc
        return [q.public() for q in svc.quizzes.due(learner.id, until)]

    @app.post("/learners/{learner_id}/reviews/{question_id}")
    def answer_review(question_id: str, body: ReviewAnswerIn, learner: LearnerDep,
                      svc: ServicesDep) -> dict[str, Any]:
        """Answer a due review; the card is rescheduled from the result, or for a short answer
        from your own `rating` when you give one."""
        question = _review_question(svc, learner, question_id)
        return _answer(svc, learner, None, question, body.response, body.rating)

    @app.post("/learners/{learner_id}/reviews/{question_id}/check")
    def check_review(question_id: str, body: ResponseIn, learner: LearnerDep,
                     svc: ServicesDep) -> dict[str, Any]:
        """See how an answer compares, with the answer and its source, before rating it
        yourself: nothing is recorded or rescheduled. Then post the review with your
        `rating` (one of `rate_with`; short answers only, the rest are graded exactly)."""
        question = _review_question(svc, learner, question_id)
        return _feedback(question, _graded(svc, question, body.response)) | {
            "rate_with": list(ratings_for(question))}

    @app.get("/learners/{learner_id}/progress")
    def learner_progress(learner: LearnerDep, svc: ServicesDep,
                         cur: CurriculumDep) -> dict[str, Any]:
        """Completion per week, quiz accuracy over time and per week, self-ratings, streak,
        and the concepts missed most (worth revisiting with the tutor)."""
        return progress(svc.learners, learner, cur, dt.date.today())

    # -- conversations -----------------------------------------------------------------------

    @app.get("/learners/{learner_id}/conversations")
    def conversations(learner: LearnerDep, svc: ServicesDep) -> list[dict[str, Any]]:
        """Your conversations with the tutor, latest first: id, title (the first question),
        updated, turns. Continue one by asking with its `conversation_id`."""
        return ConversationLog(svc.learners, learner.id).summaries()

    @app.get("/learners/{learner_id}/conversations/{conversation_id}")
    def conversation(conversation_id: str, learner: LearnerDep,
                     svc: ServicesDep) -> dict[str, Any]:
        """One conversation: its messages in order, the tutor's with their citations."""
        try:
            return ConversationLog(svc.learners, learner.id).read(conversation_id)
        except NotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @app.post("/ingest", status_code=202, dependencies=[Depends(same_machine)])
    def ingest(body: IngestRequest, svc: ServicesDep) -> dict[str, Any]:
        """Ingest on the server, in this process (the embedded index's one writer).

        Accepted from this machine only: `tutor ingest` uses it when the API is running.
        Paths must lie under the corpus or TUTOR_INGEST_ROOTS; git URLs must be https, ssh
        or file. Credentials in a URL are used for the clone, never stored or shown."""
        try:
            for path in body.paths:
                check_allowed(path, ingest_roots(svc.settings))
            return svc.jobs.start(body.paths, rebuild=body.rebuild).to_dict()
        except Forbidden as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from exc
        except Busy as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc

    @app.get("/ingest/{job_id}", dependencies=[Depends(same_machine)])
    def ingest_status(job_id: str, svc: ServicesDep) -> dict[str, Any]:
        job = svc.jobs.jobs.get(job_id)
        if job is None:
            raise HTTPException(status_code=404, detail=f"no ingest job {job_id}")
        return job.to_dict()

    return app

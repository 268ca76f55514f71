"""Asking the tutor: search, answers (whole or streamed as server-sent events) and the
conversations they belong to."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated
from typing import Any

from fastapi import APIRouter
from fastapi import HTTPException
from fastapi import Query
from fastapi.responses import StreamingResponse
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from app.answering.memory import HISTORY_TURNS
from app.api.deps import AskerDep
from app.api.deps import LearnerDep
from app.api.deps import ServicesDep
from app.api.deps import rate_limited
from app.api.deps import require_index
from app.api.params import Id
from app.api.params import WeekQuery
from app.api.schemas import AskRequest
from app.api.schemas import SearchHitOut
from app.api.services import Services
from app.llm.gate import ModelBusy
from app.llm.gate import call_for
from app.llm.gate import stream_for
from app.llm.providers import LLMError
from app.records.base import NotFound
from app.records.conversations import AnonymousConversationRecords
from app.records.conversations import ConversationRecords
from app.records.learners import Learner
from app.search.vectors import VectorStoreError
from app.sse import event
from app.usecases.asking import AskAs

router = APIRouter()


async def _sse(position: int, events: AsyncGenerator[tuple[str, Any]]) -> AsyncGenerator[str]:
    """`queued` at once (how many are ahead), then the answer's events as they come."""
    yield event("queued", {"position": position})
    async with aclosing(events):
        try:
            async for name, data in events:
                if name == "token":
                    yield event("token", {"text": data})
                elif name == "answer":
                    yield event("citations", data["citations"])
                    yield event("done", data)
        except (LLMError, VectorStoreError) as exc:
            yield event("error", {"detail": str(exc)})
        except ModelBusy as exc:
            yield event("error", {"detail": str(exc), "retry_after": exc.retry_after})


class EventStream(StreamingResponse):
    """Server-sent events whose source is closed the moment the response ends, a hang-up
    included: closing it frees the model now rather than whenever the garbage collector
    gets to an abandoned generator."""

    def __init__(self, content: AsyncGenerator[str]) -> None:
        super().__init__(
            content,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._events = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._events.aclose()


@router.get("/search", response_model=list[SearchHitOut])
def search(
    svc: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="The question.")],
    week: WeekQuery = None,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[SearchHitOut]:
    require_index(svc)
    hits = svc.retriever.search(q, k=k, week=week)
    return [SearchHitOut(**hit.to_dict(), url=hit.url) for hit in hits]


def asker(request: AskRequest, learner: Learner | None, svc: Services) -> AskAs:
    """Asking as this caller (`app.usecases.asking`): anonymous calls keep their last turns in
    the database for a while (any worker may get the follow-up). A learner's conversation that
    is not theirs is a 404 before the question waits for the model."""
    anonymous = (
        None
        if learner
        else AnonymousConversationRecords(
            svc.learners.sessions, HISTORY_TURNS, svc.settings.anonymous_conversation_hours
        )
    )
    as_caller = AskAs(svc.tutor, svc.notes, svc.learners, learner, anonymous, svc.curriculum)
    try:
        as_caller.require_conversation(request.conversation_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return as_caller


def _asked(request: AskRequest) -> dict[str, Any]:
    return dict(
        week=request.week,
        mode=request.mode,
        conversation_id=request.conversation_id,
        no_spoilers=request.no_spoilers,
    )


@router.post("/ask", dependencies=[rate_limited("questions")])
async def ask(request: AskRequest, svc: ServicesDep, learner: AskerDep) -> dict[str, Any]:
    """Answer a question from the course material, with inline [n] citations.

    With a learner's token: their week (unless `week` is given; a follow-up's is its
    conversation's) and their saved history,
    and `back_to`: for a concept the question names that the learner keeps missing, the
    earlier week it builds on and the passage to reread (as in GET .../progress). The model
    answers one question at a time: 503 with Retry-After when the queue is full
    or this question's turn does not come in time."""

    as_caller = asker(request, learner, svc)

    def answer() -> dict[str, Any]:
        require_index(svc)
        return as_caller.ask(request.question, **_asked(request))

    try:
        return await call_for(svc.gate, answer)
    except LLMError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc


@router.post("/ask/stream", dependencies=[rate_limited("questions")])
def ask_stream(request: AskRequest, svc: ServicesDep, learner: AskerDep) -> StreamingResponse:
    """Server-sent events: `queued` at once ({"position": questions ahead}), `token`
    (many), then `citations`, then `done` with the whole answer.

    503 with Retry-After when the model's queue is full. Afterwards, an `error` event
    carries a model failure, or a turn that did not come in time (with `retry_after`).
    Hanging up stops the answer and frees the model. A learner's token works as for
    POST /ask (`back_to` comes with `done`)."""
    require_index(svc)
    as_caller = asker(request, learner, svc)
    position = svc.gate.admit()
    events = stream_for(svc.gate, lambda: as_caller.stream(request.question, **_asked(request)))
    return EventStream(_sse(position, events))


# -- conversations -----------------------------------------------------------------------


@router.get("/learners/{learner_id}/conversations")
def conversations(learner: LearnerDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """Your conversations with the tutor, latest first: id, title (the first question),
    updated, turns. Continue one by asking with its `conversation_id`."""
    return ConversationRecords(svc.learners, learner.id).summaries()


@router.get("/learners/{learner_id}/conversations/{conversation_id}")
def conversation(conversation_id: Id, learner: LearnerDep, svc: ServicesDep) -> dict[str, Any]:
    """One conversation: its messages in order, the tutor's with their citations."""
    try:
        return ConversationRecords(svc.learners, learner.id).read(conversation_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc

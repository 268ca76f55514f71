"""Exceptions turned into responses that say what to do next, never a 500."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.responses import Response
from sqlalchemy.exc import DatabaseError
from sqlalchemy.exc import DataError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from app.api.services import Services
from app.llm.gate import ModelBusy
from app.records.base import LearnerRecordsError
from app.records.base import unusable
from app.search.vectors import VectorStoreError


def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field and what is wrong with it. The offending input is not echoed
    back: it may not be encodable as JSON at all (NaN, a lone surrogate)."""
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


# FastAPI's answer to a JSON body that is not text (bytes that are not UTF-8), which does not
# say what is wrong with it.
_UNPARSED = "There was an error parsing the body"


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """FastAPI's own answer, except to a body it could not parse, which says why."""
    if exc.status_code == 400 and exc.detail == _UNPARSED:
        return JSONResponse(
            {
                "detail": "the body could not be read as JSON: send UTF-8 text "
                "with Content-Type: application/json"
            },
            status_code=400,
        )
    return await http_exception_handler(request, exc)


def _learners_failed(request: Request, exc: Exception) -> JSONResponse:
    """The learner database failed mid-request (LearnerRecordsError after a commit that may
    not have been stored, or a database error): 503, never an acknowledgement."""
    svc: Services = request.app.state.services
    if isinstance(exc, DatabaseError):
        exc = LearnerRecordsError(unusable(svc.settings.resolved_database_url, exc))
    svc.learners_failed(str(exc))
    return JSONResponse({"detail": str(exc)}, status_code=503)


def _request_refused(_: Request, exc: DatabaseError) -> JSONResponse:
    """The database refused this request's data (a value it can't store, a clash with a
    stored row): the request's fault, so a 4xx, and the database stays in service. Only
    errors that are about the database itself (`_learners_failed`) turn /health degraded."""
    if isinstance(exc, IntegrityError):
        return JSONResponse(
            {
                "detail": "this conflicts with what is already stored (a "
                "duplicate or a missing reference); reload and try again"
            },
            status_code=409,
        )
    return JSONResponse(
        {
            "detail": "the database cannot store a value in this request "
            "(out of range or malformed): check the numbers and text you sent"
        },
        status_code=422,
    )


def _model_busy(_: Request, exc: ModelBusy) -> JSONResponse:
    """The model's queue is full or the turn did not come: when to come back."""
    return JSONResponse(
        {"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after)}
    )


def _store_failed(_: Request, exc: VectorStoreError) -> JSONResponse:
    """Chroma went away or failed under a request (its message names TUTOR_CHROMA_URL or the
    folder): 503. Nothing is kept broken: the next request tries again."""
    return JSONResponse({"detail": str(exc)}, status_code=503)


def install(app: FastAPI) -> None:
    # Starlette types a handler as taking any Exception; each of ours takes the one it handles.
    app.add_exception_handler(VectorStoreError, _store_failed)  # type: ignore[arg-type]
    app.add_exception_handler(ModelBusy, _model_busy)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(LearnerRecordsError, _learners_failed)
    app.add_exception_handler(DatabaseError, _learners_failed)
    # More specific than DatabaseError: Starlette picks the handler by the exception's MRO.
    app.add_exception_handler(DataError, _request_refused)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, _request_refused)  # type: ignore[arg-type]

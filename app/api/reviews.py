"""The review deck: due count and forecast, cards of the learner's own, export, and FSRS
fitted to the learner. The work is in `app.records.reviews`, `app.practice.scheduler` and `app.practice.card_export`."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import Literal

from fastapi import APIRouter
from fastapi import HTTPException
from fastapi import Query
from fastapi import Request
from fastapi import Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import LearnerDep
from app.api.deps import ServicesDep
from app.api.deps import StandingDep
from app.api.params import Id
from app.api.schemas import CardEdit
from app.api.schemas import CardIn
from app.api.schemas import CardRating
from app.api.schemas import SourceDecision
from app.api.services import Services
from app.practice.anki_package import PackageError
from app.practice.card_export import to_csv
from app.practice.card_export import write_apkg
from app.practice.scheduler import NotEnoughReviews
from app.records.anki_import import import_package
from app.records.base import NotFound
from app.records.reviews import CardError
from app.records.reviews import NotDue
from app.records.reviews import due_phrase

router = APIRouter()
MEDIA_TYPES = {"apkg": "application/octet-stream", "csv": "text/csv; charset=utf-8"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get("/learners/{learner_id}/reviews/summary")
def review_summary(learner: LearnerDep, svc: ServicesDep) -> dict[str, Any]:
    """How many cards are due now and when the next one is: {"due_now", "next_due" (ISO UTC,
    null when none is scheduled after now), "cards", "suspended", "own", "text"}."""
    now = _now()
    summary = svc.reviews.summary(learner.id, now)
    return summary | {"text": due_phrase(summary, now)}


@router.get("/learners/{learner_id}/reviews/forecast")
def review_forecast(
    learner: LearnerDep, svc: ServicesDep, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> dict[str, Any]:
    """Reviews due on each of the next `days` UTC days (FSRS, with your parameters; cards
    assumed recalled when they come due, so returns within the window count): {"days":
    [{"date", "due"}], "next_7_days", "next_30_days" (within what was asked)}."""
    forecast = svc.reviews.forecast(learner.id, _now(), days)
    return {
        "days": forecast,
        "next_7_days": sum(d["due"] for d in forecast[:7]),
        "next_30_days": sum(d["due"] for d in forecast[:30]),
    }


@router.get("/learners/{learner_id}/cards")
def list_cards(learner: LearnerDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """All your cards, quiz questions and your own, soonest due first."""
    return svc.reviews.cards(learner.id)


@router.get("/learners/{learner_id}/cards/export")
def export_cards(
    learner: LearnerDep, svc: ServicesDep, format: Literal["apkg", "csv"] = "apkg"
) -> Response:
    """Your cards with their review history: an Anki package (`apkg`, opens in Anki with
    the history in its review log) or CSV (one row a card, its reviews in a column)."""
    cards, history = svc.reviews.cards(learner.id), svc.reviews.history(learner.id)
    name = f"study-tutor-cards.{format}"
    if format == "csv":
        data = to_csv(cards, history).encode()
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            write_apkg(cards, history, path)
            data = path.read_bytes()
    return Response(
        data,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


PACKAGE_BODY = {  # the route reads its body itself: a file, described for the OpenAPI document
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/learners/{learner_id}/cards/import", openapi_extra=PACKAGE_BODY)
async def import_cards(request: Request, learner: LearnerDep, svc: ServicesDep) -> dict[str, Any]:
    """Bring back what you did in Anki: the body is a package exported from Anki (.apkg or
    .colpkg, `Content-Type: application/octet-stream`). Cards are found by their notes'
    GUIDs; answers made in Anki join your review log (once: importing again adds nothing)
    and reschedule their cards; words edited in Anki come back, and conflicts are named.
    Returns the report (`app.records.anki_import.import_from_anki`); 422 for a file Anki
    can't read."""
    data = await request.body()
    try:
        return await run_in_threadpool(_import_bytes, svc, learner.id, data)
    except PackageError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def _import_bytes(svc: Services, learner_id: int, data: bytes) -> dict[str, Any]:
    """The package's bytes in a private temporary file, which Anki's library reads."""
    with tempfile.TemporaryDirectory(prefix="tutor-import-") as folder:
        path = Path(folder) / "package"
        path.write_bytes(data)
        return import_package(svc.reviews.sessions, learner_id, path)


@router.get("/learners/{learner_id}/cards/{card_id}")
def get_card(card_id: Id, learner: LearnerDep, svc: ServicesDep) -> dict[str, Any]:
    """One card, back included: what a review shows after "Show answer"."""
    try:
        return svc.reviews.card(learner.id, card_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


@router.post("/learners/{learner_id}/cards", status_code=201)
def add_card(
    body: CardIn, learner: LearnerDep, svc: ServicesDep, standing: StandingDep
) -> dict[str, Any]:
    """Make a card: by hand, from a tutor's answer or from a passage (give `source` and
    `passage`). Due at once; reviewed with the same FSRS scheduler as quiz questions."""
    try:
        return svc.reviews.add(
            learner.id,
            body.front,
            body.back,
            body.week or standing.current_week,
            body.source,
            body.passage,
        )
    except CardError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.patch("/learners/{learner_id}/cards/{card_id}")
def edit_card(card_id: Id, body: CardEdit, learner: LearnerDep, svc: ServicesDep) -> dict[str, Any]:
    """Edit your own card's front or back, or suspend/unsuspend any card."""
    try:
        return svc.reviews.edit(learner.id, card_id, body.front, body.back, body.suspended)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except CardError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.delete("/learners/{learner_id}/cards/{card_id}", status_code=204)
def delete_card(card_id: Id, learner: LearnerDep, svc: ServicesDep) -> Response:
    """Delete a card and its review history."""
    try:
        svc.reviews.delete(learner.id, card_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return Response(status_code=204)


@router.post("/learners/{learner_id}/cards/{card_id}/rating")
def rate_card(
    card_id: Id, body: CardRating, learner: LearnerDep, svc: ServicesDep
) -> dict[str, Any]:
    """Rate your own card after seeing its back; FSRS schedules the next review
    (`next_review`, and `comes_back` in words). A card that is not due is a 409 naming when
    it is: a second click or a retried request counts once."""
    try:
        return svc.reviews.rate(learner.id, card_id, body.rating, _now())
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except NotDue as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except CardError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.post("/learners/{learner_id}/cards/{card_id}/source")
def settle_card_source(
    card_id: Id, body: SourceDecision, learner: LearnerDep, svc: ServicesDep
) -> dict[str, Any]:
    """Settle a card an ingest flagged (`source_changed`: the passage it quotes changed or was
    removed): accept the new text or retire the card. 422 when its source has not changed or
    there is no new text to accept."""
    try:
        return svc.reviews.settle_source(learner.id, card_id, body.decision)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except CardError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.get("/learners/{learner_id}/fsrs")
def fsrs_fitting(learner: LearnerDep, svc: ServicesDep) -> dict[str, Any]:
    """Whether your reviews are enough to fit FSRS to you (`counted_reviews` against the
    optimizer's `min_reviews`), the last fit's held-out log loss against the defaults', and
    which parameters schedule your cards."""
    return svc.reviews.fitting(learner.id)


@router.post("/learners/{learner_id}/fsrs/fit")
def fit_fsrs(learner: LearnerDep, svc: ServicesDep) -> dict[str, Any]:
    """Fit FSRS to your review log (py-fsrs's optimizer); the fitted parameters schedule your
    cards only if they predict your held-out reviews better than the defaults. 422 while
    there are too few reviews, saying how many more."""
    try:
        return svc.reviews.fit(learner.id, _now())
    except NotEnoughReviews as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc

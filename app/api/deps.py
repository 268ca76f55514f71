"""Dependencies the routes declare: the shared services, who is asking, and the checks
some routes need first (same machine, rate limit, a built index)."""

from __future__ import annotations

import datetime as dt
from ipaddress import ip_address
from typing import Annotated
from typing import Any

from fastapi import Depends
from fastapi import Header
from fastapi import HTTPException
from fastapi import Query
from fastapi import Request

from app.api.services import Services
from app.course.curriculum import Curriculum
from app.course.pacing import Standing
from app.records.learners import Learner


def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]


def curriculum(svc: ServicesDep) -> Curriculum:
    return svc.curriculum


CurriculumDep = Annotated[Curriculum, Depends(curriculum)]


def learner_today(
    today: Annotated[
        dt.date | None,
        Query(
            description="Your local date (YYYY-MM-DD), for where you are in the plan and today's "
            "task; default: the server's date. It must be today somewhere: within a day of the "
            "date in UTC."
        ),
    ] = None,
) -> dt.date:
    """The learner's calendar date. Time zones put it a day either side of UTC's at most, so
    a date further off is a mistake (or a try at re-planning another day): 422."""
    if today is None:
        return dt.date.today()
    utc = dt.datetime.now(dt.UTC).date()
    if abs((today - utc).days) > 1:
        raise HTTPException(
            status_code=422,
            detail=f"today={today.isoformat()} is not today in "
            f"any time zone (it is {utc.isoformat()} in UTC): send your local "
            "date, or leave `today` out",
        )
    return today


TodayDep = Annotated[dt.date, Depends(learner_today)]


def current_learner(
    svc: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> Learner:
    """The learner whose bearer token came with the request."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
            detail="send `Authorization: Bearer <token>`, the token that POST /learners returned",
        )
    learner = svc.learners.by_token(token.strip())
    if learner is None:
        raise HTTPException(
            status_code=401, headers={"WWW-Authenticate": "Bearer"}, detail="unknown token"
        )
    return learner


def own_learner(learner_id: int, learner: Annotated[Learner, Depends(current_learner)]) -> Learner:
    """The path's learner, only for that learner: anyone else gets the 404 a stranger would."""
    if learner.id != learner_id:
        raise HTTPException(status_code=404, detail=f"no learner {learner_id}")
    return learner


LearnerDep = Annotated[Learner, Depends(own_learner)]


def learner_standing(learner: LearnerDep, svc: ServicesDep, today: TodayDep) -> Standing:
    """Where the path's learner stands today (`app.records.schedules.standing_in`): the week
    a route uses when the request names none, and what every view of their week shows."""
    return svc.schedules.standing(learner, svc.curriculum, today)


StandingDep = Annotated[Standing, Depends(learner_standing)]


def optional_learner(
    svc: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> Learner | None:
    """The learner, when a token came with the request; anonymous otherwise. A wrong token is
    still a 401: asking anonymously by mistake would lose the conversation."""
    return current_learner(svc, authorization) if authorization else None


AskerDep = Annotated[Learner | None, Depends(optional_learner)]


FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def from_this_machine(request: Request) -> bool:
    """Whether the request came over loopback straight from this machine. A request that
    passed through a proxy (it says so in a forwarding header) did not: the proxy on this
    machine may be relaying anyone, and what such headers claim is not checked."""
    try:
        loopback = request.client is not None and ip_address(request.client.host).is_loopback
    except ValueError:  # not an IP address (a Unix socket's peer)
        loopback = False
    return loopback and not any(header in request.headers for header in FORWARDING_HEADERS)


def same_machine(request: Request) -> None:
    """403 unless the request came straight from this machine (`from_this_machine`)."""
    if not from_this_machine(request):
        raise HTTPException(
            status_code=403,
            detail="ingest is accepted from this machine only: run `tutor ingest` on the server",
        )


def rate_limited(what: str) -> Any:
    """A dependency counting the request against the client's limit for `what`: 429 with
    Retry-After when it is over (TUTOR_ASKS_PER_MINUTE, TUTOR_SIGNUPS_PER_HOUR)."""

    def check(request: Request, svc: ServicesDep) -> None:
        wait = svc.limits[what].hit(request.client.host if request.client else "")
        if wait:
            raise HTTPException(
                status_code=429,
                headers={"Retry-After": str(wait)},
                detail=f"too many {what} from your address: try again in {wait} s",
            )

    return Depends(check)


def require_index(svc: Services) -> None:
    """409 on an empty index; a Chroma that can't be reached raises `VectorStoreError` (a 503)."""
    if svc.store.count() == 0:
        raise HTTPException(status_code=409, detail="the index is empty: run `tutor ingest`")

"""The HTTP service. `create_app` only assembles: the routers by resource, the checks on
every request, and the error handlers. Routes are thin; the work lives in the modules below.

Clients are built once in `lifespan` and reached through dependencies (`deps`), so tests can
hand the app their own settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from fastapi import FastAPI

from app.api import asking
from app.api import capstones
from app.api import checks
from app.api import errors
from app.api import health
from app.api import ingesting
from app.api import learners
from app.api import mastery
from app.api import milestones
from app.api import plan
from app.api import quizzes
from app.api import reviews
from app.api.guards import BodyLimit
from app.api.guards import HostAllowList
from app.api.schemas import VERSION
from app.api.services import Services
from app.config import Settings
from app.config import get_settings
from app.search.lock import claim_for

__all__ = ["VERSION", "create_app"]


def create_app(settings: Settings | None = None, claimed: TextIO | None = None) -> FastAPI:
    """The app on `settings` (default: the environment's). `claimed`: the data dir's claim
    (`app.search.lock.claim`), taken already by the caller, as `tutor serve` does to refuse a
    second API with a message rather than a failed startup; None: the app claims it itself
    when it starts, where the index is embedded."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # An embedded index is this API's to write while it runs: the command line sees the
        # claim and hands its ingests over (a Chroma server takes any number of writers).
        held = claimed if claimed is not None else claim_for(settings)
        app.state.services = Services(settings)
        app.state.services.open_learners()
        try:
            yield
        finally:
            app.state.services.gate.close()  # generation still running stops at its next token
            if held is not None:
                held.close()

    app = FastAPI(
        title="Study Tutor",
        version=VERSION,
        lifespan=lifespan,
        description="The learning plan, a searchable course library and a tutor that "
        "answers from it with citations.",
    )
    errors.install(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_kb * 1024,
        upload_bytes=settings.max_upload_mb * 1024 * 1024,
    )
    app.add_middleware(HostAllowList, hosts=settings.allowed_hosts)
    for module in (
        health,
        plan,
        capstones,
        milestones,
        asking,
        learners,
        mastery,
        quizzes,
        reviews,
        ingesting,
        checks,
    ):
        app.include_router(module.router)
    return app

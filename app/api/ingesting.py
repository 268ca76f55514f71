"""Ingest on the server, for `tutor ingest` on the same machine."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import Depends
from fastapi import HTTPException

from app.api.deps import ServicesDep
from app.api.deps import same_machine
from app.api.schemas import IngestRequest
from app.ingest.jobs import Forbidden
from app.ingest.jobs import check_allowed
from app.ingest.jobs import ingest_roots
from app.ingest.runs import IngestBusy
from app.ingest.runs import Runs
from app.ingest.sources import SourceError

router = APIRouter()


@router.post("/ingest", status_code=202, dependencies=[Depends(same_machine)])
def ingest(body: IngestRequest, svc: ServicesDep) -> dict[str, Any]:
    """Ingest on the server, on a thread of this worker (the embedded index's one writer).

    Accepted from this machine only: `tutor ingest` uses it when the API is running.
    Paths must lie under the corpus or TUTOR_INGEST_ROOTS; git URLs must be https, ssh
    or file. Credentials in a URL are used for the clone, never stored or shown."""
    try:
        for path in body.paths:
            check_allowed(path, ingest_roots(svc.settings))
        return svc.jobs.start(body.paths, rebuild=body.rebuild)
    except Forbidden as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except SourceError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except IngestBusy as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc


@router.get("/ingest/{job_id}", dependencies=[Depends(same_machine)])
def ingest_status(job_id: str, svc: ServicesDep) -> dict[str, Any]:
    """An ingest's progress and outcome, whichever worker (or `tutor ingest`) runs it."""
    run = Runs(svc.learners.sessions).get(job_id)
    if run is None:
        raise HTTPException(status_code=404, detail=f"no ingest job {job_id}")
    return run.to_dict()

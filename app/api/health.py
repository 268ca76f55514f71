"""GET /health: what works, what does not and why; it never waits on the model."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ServicesDep
from app.api.schemas import Health
from app.llm.providers import model_label
from app.search.vectors import VectorStoreError

router = APIRouter()


@router.get("/health", response_model=Health)
def health(svc: ServicesDep) -> Health:
    try:
        chunks = svc.store.count()
    except VectorStoreError as exc:
        chunks, status, detail = 0, "degraded", str(exc)
    else:
        status, detail = "ok", "" if chunks else "the index is empty: run `tutor ingest`"
    if svc.usable_learners() is None:
        status, detail = "degraded", "; ".join(filter(None, [detail, svc.learners_error]))
    return Health(
        status=status,
        ready=chunks > 0,
        index_chunks=chunks,
        model_provider=svc.settings.llm_provider,
        model=model_label(svc.settings),
        data_dir=str(svc.settings.data_dir.resolve()),
        chroma_url=svc.settings.chroma_url,
        detail=detail,
        model_queue=svc.gate.load(),
        check_sandbox=svc.sandbox[0],
        check_isolation=svc.sandbox[1],
    )

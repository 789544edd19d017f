"""Liveness (the process answers) and readiness (it can answer questions right now)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import ServiceNotReady, ensure_service
from api.schemas import Health, Ready
from rag.store.chroma import StoreUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Always 200 while the process runs: restarting it would not fix a missing store."""
    return Health()


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"description": "not ready; `detail` says why"}},
)
def readyz(request: Request) -> Ready | JSONResponse:
    """200 when the service is built, the embedder loaded and the store answers a ping."""
    try:
        service = ensure_service(request.app)
    except ServiceNotReady as exc:
        return _not_ready(str(exc))
    embedder = service.components.embedder
    if embedder is None or getattr(embedder, "model", None) is None:
        return _not_ready("embedder not loaded")
    try:
        service.ping()
    except StoreUnavailable as exc:
        return _not_ready(str(exc))
    return Ready(answerers=sorted(service.answerers), default_answerer=service.default_answerer)


def _not_ready(reason: str) -> JSONResponse:
    return JSONResponse(
        status_code=503,
        content={"status": "not ready", "detail": reason},
        headers={"Retry-After": "5"},
    )

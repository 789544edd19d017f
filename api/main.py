"""The HTTP API: ``create_app()`` is the uvicorn factory (``briefqa serve``).

Routers per area (health, ask, chat, documents), typed ``Annotated`` dependencies (api.deps),
one ``Settings`` object. The lifespan builds the embedder, store and ``QAService`` once; tests
pass their own ``settings`` and ``components`` to share a loaded model across apps.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.deps import ServiceNotReady, ensure_service, init_state
from api.errors import BodyLimitMiddleware, install_error_handlers
from api.observability import install_observability
from api.routes import ask, chat, conversations, documents, health, jobs, ui
from api.security import install_security
from rag.components import Components
from rag.config import Settings, get_settings

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return version("briefing-qa")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Build the service before serving; a store outage leaves the app up but not ready."""
    try:
        await run_in_threadpool(ensure_service, app, True)
    except ServiceNotReady as exc:
        log.error("%s; /readyz will report 503 until the store is reachable", exc)
    yield


def create_app(settings: Settings | None = None, components: Components | None = None) -> FastAPI:
    """The FastAPI app; ``components`` (when given) are used instead of building new ones."""
    settings = settings or (components.settings if components else get_settings())
    app = FastAPI(
        title="Briefing QA",
        version=_version(),
        summary="Answers questions over briefing documents with verified, verbatim citations.",
        lifespan=lifespan,
        docs_url=None,  # served by api.routes.ui on local assets (FastAPI's load from a CDN)
        redoc_url=None,
    )
    init_state(app, settings, components)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    install_security(app, settings)  # auth and rate limit, outside the body limit
    install_observability(app)  # outermost: request id, access log, /metrics
    for module in (health, ask, chat, conversations, documents, jobs, ui):
        app.include_router(module.router)
    app.mount(ui.DOCS_ASSETS_URL, ui.docs_files(), name="docs-assets")  # before /static
    app.mount("/static", ui.static_files(), name="static")
    return app

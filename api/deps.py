"""Typed dependencies: everything a route needs comes from ``app.state``, built once per process.

``app.state`` holds ``settings``, ``components``, ``service`` (``QAService``), ``pipeline``
(``IngestPipeline``), ``store_lock`` (``RWLock``), ``jobs`` (background uploads) and
``startup_error``. Uploads hold the store lock's write side only while they commit (the
pipeline takes it), and embed with an embedder of their own, so a question never waits for an
upload's embedding, only for its commit. When the store is down
at startup the app still starts (``/healthz`` stays up, ``/readyz`` says why); the service is
then built on a later request, at most once every ``REBUILD_INTERVAL_S`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from api.errors import ServiceNotReady
from api.jobs import JobQueue, limit_malloc_arenas
from api.observability import observe
from ingest.pipeline import IngestPipeline
from rag.components import Components
from rag.config import Settings
from rag.embed import Embedder
from rag.service import QAService
from rag.store.chroma import EmbedderMismatch, StoreUnavailable

log = logging.getLogger(__name__)

REBUILD_INTERVAL_S = 5.0


class RWLock:
    """Many readers or one writer, so uploads and deletes never interleave with each other
    or with a question, while questions still run side by side.

    A waiting writer holds back new readers, so a steady stream of questions can't starve an
    upload. Not re-entrant, and not owner-bound: a streamed answer takes the read lock in one
    worker thread and releases it in another.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_read(self) -> None:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()

    def read(self) -> AbstractContextManager[None]:
        return _held(self.acquire_read, self.release_read)

    def write(self) -> AbstractContextManager[None]:
        return _held(self.acquire_write, self.release_write)


@contextmanager
def _held(acquire: Callable[[], None], release: Callable[[], None]) -> Iterator[None]:
    acquire()
    try:
        yield
    finally:
        release()


def init_state(app: FastAPI, settings: Settings, components: Components | None) -> None:
    """Put the (not yet built) runtime on ``app.state``; the lifespan builds it."""
    state = app.state
    state.settings = settings
    state.components = components
    state.service = None
    state.pipeline = None
    state.store_lock = RWLock()
    state.jobs = JobQueue(nice=settings.ingest_nice)
    limit_malloc_arenas()
    state.startup_error = None
    state.build_lock = threading.Lock()
    state.last_build_attempt = 0.0


def ensure_service(app: FastAPI, force: bool = False) -> QAService:
    """Build components, service and pipeline if missing; blocking, so call it off the loop.

    Raises ``ServiceNotReady`` with the reason when the store is unreachable. Other failures
    (a bad answerer configuration, a missing model) propagate: they are bugs to fix, not
    conditions to wait out.
    """
    state = app.state
    if state.service is not None:
        return state.service
    with state.build_lock:
        if state.service is not None:
            return state.service
        now = time.monotonic()
        if not force and now - state.last_build_attempt < REBUILD_INTERVAL_S:
            raise ServiceNotReady(f"service not ready: {state.startup_error}")
        state.last_build_attempt = now
        from rag.answer.registry import build_answerers
        from rag.components import build_components

        settings: Settings = state.settings
        try:
            components = state.components or build_components(settings)
        except (StoreUnavailable, EmbedderMismatch) as exc:
            state.startup_error = str(exc)
            log.error("service not ready: %s", exc)
            raise ServiceNotReady(f"service not ready: {exc}") from exc
        state.components = components
        pipeline = IngestPipeline(
            settings, components.store, ingest_embedder(components), components.bm25
        )
        pipeline.commit_guard = state.store_lock.write
        pipeline.sync_on_commit = True
        pipeline.repair_whole_store = False  # uploads check only what they write
        state.pipeline = pipeline
        # warm: a local model evaluates its static prompt prefix now, not on the first question.
        answerers = build_answerers(settings, warm=True)
        state.service = QAService(components, answerers)
        # /metrics and the access log hear of every answer, upload and delete.
        observe(state.service, pipeline, getattr(state, "metrics", None))
        state.startup_error = None
        return state.service


_ingest_embedders: dict[tuple[str, str], Embedder] = {}
_ingest_embedders_lock = threading.Lock()


def ingest_embedder(components: Components) -> Embedder:
    """An embedder for uploads beside the one questions use (same backend and model).

    The embedder serialises its calls; sharing it would make a question wait for a whole
    batch of an upload's chunks. One per backend and process (tests build many apps).
    """
    query = components.embedder
    settings = components.settings
    key = (query.backend, settings.embedder_path)
    with _ingest_embedders_lock:
        found = _ingest_embedders.get(key)
        if found is None:
            found = Embedder(settings.model_copy(update={"embed_backend": query.backend}))
            _ingest_embedders[key] = found
        return found


# --- dependencies -------------------------------------------------------------------------
# The ones that may build the service are plain ``def``, so FastAPI runs them in the
# threadpool and a lazy rebuild never blocks the event loop.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_service(request: Request) -> QAService:
    return ensure_service(request.app)


def get_pipeline(request: Request) -> IngestPipeline:
    ensure_service(request.app)
    return request.app.state.pipeline


async def get_store_lock(request: Request) -> RWLock:
    return request.app.state.store_lock


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[QAService, Depends(get_service)]
PipelineDep = Annotated[IngestPipeline, Depends(get_pipeline)]
StoreLockDep = Annotated[RWLock, Depends(get_store_lock)]

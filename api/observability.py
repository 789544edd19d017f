"""Request ids, one JSON access-log line per request, and Prometheus metrics at ``/metrics``.

- Request id: an incoming ``X-Request-ID`` is kept when it is a plain token (so a caller can
  follow one request across services), else one is generated; it is echoed in the response's
  ``X-Request-ID`` and is in every access-log line.
- Access log (logger ``briefqa.access``, JSON to stderr): method, path, route, status,
  duration_ms, request_id, key_id (a hash, never the key), client, and for answers the
  answerer and whether it abstained.
- Metrics, per app (own registry, so several apps in one process don't collide): requests by
  route and status, latency histograms, answers by answerer, abstentions, ingested documents
  and chunks, and the store size as of the last BM25 sync (read from memory, so a scrape never
  touches Chroma).

Answer and ingest numbers come from thin subclasses of ``QAService`` and ``IngestPipeline``
that ``api.deps`` builds, so the routes stay unaware of any of this.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.datastructures import MutableHeaders
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.pipeline import IngestPipeline, IngestReport
from rag.schema import AnswerResult
from rag.service import QAService

ACCESS_LOGGER = "briefqa.access"
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

request_id_var: ContextVar[str | None] = ContextVar("briefqa_request_id", default=None)
# Per-request scratch the answer/ingest hooks fill in for the access log. A dict, not values:
# sync routes run in worker threads on a *copy* of the context, but share this same object.
_request_info: ContextVar[dict[str, Any] | None] = ContextVar("briefqa_request_info", default=None)

log = logging.getLogger(ACCESS_LOGGER)


# Counters fed by the service hooks: (attribute, metric name, help, labels).
_COUNTERS = (
    (
        "answers",
        "briefqa_answers",
        "Answers by answerer ('extractive (fallback)' when an LLM failed or timed out).",
        ("answerer",),
    ),
    ("abstentions", "briefqa_abstentions", "Questions answered with the refusal.", ()),
    (
        "ingest_documents",
        "briefqa_ingest_documents",
        "Documents seen by API ingests and deletes, by outcome.",
        ("outcome",),
    ),
    ("ingest_chunks", "briefqa_ingest_chunks", "Chunks embedded and written by API ingests.", ()),
)


# --- metrics --------------------------------------------------------------------------------
class Metrics:
    """The app's Prometheus metrics, in a registry of its own."""

    answers: Counter
    abstentions: Counter
    ingest_documents: Counter
    ingest_chunks: Counter

    def __init__(self, app: FastAPI | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "briefqa_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "briefqa_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        for attr, name, doc, labels in _COUNTERS:
            setattr(self, attr, Counter(name, doc, labels, registry=r))
        if app is not None:
            r.register(_StoreCollector(app))

    def observe_answer(self, result: AnswerResult) -> None:
        self.answers.labels(result.answerer).inc()
        if result.abstained:
            self.abstentions.inc()

    def observe_ingest(self, report: IngestReport) -> None:
        for outcome, n in (
            ("new", report.new),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("removed", report.removed),
            ("skipped", len(report.skipped)),
        ):
            if n:
                self.ingest_documents.labels(outcome).inc(n)
        self.ingest_chunks.inc(report.chunks_written)


class _StoreCollector(Collector):
    """Store size from the in-memory BM25 index (all committed chunks as of its last sync)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterable[GaugeMetricFamily]:
        components = getattr(self.app.state, "components", None)
        bm25 = getattr(components, "bm25", None)
        chunks = bm25.live_chunks() if bm25 is not None else []
        ready = GaugeMetricFamily("briefqa_service_ready", "1 once the QA service is built.")
        ready.add_metric([], 1.0 if getattr(self.app.state, "service", None) else 0.0)
        yield ready
        if bm25 is None:
            return
        docs = GaugeMetricFamily("briefqa_store_documents", "Documents with chunks in the index.")
        docs.add_metric([], float(len({c.doc_id for c in chunks})))
        yield docs
        count = GaugeMetricFamily("briefqa_store_chunks", "Chunks in the index.")
        count.add_metric([], float(len(chunks)))
        yield count


def _note(**fields: Any) -> None:
    info = _request_info.get()
    if info is not None:
        info.update(fields)


def observe(service: QAService, pipeline: IngestPipeline, metrics: Metrics | None) -> None:
    """Count answers, uploads and deletes for ``/metrics``, and tell the access log who
    answered and what was ingested (hooks on the service and the pipeline)."""

    def answered(result: AnswerResult) -> None:
        _note(answerer=result.answerer, abstained=result.abstained)
        if metrics is not None:
            metrics.observe_answer(result)

    def ingested(report: IngestReport) -> None:
        if metrics is not None:
            metrics.observe_ingest(report)
        _note(ingested=len(report.doc_ids), chunks_written=report.chunks_written)

    def deleted(_doc_id: str) -> None:
        if metrics is not None:
            metrics.ingest_documents.labels("deleted").inc()

    service.on_answer.append(answered)
    pipeline.on_ingest.append(ingested)
    pipeline.on_delete.append(deleted)


# --- access log -----------------------------------------------------------------------------
class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(payload, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it per test)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_access_log() -> None:
    """JSON lines on stderr for ``briefqa.access`` unless someone configured it already."""
    if not log.handlers:
        handler = _StderrHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.propagate = False  # the root handler's plain format would garble the JSON
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_templates(app: FastAPI) -> list[tuple[re.Pattern[str], str]]:
    """Every route's path template with its regex, for requests refused before routing."""
    try:  # FastAPI nests included routers; this walks them (pinned FastAPI, checked by tests)
        from fastapi.routing import iter_route_contexts

        paths = [str(c.path) for c in iter_route_contexts(app.router.routes)]
    except Exception:  # pragma: no cover - a FastAPI without it: top-level routes only
        paths = [str(getattr(r, "path", "")) for r in app.router.routes]
    return [(compile_path(p)[0], p) for p in dict.fromkeys(paths) if p]


def route_label(scope: Scope, templates: list[tuple[re.Pattern[str], str]]) -> str:
    """The matched route's path template (bounded label values), or ``unmatched``.

    Requests refused before routing (401, 429) are matched against ``templates`` here, so
    they count per route too.
    """
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return str(route.path)
    path = scope.get("path", "")
    return next((label for regex, label in templates if regex.match(path)), "unmatched")


class ObservabilityMiddleware:
    """Outermost middleware: request id, timing, access log and request metrics."""

    def __init__(self, app: ASGIApp, owner: FastAPI, metrics: Metrics) -> None:
        self.app = app
        self.owner = owner
        self.metrics = metrics
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        info: dict[str, Any] = {}
        rid_token = request_id_var.set(rid)
        info_token = _request_info.set(info)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "")
            if self._templates is None:  # routes are all added by the first request
                self._templates = route_templates(self.owner)
            route = route_label(scope, self._templates)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            client = scope.get("client")
            fields = {
                "method": method,
                "path": scope.get("path", ""),
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
                "request_id": rid,
                "key_id": scope.get("state", {}).get("key_id"),
                "client": client[0] if client else None,
                "answerer": info.get("answerer"),
                "abstained": info.get("abstained"),
            }
            extra = {k: v for k, v in info.items() if k not in fields}
            level = logging.ERROR if status >= 500 else logging.INFO
            log.log(level, "request", extra={"fields": {**fields, **extra}})
            _request_info.reset(info_token)
            request_id_var.reset(rid_token)


# --- wiring ---------------------------------------------------------------------------------
router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format; needs a key like any API route when auth is on."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install_observability(app: FastAPI) -> Metrics:
    """Metrics on ``app.state.metrics``, ``/metrics``, and the outermost middleware."""
    configure_access_log()
    app.state.metrics = Metrics(app)
    app.include_router(router)
    app.add_middleware(ObservabilityMiddleware, owner=app, metrics=app.state.metrics)
    return app.state.metrics

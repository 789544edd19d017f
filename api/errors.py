"""Every error leaves the API as JSON ``{"detail": "<one readable sentence>"}``.

Storage trouble says what to fix: a full data directory is 507, a read-only one 503, each with
a message and one log line (no traceback). A response never carries the store's own error text
(SQL, file paths, stack details): that goes to the log; the client gets the kind of failure.
Also the request-body limit: a pure ASGI middleware, so an oversized upload is refused from its
``Content-Length`` before any route work, and a body without one is cut off while it is read.
"""

from __future__ import annotations

import errno
import logging
import math
import shutil
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.store.chroma import StoreUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER_S = "5"


class ServiceNotReady(RuntimeError):
    """The QA service could not be built (yet); the API maps this to 503."""


def invalid(loc: tuple[str | int, ...], msg: str, value: Any = None) -> RequestValidationError:
    """A 422 for checks that depend on settings (limits), shaped like pydantic's own errors."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": msg, "input": value}])


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 with a readable ``detail`` string; pydantic's structured list stays in ``errors``."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    return JSONResponse(
        status_code=422,
        content={"detail": _describe(errors), "errors": _json_safe(jsonable_encoder(errors))},
    )


def _json_safe(value: Any) -> Any:
    """Strict JSON can't carry the NaN/Infinity Python's parser accepts (``"top_k": NaN``);
    echoing such an input back must not turn a 422 into a 500."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


# Disk trouble surfaces as OSError from our own files (BM25) or as sqlite text inside Chroma's
# errors; both deserve a message saying what to fix rather than "try again shortly".
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
_FULL_TEXT = ("database or disk is full", "no space left on device", "disk quota exceeded")
_READ_ONLY_TEXT = ("readonly database", "read-only file system")
LOW_DISK_BYTES = 8 * 1024 * 1024


def storage_problem(exc: BaseException | str) -> tuple[int, str] | None:
    """(status, message) when ``exc`` (or its cause) is a full or read-only data directory."""
    seen: list[BaseException | str] = []
    current: BaseException | str | None = exc
    while current is not None and len(seen) < 8:
        seen.append(current)
        current = (
            current.__cause__ or current.__context__ if isinstance(current, BaseException) else None
        )
    for item in seen:
        code = getattr(item, "errno", None)
        text = str(item).lower()
        if code in _FULL_ERRNOS or any(t in text for t in _FULL_TEXT):
            return 507, (
                "Insufficient storage: the data directory is full, so the change was not "
                "stored; free some disk space and retry."
            )
        if code in _READ_ONLY_ERRNOS or any(t in text for t in _READ_ONLY_TEXT):
            return 503, (
                "The data directory is read-only, so the store cannot be written; make it "
                "writable (or point BRIEFQA_DATA_DIR elsewhere) and retry."
            )
    return None


def low_disk(request: Request) -> tuple[int, str] | None:
    """Chroma doesn't always say why a write failed ("Error in compaction"); an embedded store
    whose disk is nearly full is the likely reason, so say so."""
    settings = getattr(request.app.state, "settings", None)
    if settings is None or settings.chroma_url:
        return None
    try:
        free = shutil.disk_usage(settings.data_dir).free
    except OSError:
        return None
    if free >= LOW_DISK_BYTES:
        return None
    return 507, (
        f"Insufficient storage: only {free // 1024} KiB left where the data directory is, so "
        "the change was not stored; free some disk space and retry."
    )


def _storage_response(request: Request, problem: tuple[int, str]) -> JSONResponse:
    status, detail = problem
    log.error("storage problem during %s %s: %s", request.method, request.url.path, detail)
    return JSONResponse(status_code=status, content={"detail": detail})


_UNAVAILABLE = "Chroma store unavailable"
# The kinds of store failure a client may be told about, by the text that shows them.
_PUBLIC_REASONS = (
    ("timed out", "timed out"),
    ("timeout", "timed out"),
    ("connection refused", "connection refused"),
    ("could not connect", "cannot connect"),
    ("connect", "cannot connect"),
)


def public_reason(exc: BaseException) -> str | None:
    """A fixed phrase naming the kind of store failure, or ``None``: never the store's text."""
    text = " ".join(str(e).lower() for e in _chain(exc))
    return next((reason for needle, reason in _PUBLIC_REASONS if needle in text), None)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


async def store_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    problem = storage_problem(exc) or low_disk(request)
    if problem is not None:
        log.error("store error during %s %s: %s", request.method, request.url.path, exc)
        return _storage_response(request, problem)
    log.error("store unavailable during %s %s: %s", request.method, request.url.path, exc)
    return _unavailable("The document store is unavailable; try again shortly", exc, ".")


def _unavailable(message: str, exc: BaseException, end: str = "") -> JSONResponse:
    """A 503 with Retry-After; the store's reason is added only where it is safe to show."""
    reason = public_reason(exc)
    return _retry_later(message + (f" ({reason}){end}" if reason else end))


def _retry_later(detail: str) -> JSONResponse:
    return JSONResponse(
        status_code=503, content={"detail": detail}, headers={"Retry-After": RETRY_AFTER_S}
    )


async def os_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A full or read-only disk gets its own status and message; anything else is a 500."""
    problem = storage_problem(exc)
    if problem is not None:
        log.error("storage error during %s %s: %s", request.method, request.url.path, exc)
        return _storage_response(request, problem)
    return await unexpected_error_handler(request, exc)


async def not_ready_handler(request: Request, exc: Exception) -> JSONResponse:
    problem = storage_problem(str(exc))
    detail = f"service not ready: {problem[1]}" if problem else str(exc)
    if problem is None and _UNAVAILABLE in detail:  # the rest would be Chroma's own text
        return _unavailable("service not ready: the document store is unavailable", exc)
    return _retry_later(detail)


async def recursion_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Absurdly nested input (``[[[[...`` in a JSONL upload) exhausts the parser's recursion;
    that is the client's input, not a server fault."""
    log.warning("input nested too deeply in %s %s", request.method, request.url.path)
    return JSONResponse(status_code=400, content={"detail": "input nested too deeply to parse"})


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: JSON instead of Starlette's plain-text 500 (the traceback goes to the log)."""
    log.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StoreUnavailable, store_unavailable_handler)
    app.add_exception_handler(ServiceNotReady, not_ready_handler)
    app.add_exception_handler(OSError, os_error_handler)
    app.add_exception_handler(RecursionError, recursion_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)


def too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes"


class BodyLimitMiddleware:
    """413 for request bodies over ``max_body_bytes``: by header first, then by bytes read."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            response = JSONResponse(status_code=413, content={"detail": too_large(self.limit)})
            await response(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Raised inside the route's body read, so the exception middleware answers.
                    raise HTTPException(status_code=413, detail=too_large(self.limit))
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None

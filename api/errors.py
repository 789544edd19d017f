"""Every error leaves the API as JSON ``{"detail": "<one readable sentence>"}``.

Also the request-body limit: a pure ASGI middleware, so an oversized upload is refused from its
``Content-Length`` before any route work, and a body without one is cut off while it is read.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import ServiceNotReady
from rag.store.chroma import StoreUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER_S = "5"


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
        content={"detail": _describe(errors), "errors": jsonable_encoder(errors)},
    )


async def store_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("store unavailable during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=503,
        content={"detail": f"The document store is unavailable; try again shortly. ({exc})"},
        headers={"Retry-After": RETRY_AFTER_S},
    )


async def not_ready_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=503, content={"detail": str(exc)}, headers={"Retry-After": RETRY_AFTER_S}
    )


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: JSON instead of Starlette's plain-text 500 (the traceback goes to the log)."""
    log.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StoreUnavailable, store_unavailable_handler)
    app.add_exception_handler(ServiceNotReady, not_ready_handler)
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

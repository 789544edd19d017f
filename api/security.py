"""Optional API keys and a per-client rate limit, as one pure ASGI middleware.

Auth is off until ``api_keys`` or ``admin_keys`` is set. Then every request needs
``Authorization: Bearer <key>``, except the probes (``/healthz``, ``/readyz``) and the static
UI pages (``/``, ``/eval``, ``/static/*``): shells with no data, which send the key on their
API calls themselves.
Writes (POST/DELETE under ``/v1/documents``) need an admin key when admin keys are configured.

Keys are compared as SHA-256 digests with ``hmac.compare_digest`` against every configured key
(no early exit), so timing reveals neither a key nor how much of it matched. Logs and metrics
only ever see ``key_id``: a short hash, enough to tell clients apart.

The rate limit is a token bucket per key id (per client IP when auth is off), in memory: each
API replica limits on its own, which is enough to stop one client from starving the others.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.config import Settings

PUBLIC_PATHS = frozenset({"/", "/eval", "/healthz", "/readyz", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITE_PREFIX = "/v1/documents"
REALM = 'Bearer realm="briefing-qa"'


def key_id(key: str) -> str:
    """What logs and metrics see instead of a key: 8 hex digits of its SHA-256."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_write(method: str, path: str) -> bool:
    return method in WRITE_METHODS and (path == WRITE_PREFIX or path.startswith(WRITE_PREFIX + "/"))


@dataclass(frozen=True)
class Identity:
    """Who is calling: ``key_id`` when authenticated, else ``None``; ``admin`` may write."""

    key_id: str | None
    admin: bool


class KeyRing:
    """The configured keys, held only as digests."""

    def __init__(self, api_keys: list[str], admin_keys: list[str]) -> None:
        self._admins = [self._digest(k) for k in admin_keys]
        self._all = [self._digest(k) for k in api_keys] + self._admins
        self.admin_required = bool(admin_keys)

    @property
    def enabled(self) -> bool:
        return bool(self._all)

    @staticmethod
    def _digest(key: str) -> bytes:
        return hashlib.sha256(key.encode()).digest()

    def lookup(self, key: str) -> Identity | None:
        """The identity for ``key``, or ``None`` if it is unknown; constant time in the key."""
        digest = self._digest(key)
        known = admin = False
        for i, candidate in enumerate(self._all):
            match = hmac.compare_digest(digest, candidate)
            known |= match
            admin |= match and i >= len(self._all) - len(self._admins)
        if not known:
            return None
        return Identity(key_id(key), admin or not self.admin_required)


class TokenBucket:
    """``rate`` tokens per second up to ``capacity``, per identity; thread-safe."""

    MAX_CLIENTS = 10_000  # beyond this, full (idle) buckets are forgotten

    def __init__(
        self, per_minute: int, burst: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst and burst > 0 else per_minute)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # identity -> (tokens, last time)
        self._lock = threading.Lock()

    def take(self, identity: str) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(identity, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[identity] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[identity] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > self.MAX_CLIENTS:
                self._forget_idle(now)
        return wait

    def _forget_idle(self, now: float) -> None:
        for ident, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= self.capacity:
                del self._buckets[ident]


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


class SecurityMiddleware:
    """401/403 for missing, unknown or under-privileged keys; 429 over the rate limit.

    Runs before the body is read, so a refused client never costs an upload or an embedding.
    Sets ``scope["state"]["key_id"]`` for the access log.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.keys = KeyRing(settings.api_keys, settings.admin_keys)
        per_minute = settings.rate_limit_per_minute
        self.limiter = (
            TokenBucket(per_minute, settings.rate_limit_burst) if per_minute > 0 else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        identity = Identity(None, True)
        if self.keys.enabled and not is_public(path):
            token = _bearer(scope)
            if token is None:
                await _refuse(scope, receive, send, 401, _missing_key())
                return
            found = self.keys.lookup(token)
            if found is None:
                await _refuse(scope, receive, send, 401, _unknown_key())
                return
            identity = found
            scope.setdefault("state", {})["key_id"] = identity.key_id
            if is_write(method, path) and not identity.admin:
                detail = "this operation needs an admin key (BRIEFQA_ADMIN_KEYS)"
                await _refuse(scope, receive, send, 403, (detail, {}))
                return
        if self.limiter is not None and path not in UNLIMITED_PATHS and not is_public(path):
            who = identity.key_id or _client_ip(scope)
            wait = self.limiter.take(who)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                detail = (
                    f"rate limit exceeded ({self.limiter.rate * 60:g} requests per minute); "
                    f"retry in {retry} s"
                )
                headers = {"Retry-After": str(retry)}
                await _refuse(scope, receive, send, 429, (detail, headers))
                return
        await self.app(scope, receive, send)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, body: tuple[str, dict[str, str]]
) -> None:
    detail, headers = body
    response = JSONResponse(status_code=status, content={"detail": detail}, headers=headers)
    await response(scope, receive, send)


def _missing_key() -> tuple[str, dict[str, str]]:
    return (
        "missing API key: send 'Authorization: Bearer <key>'",
        {"WWW-Authenticate": REALM},
    )


def _unknown_key() -> tuple[str, dict[str, str]]:
    return (
        "unknown API key",
        {"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
    )


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return f"ip-{client[0]}" if client else "ip-unknown"


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the middleware and, when auth is on, declare bearer auth in the OpenAPI schema."""
    app.add_middleware(SecurityMiddleware, settings=settings)
    if not KeyRing(settings.api_keys, settings.admin_keys).enabled:
        return
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["bearerAuth"] = {"type": "http", "scheme": "bearer"}
        schema["security"] = [{"bearerAuth": []}]
        for path, operations in schema.get("paths", {}).items():
            if is_public(path):
                for operation in operations.values():
                    operation["security"] = []
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

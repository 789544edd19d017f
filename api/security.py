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
Wrong keys have a bucket of their own per client IP; once it is empty, every authenticated
request from that IP is 429 (a right key too) until it refills, so keys can't be guessed.

The client IP is the TCP peer. ``X-Forwarded-For`` is believed only when the peer is one of
``trusted_proxies`` (none by default), so a header anyone can send never picks a bucket or the
logged client; ``briefqa serve`` turns uvicorn's own proxy-header handling off for the same
reason (``SERVER_OPTIONS``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.config import Settings

PUBLIC_PATHS = frozenset({"/", "/eval", "/healthz", "/readyz", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
UNLIMITED_PREFIXES = ("/v1/jobs/",)  # polling a job is a dict lookup; clients poll often
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITE_PREFIX = "/v1/documents"
REALM = 'Bearer realm="briefing-qa"'
# uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; this app decides that itself.
SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def key_id(key: str) -> str:
    """What logs and metrics see instead of a key: 8 hex digits of its SHA-256."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]


def caller(request: Request) -> str | None:
    """The calling key's id, set by ``APIKeyMiddleware`` when auth is on; None without auth.
    What a key stores (conversations, upload jobs) belongs to this id."""
    return getattr(request.state, "key_id", None)


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

    def wait(self, identity: str) -> float:
        """Seconds until ``identity`` has a token (0.0: it has one now), without spending."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(identity, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

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


def _unlimited(path: str) -> bool:
    return path in UNLIMITED_PATHS or path.startswith(UNLIMITED_PREFIXES) or is_public(path)


def trusted_networks(entries: list[str]) -> list[IPNetwork]:
    """``["10.0.0.0/8", "127.0.0.1"]`` -> networks; a bad entry is a configuration error."""
    try:
        return [ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip()]
    except ValueError as exc:
        raise ValueError(f"BRIEFQA_TRUSTED_PROXIES: {exc}") from exc


def _in(host: str, networks: list[IPNetwork]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in networks)


def client_host(peer: str | None, forwarded_for: list[str], trusted: list[IPNetwork]) -> str | None:
    """The client's address: the peer, unless the peer is a trusted proxy; then the right-most
    ``X-Forwarded-For`` hop that is not itself a trusted proxy (hops left of it are the
    client's own claims)."""
    if peer is None or not _in(peer, trusted):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _forwarded_for(scope: Scope) -> list[str]:
    return [v.decode("latin-1") for n, v in scope.get("headers", ()) if n == b"x-forwarded-for"]


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
    Sets ``scope["client"]`` to the resolved client address and ``scope["state"]["key_id"]``,
    both for the access log.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.keys = KeyRing(settings.api_keys, settings.admin_keys)
        self.trusted = trusted_networks(settings.trusted_proxies)
        per_minute = settings.rate_limit_per_minute
        self.limiter = (
            TokenBucket(per_minute, settings.rate_limit_burst) if per_minute > 0 else None
        )
        failures = settings.auth_failures_per_minute
        self.failures = TokenBucket(failures) if failures > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        peer = scope.get("client")
        host = client_host(peer[0] if peer else None, _forwarded_for(scope), self.trusted)
        if peer and host != peer[0]:
            scope["client"] = (host, 0)
        ip = f"ip-{host}" if host else "ip-unknown"
        identity = Identity(None, True)
        if self.keys.enabled and not is_public(path):
            if self.failures is not None and (wait := self.failures.wait(ip)) > 0:
                await _refuse(scope, receive, send, 429, _too_many_failures(wait))
                return
            token = _bearer(scope)
            found = self.keys.lookup(token) if token is not None else None
            if found is None:
                if self.failures is not None and token is not None:  # a guess, not a bare call
                    self.failures.take(ip)
                refusal = _missing_key() if token is None else _unknown_key()
                await _refuse(scope, receive, send, 401, refusal)
                return
            identity = found
            scope.setdefault("state", {})["key_id"] = identity.key_id
            if is_write(method, path) and not identity.admin:
                detail = "this operation needs an admin key (BRIEFQA_ADMIN_KEYS)"
                await _refuse(scope, receive, send, 403, (detail, {}))
                return
        if self.limiter is not None and not _unlimited(path):
            who = identity.key_id or ip
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


def _too_many_failures(wait: float) -> tuple[str, dict[str, str]]:
    retry = max(1, math.ceil(wait))
    return (
        f"too many failed authentications from this address; retry in {retry} s",
        {"Retry-After": str(retry)},
    )


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

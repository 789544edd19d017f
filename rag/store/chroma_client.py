"""The connection under ``ChromaStore``: one client and its three collections, every call
mapping connection loss to ``StoreUnavailable``, and an embedded engine replaced after a
failed write."""

from __future__ import annotations

import threading
import weakref
from typing import Any
from urllib.parse import urlparse

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import InvalidArgumentError

from rag.config import Settings
from rag.store import lock as store_lock

_WRITES = frozenset({"add", "upsert", "update", "delete"})
DUMMY_VECTOR = [1.0]  # doc/state records are fetched by id, never by similarity
BATCH = 2000  # Chroma caps what one get returns


class StoreUnavailable(RuntimeError):
    """Chroma cannot be reached; the API maps this to 503."""


class StoreInUse(StoreUnavailable):
    """Another process has the embedded store open (``rag.store.lock``)."""


class EmbedderMismatch(ValueError):
    """The store holds vectors of another embedding backend than the one loaded."""


def make_client(settings: Settings) -> chromadb.ClientAPI:
    """Embedded persistent Chroma by default; a Chroma server when ``chroma_url`` is set."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        client = chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
        _bound_http_timeout(client, settings.chroma_timeout_s)
        return client
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


def _bound_http_timeout(client: chromadb.ClientAPI, seconds: float) -> None:
    """Give chromadb's httpx session a timeout (it has none), so a frozen server fails fast.

    Reconnecting needs nothing else: httpx opens a new connection per request once the old one
    is gone, so the same client works again as soon as the server is back on its address.
    """
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client) and seconds > 0:
        session.timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _forget_embedded_system(path: str) -> None:
    """Make chromadb open a new engine for ``path`` next time (its cache is process-wide)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
    except (ImportError, AttributeError):  # pragma: no cover - another chromadb layout
        pass


class ChromaClient:
    """The client and collections (``chunks``, ``docs``, ``state``) the store's parts share."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.collection
        self._broken = False  # an embedded write failed: open a fresh client before the next call
        self._reconnect_lock = threading.Lock()
        if not settings.chroma_url:  # one process per embedded store (rag/store/lock.py)
            try:
                key = store_lock.acquire(settings.chroma_path)
            except store_lock.StoreLocked as exc:
                raise StoreInUse(str(exc)) from None
            self._unlock = weakref.finalize(self, store_lock.release, key)
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Let other processes open the embedded store (once no store here uses it)."""
        unlock = getattr(self, "_unlock", None)
        if unlock is not None:
            unlock()

    def _connect(self) -> None:
        try:
            self.client = make_client(self.settings)
            self.chunks = self.client.get_or_create_collection(
                self.name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
            self.docs = self.client.get_or_create_collection(
                f"{self.name}__docs", embedding_function=None
            )
            self.state = self.client.get_or_create_collection(
                f"{self.name}__state", embedding_function=None
            )
        except InvalidArgumentError as exc:  # a configuration mistake, not an outage
            raise ValueError(f"invalid Chroma collection '{self.name}': {exc}") from exc
        except Exception as exc:  # chromadb raises several unrelated types on connect
            raise StoreUnavailable(f"Chroma store unavailable: {exc}") from exc

    def _reconnect(self) -> None:
        """Replace an embedded client whose write failed (e.g. disk full) with a fresh one.

        chromadb keeps one engine per path for the whole process, and after a failed write
        that engine can block the next write for many minutes, even once space is freed.
        Dropping it from chromadb's cache (not stopping it: that could block too) makes
        ``make_client`` open a new one. Raises ``StoreUnavailable`` while that still fails.
        """
        with self._reconnect_lock:
            if not self._broken:
                return
            _forget_embedded_system(str(self.settings.chroma_path))
            self._connect()
            self._broken = False

    def ping(self) -> None:
        if self._broken:
            self._reconnect()
        try:
            self.client.heartbeat()
        except Exception as exc:
            raise StoreUnavailable(f"Chroma store unavailable: {exc}") from exc

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._broken:
            fn = self._rebind(fn)
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, KeyError):
            raise
        except Exception as exc:
            if not self.settings.chroma_url and getattr(fn, "__name__", "") in _WRITES:
                self._broken = True
            raise StoreUnavailable(f"Chroma store unavailable: {exc}") from exc

    def _rebind(self, fn: Any) -> Any:
        """Reconnect, then point ``fn`` (a bound collection method) at the new collection."""
        old = {id(c): name for name, c in (("chunks", self.chunks), ("docs", self.docs))}
        old[id(self.state)] = "state"
        self._reconnect()
        owner = old.get(id(getattr(fn, "__self__", None)))
        return getattr(getattr(self, owner), fn.__name__) if owner else fn

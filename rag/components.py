"""Build the long-lived pieces once per process and hand them to ingest and query code."""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import Settings
from rag.embed import Embedder, resolve_backend
from rag.store.base import Store
from rag.store.bm25 import BM25Index
from rag.store.chroma import ChromaStore


@dataclass
class Components:
    settings: Settings
    store: Store
    embedder: Embedder
    bm25: BM25Index


def build_components(settings: Settings, embedder: Embedder | None = None) -> Components:
    """Connect to the store, load the embedder, and bring BM25 up to the store's generation.

    An embedder can be passed in so tests and evals load the model once for many stores.
    ``embed_backend = "auto"`` follows the store (the backend that filled it), so upgrading
    never strands a store; a named backend the store wasn't built with raises
    ``EmbedderMismatch``, checked before the model loads (a refused store costs no load).
    """
    store = ChromaStore(settings)
    if embedder is None:
        backend = settings.embed_backend
        if backend == "auto":  # the store's own backend, or any when it is empty: no check
            backend = store.stored_embedder() or resolve_backend("auto")
        else:
            store.check_embedder(backend)
        embedder = Embedder(settings.model_copy(update={"embed_backend": backend}))
    else:
        store.check_embedder(embedder.backend)
    bm25 = BM25Index(settings.bm25_path / settings.collection)
    bm25.sync(store)
    return Components(settings, store, embedder, bm25)

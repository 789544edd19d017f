"""Build the long-lived pieces once per process and hand them to ingest and query code."""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import Settings
from rag.embed import Embedder, resolve_backend
from rag.store.bm25 import BM25Index
from rag.store.chroma import ChromaStore


@dataclass
class Components:
    settings: Settings
    store: ChromaStore
    embedder: Embedder
    bm25: BM25Index


def build_components(settings: Settings, embedder: Embedder | None = None) -> Components:
    """Connect to the store, load the embedder, and bring BM25 up to the store's generation.

    An embedder can be passed in so tests and evals load the model once for many stores.
    Raises ``EmbedderMismatch`` when the store holds another backend's vectors.
    """
    store = ChromaStore(settings)
    # Checked before the model loads, so a refused store costs no load (the API retries).
    store.check_embedder(embedder.backend if embedder else resolve_backend(settings.embed_backend))
    embedder = embedder or Embedder(settings)
    bm25 = BM25Index(settings.bm25_path / settings.collection)
    bm25.sync(store)
    return Components(settings, store, embedder, bm25)

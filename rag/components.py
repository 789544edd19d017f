"""Build the long-lived pieces once per process and hand them to ingest and query code."""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import Settings
from rag.embed import Embedder
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
    embedder = embedder or Embedder(settings)
    store.check_embedder(embedder.backend)
    bm25 = BM25Index(settings.bm25_path / settings.collection)
    bm25.sync(store)
    return Components(settings, store, embedder, bm25)

"""All persistent state lives in Chroma, so API replicas sharing a Chroma server stay stateless.

Three collections:
- ``<name>``: chunks (our own MiniLM vectors, text, offsets, doc metadata, content hash, and
  ``text_hash``, the key ``vectors_for`` reuses a stored vector by);
- ``<name>__docs``: one record per document holding its cleaned text; written *after* its
  chunks, so it is the commit marker. A version's chunks have ids of their own
  (``doc:index@hash``), so a replace never overwrites the version that answers: the new chunks
  go in beside the old, the record switches to the new hash in one upsert, then the old chunks
  are deleted. Readers (``query``, ``all_chunks``) return only chunks whose hash is their
  record's, so until the commit the old version answers, after it the new one, and a crash at
  any point leaves exactly one of them (plus orphans ``repair`` deletes);
- ``<name>__state``: a generation token bumped on every change, written with a change record
  naming the documents it changed, so BM25 indexes in any process know they are behind and
  re-read only those documents (``changes_since``); and the embedding backend whose vectors
  fill the store (torch and onnx-int8 vectors are close, not equal, so a store never mixes them).
We always pass embeddings: Chroma's default embedder would try to download a model.
"""

from __future__ import annotations

from rag.store.chroma_client import (
    _WRITES,
    ChromaClient,
    EmbedderMismatch,
    StoreInUse,
    StoreUnavailable,
    make_client,
)
from rag.store.chroma_documents import ChromaDocuments
from rag.store.chroma_generations import ChromaGenerations
from rag.store.chroma_records import (
    ChunkRecord,
    Consistency,
    chroma_where,
    chunk_id,
    date_number,
    text_hash,
)
from rag.store.chroma_vectors import ChromaVectors

__all__ = [
    "_WRITES",
    "ChromaClient",
    "ChromaStore",
    "ChromaVectors",
    "ChunkRecord",
    "Consistency",
    "EmbedderMismatch",
    "StoreInUse",
    "StoreUnavailable",
    "chroma_where",
    "chunk_id",
    "date_number",
    "make_client",
    "text_hash",
]


class ChromaStore(ChromaDocuments, ChromaGenerations):
    """Chunk, document and state records (``rag.store.base.Store``), one module per part:
    ``chroma_vectors`` (chunks), ``chroma_documents`` (records, commit, check), ``chroma_
    generations`` (state), over ``chroma_client`` (the connection)."""

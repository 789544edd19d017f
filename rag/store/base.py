"""What the service and the ingest pipeline need from a store, as Protocols: a second backend
is one new module that satisfies them (``rag/store/chroma.py`` is the first; the test
``tests/rag/store/test_base.py`` checks it does).

- ``VectorIndex``: committed chunks and their vectors (dense search, the embedding cache, what
  BM25 rebuilds from).
- ``DocumentStore``: document records and texts, written so a replace is all or nothing
  (chunks first, then the record, then old chunks out) and checked by ``briefqa doctor``.
- ``Generations``: a token that changes on every commit, so caches (BM25) know when to catch up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rag.schema import DocumentMeta, Filters, RetrievedChunk

if TYPE_CHECKING:
    from rag.store.chroma import ChunkRecord, Consistency

Items = list[tuple[DocumentMeta, str, list["ChunkRecord"]]]


@runtime_checkable
class VectorIndex(Protocol):
    def query(
        self, embedding: Sequence[float], k: int, filters: Filters | None = None
    ) -> list[RetrievedChunk]: ...

    def vectors_for(
        self, hashes: Iterable[str], doc_ids: Iterable[str] = ()
    ) -> dict[str, list[float]]: ...

    def chunks_of(self, doc_ids: Iterable[str]) -> list[RetrievedChunk]: ...

    def all_chunks(self) -> list[RetrievedChunk]: ...

    def committed(self, chunks: list[RetrievedChunk]) -> list[RetrievedChunk]: ...

    def count_chunks(self) -> int: ...

    def stored_embedder(self) -> str | None: ...

    def check_embedder(self, backend: str, record: bool = False) -> None: ...


@runtime_checkable
class DocumentStore(Protocol):
    def list_documents(self) -> list[DocumentMeta]: ...

    def get_documents(self, doc_ids: Iterable[str]) -> dict[str, tuple[DocumentMeta, str]]: ...

    def document_hashes(self) -> dict[str, str]: ...

    def count_undated(self, filters: Filters) -> int: ...

    def write_chunks(self, items: Items) -> None: ...

    def commit(self, items: Items) -> None: ...

    def drop_superseded(self, items: Items, replacing: set[str] | None = None) -> None: ...

    def delete_document(self, doc_id: str) -> bool: ...

    def check(self, doc_ids: Iterable[str] | None = None) -> Consistency: ...

    def repair(self, doc_ids: Iterable[str] | None = None) -> Consistency: ...


@runtime_checkable
class Generations(Protocol):
    def generation(self) -> str: ...

    def bump_generation(self, changed: Iterable[str] | None = None) -> str: ...

    def changes_since(self, since: str, until: str) -> set[str] | None: ...


@runtime_checkable
class Store(VectorIndex, DocumentStore, Generations, Protocol):
    """All three, as one backend provides them today; plus its lifecycle."""

    def ping(self) -> None: ...

    def close(self) -> None: ...

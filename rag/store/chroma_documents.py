"""``DocumentStore`` on Chroma: one record per document holding its cleaned text, written after
its chunks (the commit marker), and the check and repair that compare records with chunks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rag.schema import DocumentMeta, Filters, RetrievedChunk
from rag.store.chroma_client import BATCH, DUMMY_VECTOR
from rag.store.chroma_records import (
    ChunkRecord,
    Consistency,
    _chunk,
    _chunk_meta,
    _doc_meta,
    _page_meta,
    chroma_where,
)
from rag.store.chroma_vectors import ChromaVectors


class ChromaDocuments(ChromaVectors):
    """The ``docs`` collection, and writes that switch a document's version all at once."""

    def all_chunks(self) -> list[RetrievedChunk]:
        """Every committed chunk with text and metadata (BM25 rebuilds read this), in pages."""
        hashes = self.document_hashes()
        out: list[RetrievedChunk] = []
        for got in self._all_chunk_pages(["documents", "metadatas"]):
            out.extend(
                _chunk(i, d, m, None)
                for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
                if hashes.get(str(m.get("doc_id"))) == m.get("content_hash")
            )
        return out

    def document_hashes(self) -> dict[str, str]:
        got = self._call(self.docs.get, include=["metadatas"])
        return {
            i: str(m.get("content_hash", ""))
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }

    def list_documents(self) -> list[DocumentMeta]:
        got = self._call(self.docs.get, include=["metadatas"])
        metas = [_doc_meta(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True)]
        return sorted(metas, key=lambda d: d.doc_id)

    def count_undated(self, filters: Filters) -> int:
        """Documents a date range leaves out for having no date (other filters still apply)."""
        rest = filters.model_copy(update={"date_from": None, "date_to": None})
        where = chroma_where(rest)
        undated: dict[str, Any] = {"undated": True}
        got = self._call(
            self.docs.get, where={"$and": [where, undated]} if where else undated, include=[]
        )
        return len(got["ids"])

    def get_documents(self, doc_ids: Iterable[str]) -> dict[str, tuple[DocumentMeta, str]]:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        got = self._call(self.docs.get, ids=ids, include=["metadatas", "documents"])
        return {
            i: (_doc_meta(i, m), d)
            for i, m, d in zip(got["ids"], got["metadatas"], got["documents"], strict=True)
        }

    def write_document(self, meta: DocumentMeta, text: str, chunks: list[ChunkRecord]) -> None:
        """Replace one document atomically: new chunks, then its record, then old chunks out."""
        self.write_documents([(meta, text, chunks)], replacing={meta.doc_id})

    def write_documents(
        self,
        items: list[tuple[DocumentMeta, str, list[ChunkRecord]]],
        replacing: set[str] | None = None,
    ) -> None:
        """Write many documents in a few calls, each replace atomic; safe to repeat after a
        crash. ``replacing`` names the documents that may have an older version stored."""
        self.write_chunks(items)
        self.commit(items)
        self.drop_superseded(items, replacing)

    def commit(self, items: list[tuple[DocumentMeta, str, list[ChunkRecord]]]) -> None:
        """Switch the records to the new versions: one upsert, so all at once or none."""
        if items:
            self._call(
                self.docs.upsert,
                ids=[meta.doc_id for meta, _, _ in items],
                embeddings=[DUMMY_VECTOR] * len(items),
                documents=[text for _, text, _ in items],
                metadatas=[
                    {**_chunk_meta(meta), **_page_meta(meta), "n_chunks": len(chunks)}
                    for meta, _, chunks in items
                ],
            )

    def drop_superseded(
        self,
        items: list[tuple[DocumentMeta, str, list[ChunkRecord]]],
        replacing: set[str] | None = None,
    ) -> None:
        """Delete the chunks of versions the records no longer name (after ``commit``)."""
        stale = [
            {"$and": [{"doc_id": meta.doc_id}, {"content_hash": {"$ne": meta.content_hash}}]}
            for meta, _, _ in items
            if replacing is None or meta.doc_id in replacing
        ]
        for i in range(0, len(stale), 100):
            group = stale[i : i + 100]
            self._call(self.chunks.delete, where=group[0] if len(group) == 1 else {"$or": group})

    def delete_document(self, doc_id: str) -> bool:
        """Drop the record first (readers stop trusting its chunks), then the chunks."""
        existed = bool(self._call(self.docs.get, ids=[doc_id], include=[])["ids"])
        self._call(self.docs.delete, ids=[doc_id])
        self._call(self.chunks.delete, where={"doc_id": doc_id})
        return existed

    def check(self, doc_ids: Iterable[str] | None = None) -> Consistency:
        """Compare the documents list with the chunks (``briefqa doctor``); reads only.

        ``doc_ids`` limits the check to those documents' records and chunks: an upload checks
        what it writes instead of reading every chunk (seconds at 100k chunks).
        """
        ids = None if doc_ids is None else sorted(set(doc_ids))
        if ids is not None and not ids:
            return Consistency()
        got = self._call(self.docs.get, ids=ids, include=["metadatas"])
        listed = {
            i: (str(m.get("content_hash", "")), int(m.get("n_chunks", 0)))
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }
        report = Consistency(documents=len(listed))
        found: dict[str, int] = {}
        pages = (
            self._all_chunk_pages(["metadatas"])
            if ids is None
            else self._chunks_where("doc_id", ids, ["metadatas"])
        )
        for page in pages:
            for cid, m in zip(page["ids"], page["metadatas"], strict=True):
                doc_id = str(m.get("doc_id"))
                if doc_id in listed and listed[doc_id][0] == m.get("content_hash"):
                    found[doc_id] = found.get(doc_id, 0) + 1
                else:
                    report.orphan_chunks.append(cid)
        report.chunks = sum(found.values())
        report.ghosts = {
            doc_id: (n, found.get(doc_id, 0))
            for doc_id, (_, n) in listed.items()
            if found.get(doc_id, 0) != n
        }
        return report

    def repair(self, doc_ids: Iterable[str] | None = None) -> Consistency:
        """Delete chunks no committed record backs (an interrupted run's, or a superseded
        version's), in the whole store or only ``doc_ids``'; returns what ``check`` found.
        Ghosts are the caller's (ingest re-embeds)."""
        report = self.check(doc_ids)
        orphans = report.orphan_chunks
        for i in range(0, len(orphans), BATCH):
            self._call(self.chunks.delete, ids=orphans[i : i + BATCH])
        return report

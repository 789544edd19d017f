"""Records as Chroma stores them: ids, hashes, metadata both ways, and our filters as a
``where`` clause. Pure functions: no client here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.schema import DocumentMeta, Filters, RetrievedChunk


def text_hash(text: str) -> str:
    """The embedding cache key: sha256 of exactly the text that was embedded."""
    return hashlib.sha256(text.encode()).hexdigest()


def chunk_id(doc_id: str, index: int, content_hash: str) -> str:
    """One version's chunk id: versions never share ids, so a replace can't overwrite."""
    return f"{doc_id}:{index}@{content_hash[:12]}"


@dataclass
class Consistency:
    """What ``ChromaStore.check`` found: the documents list agrees with the chunks when there
    are no ghosts (a record whose committed chunks are missing) and no orphans (chunks no
    record backs: an interrupted write's or a superseded version's)."""

    documents: int = 0
    chunks: int = 0
    orphan_chunks: list[str] = field(default_factory=list)
    ghosts: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (listed, found)

    @property
    def ok(self) -> bool:
        return not self.orphan_chunks and not self.ghosts

    def summary(self) -> str:
        ghosts = ", ".join(f"{d} ({n} listed, {f} stored)" for d, (n, f) in self.ghosts.items())
        return (
            f"{self.documents} documents, {self.chunks} committed chunks, "
            f"{len(self.orphan_chunks)} orphan chunks, {len(self.ghosts)} ghost documents"
            + (f": {ghosts}" if ghosts else "")
        )


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk ready to write: text, vector and where it sits in its document."""

    index: int
    text: str
    start_char: int
    end_char: int
    embedding: Sequence[float]
    page: int | None = None  # the page (slide) the chunk starts on, in paged documents


def date_number(date: str | None) -> int | None:
    """``2026-02-04`` -> 20260204, since Chroma range filters work on numbers only."""
    if not date:
        return None
    digits = "".join(ch for ch in date[:10] if ch.isdigit())
    return int(digits.ljust(8, "0")) if len(digits) >= 4 else None


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """Translate our filters into one Chroma ``where`` clause."""
    if filters is None:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    if filters.doc_ids:
        clauses.append({"doc_id": {"$in": list(filters.doc_ids)}})
    dated: list[dict[str, Any]] = []
    if (lo := date_number(filters.date_from)) is not None:
        dated.append({"date_num": {"$gte": lo}})
    if (hi := date_number(filters.date_to)) is not None:
        dated.append({"date_num": {"$lte": hi}})
    if dated:
        in_range = dated[0] if len(dated) == 1 else {"$and": dated}
        clauses.append(
            {"$or": [in_range, {"undated": True}]} if filters.include_undated else in_range
        )
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _chunk_meta(meta: DocumentMeta) -> dict[str, Any]:
    """Chroma metadata values may not be None: absent fields are simply left out."""
    fields = {
        "doc_id": meta.doc_id,
        "title": meta.title,
        "date": meta.date,
        "date_num": date_number(meta.date),
        "source": meta.source,
        "url": meta.url,
        "content_hash": meta.content_hash,
        "undated": True if date_number(meta.date) is None else None,
        "attached_to": meta.attached_to,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _page_meta(meta: DocumentMeta) -> dict[str, Any]:
    """Page offsets and hidden text live on the document record only (chunks carry their own
    page; hidden text is never evidence)."""
    fields: dict[str, Any] = {}
    if meta.page_starts:
        fields |= {
            "page_kind": meta.page_kind or "page",
            "page_starts": json.dumps(meta.page_starts),
        }
    if meta.hidden_text:
        fields["hidden_text"] = json.dumps(meta.hidden_text)
    return fields


def _doc_meta(doc_id: str, m: dict[str, Any]) -> DocumentMeta:
    return DocumentMeta(
        doc_id=doc_id,
        title=str(m.get("title", "")),
        date=m.get("date"),
        source=m.get("source"),
        url=m.get("url"),
        content_hash=str(m.get("content_hash", "")),
        n_chunks=int(m.get("n_chunks", 0)),
        page_kind=m.get("page_kind"),
        page_starts=json.loads(m["page_starts"]) if m.get("page_starts") else None,
        attached_to=m.get("attached_to"),
        hidden_text=json.loads(m["hidden_text"]) if m.get("hidden_text") else [],
    )


def _chunk(chunk_id: str, text: str, m: dict[str, Any], score: float | None) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=chunk_id,
        doc_id=str(m["doc_id"]),
        text=text,
        start_char=int(m["start_char"]),
        end_char=int(m["end_char"]),
        title=str(m.get("title", "")),
        date=m.get("date"),
        source=m.get("source"),
        url=m.get("url"),
        content_hash=str(m.get("content_hash", "")),
        score=score or 0.0,
        dense_score=score,
        page=int(m["page"]) if m.get("page") is not None else None,
    )

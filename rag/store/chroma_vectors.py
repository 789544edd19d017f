"""``VectorIndex`` on Chroma: chunks with their vectors, read back only for committed versions,
and the record of which embedding backend filled them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from rag.schema import DocumentMeta, Filters, RetrievedChunk
from rag.store.chroma_client import BATCH, DUMMY_VECTOR, ChromaClient, EmbedderMismatch
from rag.store.chroma_records import (
    ChunkRecord,
    _chunk,
    _chunk_meta,
    chroma_where,
    chunk_id,
    text_hash,
)

_EMBEDDER = "embedder"  # the state record naming the embedding backend


class ChromaVectors(ChromaClient):
    """The ``chunks`` collection; ``ChromaDocuments`` adds the document records, which say
    which version of each document is committed (and so which chunks ``all_chunks`` gives)."""

    def write_chunks(self, items: list[tuple[DocumentMeta, str, list[ChunkRecord]]]) -> None:
        """The new versions' chunks, beside any old ones: invisible until ``commit``.

        Every Chroma write costs a fixed few fsyncs, so chunks of all documents go in shared
        upserts.
        """
        ids: list[str] = []
        vectors: list[list[float]] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        for meta, _, chunks in items:
            base = _chunk_meta(meta)
            for c in chunks:
                ids.append(chunk_id(meta.doc_id, c.index, meta.content_hash))
                vectors.append(list(c.embedding))
                texts.append(c.text)
                metas.append(
                    {
                        **base,
                        "chunk_index": c.index,
                        "start_char": c.start_char,
                        "end_char": c.end_char,
                        "text_hash": text_hash(c.text),
                        **({"page": c.page} if c.page is not None else {}),
                    }
                )
        for i in range(0, len(ids), BATCH):
            self._call(
                self.chunks.upsert,
                ids=ids[i : i + BATCH],
                embeddings=vectors[i : i + BATCH],
                documents=texts[i : i + BATCH],
                metadatas=metas[i : i + BATCH],
            )

    def vectors_for(
        self, hashes: Iterable[str], doc_ids: Iterable[str] = ()
    ) -> dict[str, list[float]]:
        """Stored vectors by ``text_hash`` of their chunk text: the embedding cache.

        Any stored chunk serves, committed or not and of any document (syndicated copies
        share paragraphs), since the vector depends on the text alone and a store holds one
        backend's vectors. Chunks written before ``text_hash`` existed are found through
        ``doc_ids`` (the documents being replaced): their texts are hashed here.
        """
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, list[float]] = {}
        for got in self._chunks_where("text_hash", wanted, ["embeddings", "metadatas"], 500):
            for m, v in zip(got["metadatas"], got["embeddings"], strict=True):
                found[str(m["text_hash"])] = [float(x) for x in v]
        ids = list(dict.fromkeys(doc_ids))
        if ids and len(found) < len(wanted):
            for got in self._chunks_where("doc_id", ids, ["embeddings", "documents"]):
                for d, v in zip(got["documents"], got["embeddings"], strict=True):
                    found.setdefault(text_hash(d), [float(x) for x in v])
        return found

    def _chunks_where(
        self, key: str, values: list[str], include: list[str], batch: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Pages of the chunks whose metadata ``key`` is one of ``values`` (batched ``$in``)."""
        for i in range(0, len(values), batch):
            where = {key: {"$in": values[i : i + batch]}}
            yield self._call(self.chunks.get, where=where, include=include)

    def _all_chunk_pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        """Every chunk, ``BATCH`` at a time (Chroma caps what one get returns)."""
        for offset in range(0, self.count_chunks(), BATCH):
            yield self._call(self.chunks.get, include=include, limit=BATCH, offset=offset)

    def chunks_of(self, doc_ids: Iterable[str]) -> list[RetrievedChunk]:
        """The committed chunks of some documents (a BM25 index catching up reads these)."""
        ids = sorted(set(doc_ids))
        out: list[RetrievedChunk] = []
        for got in self._chunks_where("doc_id", ids, ["documents", "metadatas"]):
            out.extend(
                _chunk(c, d, m, None)
                for c, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            )
        return self.committed(out)

    def count_chunks(self) -> int:
        return int(self._call(self.chunks.count))

    def committed(self, chunks: list[RetrievedChunk]) -> list[RetrievedChunk]:
        """Only the chunks of the versions their records name (one small read)."""
        doc_ids = list(dict.fromkeys(c.doc_id for c in chunks))
        if not doc_ids:
            return chunks
        got = self._call(self.docs.get, ids=doc_ids, include=["metadatas"])
        hashes = {
            i: m.get("content_hash") for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }
        return [c for c in chunks if hashes.get(c.doc_id) == c.content_hash]

    def query(
        self, embedding: Sequence[float], k: int, filters: Filters | None = None
    ) -> list[RetrievedChunk]:
        """Dense nearest neighbours of committed versions; ``score`` is cosine similarity."""
        if k <= 0:
            return []
        got = self._call(
            self.chunks.query,
            query_embeddings=[list(embedding)],
            n_results=k,
            where=chroma_where(filters),
            include=["documents", "metadatas", "distances"],
        )
        return self.committed(
            [
                _chunk(i, d, m, 1.0 - float(dist))
                for i, d, m, dist in zip(
                    got["ids"][0],
                    got["documents"][0],
                    got["metadatas"][0],
                    got["distances"][0],
                    strict=True,
                )
            ]
        )

    def _recorded_embedder(self) -> str | None:
        got = self._call(self.state.get, ids=[_EMBEDDER], include=["metadatas"])
        return str(got["metadatas"][0]["value"]) if got["ids"] else None

    def _stored(self, recorded: str | None) -> str | None:
        """The filling backend given the record: chunks stored before backends were recorded
        are torch vectors (the only backend then); None while the store holds no chunks."""
        return (recorded or "torch") if self.count_chunks() else None

    def stored_embedder(self) -> str | None:
        """The backend whose vectors fill the store; None while it holds no chunks."""
        return self._stored(self._recorded_embedder())

    def check_embedder(self, backend: str, record: bool = False) -> None:
        """Raise ``EmbedderMismatch`` if the stored chunks come from another backend.

        An empty store accepts any. ``record`` (ingest sets it) writes ``backend`` down first.
        """
        recorded = self._recorded_embedder()
        stored = self._stored(recorded)
        if stored is not None and stored != backend:
            raise EmbedderMismatch(
                f"the store '{self.name}' holds {stored} embeddings but the {backend} embedder "
                f"is loaded; set BRIEFQA_EMBED_BACKEND={stored} to use this store, or ingest "
                f"into a new store (another BRIEFQA_DATA_DIR or BRIEFQA_COLLECTION) for {backend}"
            )
        if record and recorded != backend:
            self._call(
                self.state.upsert,
                ids=[_EMBEDDER],
                embeddings=[DUMMY_VECTOR],
                metadatas=[{"value": backend}],
            )

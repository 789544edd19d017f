"""Reciprocal rank fusion, the one implementation: chunk retrieval (dense + BM25,
``rag.retrieve``) and sentence ranking (dense + lexical, ``rag.evidence``) both fuse with it."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def rrf(rankings: Iterable[Sequence[K]], k: int) -> dict[K, float]:
    """Each item's fused score, the sum over rankings of 1 / (k + its rank there), in order of
    first appearance (callers sort; ties keep that order or break it their own way)."""
    fused: dict[K, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused

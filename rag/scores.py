"""Score arithmetic shared by the steps, written once: reciprocal rank fusion (chunk retrieval
and sentence ranking both fuse with it) and the logistic that turns a logit into a share."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)


def rrf(rankings: Iterable[Sequence[K]], k: int) -> dict[K, float]:
    """Each item's fused score, the sum over rankings of 1 / (k + its rank there), in order of
    first appearance (callers sort; ties keep that order or break it their own way)."""
    fused: dict[K, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """Logit -> probability-like score in (0, 1), for thresholds that read as shares."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))

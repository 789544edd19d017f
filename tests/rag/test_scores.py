"""Shared score arithmetic (rag.scores): rank fusion for chunks and sentences, the logistic."""

from __future__ import annotations

from rag.config import DEFAULTS, Settings
from rag.scores import rrf, sigmoid


def test_scores_sum_reciprocal_ranks_in_first_appearance_order() -> None:
    fused = rrf([["a", "b", "c"], ["b", "d"]], k=1)
    assert list(fused) == ["a", "b", "c", "d"]
    assert fused == {"a": 1 / 2, "b": 1 / 3 + 1 / 2, "c": 1 / 4, "d": 1 / 3}


def test_one_default_per_tunable_comes_from_the_settings_fields() -> None:
    assert DEFAULTS.rrf_k == Settings.model_fields["rrf_k"].default
    assert DEFAULTS.rerank_candidates == Settings.model_fields["rerank_candidates"].default


def test_sigmoid_reads_logits_as_shares() -> None:
    assert float(sigmoid(0.0)) == 0.5 and float(sigmoid(40.0)) > 0.999

"""The answerer Protocols (rag.answer.base): what the service checks before it streams,
rewrites or judges with an answerer."""

from __future__ import annotations

from rag.answer.base import Answerer, Drafting, Judging, Rewriting, Streaming
from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.llm import LLMAnswerer


def test_the_extractive_answerer_only_answers() -> None:
    extractive = ExtractiveAnswerer()
    assert isinstance(extractive, Answerer)
    for ability in (Streaming, Drafting, Rewriting, Judging):
        assert not isinstance(extractive, ability)


def test_an_llm_answerer_can_stream_draft_rewrite_and_carry_a_judge() -> None:
    llm = LLMAnswerer(object(), name="openai")
    for ability in (Answerer, Streaming, Drafting, Rewriting, Judging):
        assert isinstance(llm, ability), ability
    assert llm.judge is None  # it may carry none

"""Answerers by name (``BRIEFQA_ANSWERER``): extractive always; LLM ones when asked for.

LLM answerers are built only when requested, so the default service never loads llama.cpp.
"""

from __future__ import annotations

from rag.config import Settings
from rag.service import Answerer


def build_answerers(settings: Settings, names: list[str] | None = None) -> dict[str, Answerer]:
    """The non-extractive answerers among ``names`` (default: the configured one)."""
    wanted = set(names or [settings.answerer]) - {"extractive"}
    out: dict[str, Answerer] = {}
    if wanted - {"local-llm", "openai"}:
        raise ValueError(f"unknown answerer(s): {', '.join(sorted(wanted))}")
    if wanted:
        from rag.answer.llm import LLMAnswerer, local_llm, openai_llm

        if "local-llm" in wanted:
            out["local-llm"] = LLMAnswerer(local_llm(settings), name="local-llm")
        if "openai" in wanted:
            out["openai"] = LLMAnswerer(openai_llm(settings), name="openai")
    return out

"""Answerers by name (``BRIEFQA_ANSWERER``): extractive always; LLM ones when asked for.

LLM answerers are built only when requested, so the default service never loads llama.cpp.
"""

from __future__ import annotations

from rag.answer.base import Answerer
from rag.config import Settings


def build_answerers(
    settings: Settings, names: list[str] | None = None, warm: bool = False
) -> dict[str, Answerer]:
    """The non-extractive answerers among ``names`` (default: the configured one).

    ``warm`` evaluates the local model's static prompt prefix now (seconds), so a server's
    first question doesn't pay for it.
    """
    wanted = set(names or [settings.answerer]) - {"extractive"}
    out: dict[str, Answerer] = {}
    if wanted - {"local-llm", "openai"}:
        raise ValueError(f"unknown answerer(s): {', '.join(sorted(wanted))}")
    if wanted:
        from rag.answer.llm import local_answerer, openai_answerer
        from rag.decide import judged_model

        if "local-llm" in wanted:
            judged = judged_model() is not None
            out["local-llm"] = local_answerer(settings, warm=warm, judged=judged)
        if "openai" in wanted:
            out["openai"] = openai_answerer(settings)
    return out

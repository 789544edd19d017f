"""OpenAI ``usage`` token counts for chat completions, counted with tiktoken's cl100k.

The encoding files ship inside llama-index-core (``llama_index/core/_static/tiktoken_cache``):
``rag.text.cl100k`` points ``TIKTOKEN_CACHE_DIR`` there while tiktoken loads, so counting never
downloads. Prompt tokens follow OpenAI's chat framing (a few tokens per message for role and
separators), so counts are comparable with what an OpenAI model would bill.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel

TOKENS_PER_MESSAGE = 3  # <|start|>{role}<|message|> ... <|end|>
TOKENS_REPLY_PRIMER = 3  # every reply is primed with <|start|>assistant<|message|>


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


def tokenizer() -> Callable[[str], list[int]]:
    """cl100k's encoder from the cache llama-index-core ships (loaded once, shared with the
    chunker)."""
    from rag.text import cl100k

    return cl100k()


def count_tokens(text: str) -> int:
    return len(tokenizer()(text)) if text else 0


def chat_usage(messages: Sequence[tuple[str, str]], completion: str) -> Usage:
    """``usage`` for (role, text) ``messages`` answered with ``completion``."""
    prompt = sum(
        TOKENS_PER_MESSAGE + count_tokens(role) + count_tokens(text) for role, text in messages
    )
    prompt += TOKENS_REPLY_PRIMER
    answer = count_tokens(completion)
    return Usage(prompt_tokens=prompt, completion_tokens=answer, total_tokens=prompt + answer)

"""OpenAI-compatible ``POST /v1/chat/completions`` (and ``GET /v1/models``), so any OpenAI client
or chat UI can talk to the service unchanged.

The last user message is the question; earlier user/assistant messages are the history; system
messages are ignored (never followed). ``model`` must name an answerer listed by ``GET
/v1/models`` (omitted: the default answers); any other is a 404 in OpenAI's error shape, never
silently answered by another. Every response carries the grounding as extra top-level fields:
``citations``, ``grounded`` and ``abstained`` (streamed: on the final chunk, with the verified
``answer``), and ``usage`` in cl100k tokens (streamed: in one last chunk with no choices, when
``stream_options.include_usage`` asks for it, as OpenAI does).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import RWLock, ServiceDep, SettingsDep, StoreLockDep
from api.errors import invalid
from api.routes.ask import check_question
from api.schemas import (
    AssistantMessage,
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    ModelCard,
    ModelList,
)
from api.usage import Usage, chat_usage
from rag.config import Settings
from rag.schema import AnswerResult, ChatTurn
from rag.service import QAService

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["openai-compatible"])

_END = object()
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def split_messages(messages: list[ChatMessage], settings: Settings) -> tuple[str, list[ChatTurn]]:
    """(question, history): the last user message, and the user/assistant turns before it.

    History is cut to the last ``max_history_turns`` turns, and to ``max_history_chars``
    characters, instead of refused, since chat clients resend the whole conversation every
    time.
    """
    last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
    if last is None:
        raise invalid(("body", "messages"), "no user message to answer")
    question = check_question(messages[last].text, settings, ("body", "messages", last, "content"))
    history = [
        ChatTurn(role=m.role, content=m.text)  # type: ignore[arg-type]
        for m in messages[:last]
        if m.role in ("user", "assistant") and m.text.strip()
    ]
    if settings.max_history_turns <= 0:
        return question, []
    return question, within_chars(history[-settings.max_history_turns :], settings)


def within_chars(history: list[ChatTurn], settings: Settings) -> list[ChatTurn]:
    """The latest turns that fit ``max_history_chars`` together; a latest turn longer than
    that alone keeps its last ``max_history_chars`` characters."""
    kept: list[ChatTurn] = []
    room = settings.max_history_chars
    for turn in reversed(history):
        if len(turn.content) > room:
            if not kept and room > 0:
                kept.append(turn.model_copy(update={"content": turn.content[-room:]}))
            break
        kept.append(turn)
        room -= len(turn.content)
    return kept[::-1]


def pick_answerer(service: QAService, model: str | None) -> str | None:
    """The answerer ``model`` names, the default one when it names none, else None."""
    if not model:
        return service.default_answerer
    return model if model in service.answerers else None


def model_not_found(service: QAService, model: str) -> JSONResponse:
    """OpenAI's 404 for a model that does not exist, naming the ones that do."""
    available = ", ".join(sorted(service.answerers))
    message = f"The model '{model}' does not exist; available models: {available}"
    error = {"message": message, "type": "invalid_request_error", "param": "model"}
    return JSONResponse({"error": {**error, "code": "model_not_found"}}, status_code=404)


def request_usage(body: ChatCompletionRequest, answer: str) -> Usage:
    """Tokens of every message sent (system ones too: the client sent them) and the answer."""
    return chat_usage([(m.role, m.text) for m in body.messages], answer)


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def grounding(result: AnswerResult) -> dict[str, Any]:
    return {
        "citations": [c.model_dump() for c in result.citations],
        "grounded": result.grounded,
        "abstained": result.abstained,
        "short_answer": result.short_answer,
        "leads": result.leads,
        "tier": result.tier,
        "answer_type": result.answer_type,
        "confidence": result.confidence,
        "note": result.note,
    }


@router.get("/models", response_model=ModelList)
def list_models(service: ServiceDep) -> ModelList:
    """The answerers, as OpenAI "models" (clients that list models before chatting need it)."""
    default = service.default_answerer
    cards = [ModelCard(id=name, default=name == default) for name in sorted(service.answerers)]
    return ModelList(data=cards)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "SSE when stream"},
        404: {"description": "`model` is not one of GET /v1/models (code `model_not_found`)"},
    },
)
def chat_completions(
    body: ChatCompletionRequest, service: ServiceDep, settings: SettingsDep, lock: StoreLockDep
) -> ChatCompletion | StreamingResponse | JSONResponse:
    """A grounded chat completion; ``stream: true`` answers with server-sent events."""
    name = pick_answerer(service, body.model)
    if name is None:
        return model_not_found(service, body.model or "")
    question, history = split_messages(body.messages, settings)
    if not body.stream:
        with lock.read():
            result = service.ask(question, history=history, filters=body.filters, answerer=name)
        return ChatCompletion(
            id=completion_id(),
            created=int(time.time()),
            model=name,
            choices=[ChatChoice(message=AssistantMessage(content=result.answer))],
            citations=result.citations,
            grounded=result.grounded,
            abstained=result.abstained,
            short_answer=result.short_answer,
            leads=result.leads,
            tier=result.tier,
            confidence=result.confidence,
            note=result.note,
            usage=request_usage(body, result.answer),
        )
    # Streaming: retrieval runs here, before any byte is sent, so a store outage is still a
    # proper 503 rather than a broken stream. The read lock is held until the stream ends.
    lock.acquire_read()
    items: Iterator[str | AnswerResult] | None = None
    try:
        items = service.ask_stream(question, history=history, filters=body.filters, answerer=name)
        first = next(items)
    except BaseException:
        if items is not None:
            items.close()  # type: ignore[attr-defined]
        lock.release_read()
        raise
    return StreamingResponse(
        sse_events(first, items, name, _closer(items, lock), usage_for(body)),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


def usage_for(body: ChatCompletionRequest) -> Callable[[str], Usage] | None:
    """How to count the stream's usage, when ``stream_options.include_usage`` asks for it."""
    options = body.stream_options
    if options is None or not options.include_usage:
        return None
    return lambda answer: request_usage(body, answer)


def _closer(items: Iterator[str | AnswerResult], lock: RWLock) -> Callable[[], None]:
    """Close the answer stream (an LLM answerer holds its model lock until then), once."""
    done = False

    def close() -> None:
        nonlocal done
        if done:
            return
        done = True
        try:
            items.close()  # type: ignore[attr-defined]
        finally:
            lock.release_read()

    return close


def sse(payload: dict[str, Any] | str) -> str:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n"


async def sse_events(
    first: str | AnswerResult,
    items: Iterator[str | AnswerResult],
    model: str,
    close: Callable[[], None],
    usage: Callable[[str], Usage] | None = None,
) -> AsyncIterator[str]:
    """``chat.completion.chunk`` events: role, content deltas, a final chunk, ``[DONE]``.

    Deltas are the answerer's text as produced; verification may drop a sentence, so the final
    chunk carries the verified ``answer`` that clients should show. Each ``next()`` runs in the
    threadpool; the stream is closed even when the client goes away mid-answer.
    """
    base = {"id": completion_id(), "object": "chat.completion.chunk", "created": int(time.time())}

    counted = {"usage": None} if usage else {}  # OpenAI: null on every chunk but the last

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return sse({**base, "model": model, "choices": [choice], **counted, **extra})

    try:
        yield chunk({"role": "assistant", "content": ""})
        item: object = first
        result: AnswerResult | None = None
        while item is not _END:
            if isinstance(item, AnswerResult):
                result = item
            elif isinstance(item, str) and item:
                yield chunk({"content": item})
            item = await run_in_threadpool(next, items, _END)
        assert result is not None, "ask_stream ended without a result"
        yield chunk({}, "stop", **grounding(result), answer=result.answer)
        if usage:
            totals = usage(result.answer).model_dump()
            yield sse({**base, "model": model, "choices": [], "usage": totals})
        yield sse("[DONE]")
    except Exception as exc:  # headers are sent: report in-band, as OpenAI does
        log.exception("chat stream failed")
        yield sse({"error": {"message": str(exc), "type": type(exc).__name__, "code": None}})
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(close)

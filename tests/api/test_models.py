"""``GET /v1/models`` lists the answerers; ``model`` must be one of them (else OpenAI's 404);
``usage`` counts cl100k tokens in non-streamed answers and in the last streamed chunk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from api.usage import chat_usage, count_tokens
from rag.components import Components
from tests.api.conftest import SEED_QUESTION
from tests.helpers import live_server


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def sse_payloads(text: str) -> list[Any]:
    blocks = [b.removeprefix("data: ") for b in text.split("\n\n") if b]
    return [b if b == "[DONE]" else json.loads(b) for b in blocks]


def test_models_lists_every_answerer_openai_style(client: TestClient) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert "extractive" in ids and ids == sorted(ids)
    assert all(m["object"] == "model" and m["owned_by"] for m in body["data"])
    assert [m["id"] for m in body["data"] if m["default"]] == ["extractive"]


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_model_is_404_model_not_found(client: TestClient, stream: bool) -> None:
    response = client.post(
        "/v1/chat/completions",
        json={"model": "gpt-4o-mini", "stream": stream, "messages": [user(SEED_QUESTION)]},
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "model_not_found" and error["type"] == "invalid_request_error"
    assert "gpt-4o-mini" in error["message"] and "extractive" in error["message"]


def test_omitted_model_is_the_default(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json={"messages": [user(SEED_QUESTION)]})
    assert response.status_code == 200 and response.json()["model"] == "extractive"


def test_usage_counts_prompt_and_answer_tokens(client: TestClient) -> None:
    messages = [{"role": "system", "content": "Be brief."}, user(SEED_QUESTION)]
    body = client.post(
        "/v1/chat/completions", json={"model": "extractive", "messages": messages}
    ).json()
    usage = body["usage"]
    answer = body["choices"][0]["message"]["content"]
    assert usage["completion_tokens"] == count_tokens(answer) > 5
    # 3 framing tokens per message and 3 for the reply primer, as OpenAI counts chat prompts
    expected = sum(3 + count_tokens(m["role"]) + count_tokens(m["content"]) for m in messages) + 3
    assert usage["prompt_tokens"] == expected
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_count_tokens_is_cl100k() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2  # cl100k: "hello", " world"
    assert chat_usage([("user", "hello world")], "hi").total_tokens == 3 + 1 + 2 + 3 + 1


def test_stream_usage_only_when_asked(client: TestClient) -> None:
    body = {"model": "extractive", "stream": True, "messages": [user(SEED_QUESTION)]}
    plain = sse_payloads(client.post("/v1/chat/completions", json=body).text)
    assert all("usage" not in c for c in plain[:-1])
    asked = {**body, "stream_options": {"include_usage": True}}
    chunks = sse_payloads(client.post("/v1/chat/completions", json=asked).text)
    assert chunks[-1] == "[DONE]"
    last, final = chunks[-2], chunks[-3]
    assert last["choices"] == [] and last["object"] == "chat.completion.chunk"
    assert all(c["usage"] is None for c in chunks[:-2])  # null until the last, as OpenAI does
    assert final["choices"][0]["finish_reason"] == "stop"
    assert last["usage"]["completion_tokens"] == count_tokens(final["answer"])
    assert (
        last["usage"]["prompt_tokens"] == 3 + count_tokens("user") + count_tokens(SEED_QUESTION) + 3
    )


@pytest.fixture(scope="module")
def oai(qa_components: Components) -> Iterator[openai.OpenAI]:
    app: FastAPI = create_app(qa_components.settings, qa_components)
    with (
        live_server(app) as url,
        openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0) as client,
    ):
        yield client


def test_openai_client_models_usage_and_unknown_model(oai: openai.OpenAI) -> None:
    assert "extractive" in [m.id for m in oai.models.list()]
    completion = oai.chat.completions.create(model="extractive", messages=[user(SEED_QUESTION)])
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    with pytest.raises(openai.NotFoundError) as caught:
        oai.chat.completions.create(model="gpt-4o-mini", messages=[user(SEED_QUESTION)])
    assert caught.value.code == "model_not_found"
    stream = oai.chat.completions.create(
        model="extractive",
        messages=[user(SEED_QUESTION)],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == completion.usage.total_tokens

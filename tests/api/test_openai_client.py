"""The official ``openai`` client, unchanged, against a live uvicorn on a loopback port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from fastapi import FastAPI

from api.main import create_app
from rag.components import Components
from rag.schema import Draft, Evidence
from tests.api.conftest import REFUSAL, SEED_ANSWER, SEED_QUESTION, UNANSWERABLE
from tests.helpers import live_server


@pytest.fixture(scope="module")
def live_app(qa_components: Components) -> FastAPI:
    return create_app(qa_components.settings, qa_components)


@pytest.fixture(scope="module")
def base_url(live_app: FastAPI) -> Iterator[str]:
    """The app on a live loopback server; the openai client wants the /v1 base."""
    with live_server(live_app) as url:
        yield f"{url}/v1"


@pytest.fixture
def oai(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30) as client:
        yield client


def test_non_streaming(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="extractive",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": SEED_QUESTION},
        ],
        temperature=0,
    )
    assert completion.object == "chat.completion"
    assert completion.model == "extractive"
    message = completion.choices[0].message
    assert message.role == "assistant" and SEED_ANSWER in (message.content or "")
    assert completion.choices[0].finish_reason == "stop"
    extra = completion.model_extra or {}
    assert extra["abstained"] is False
    assert any(SEED_ANSWER in c["quote"] for c in extra["citations"])


def test_raw_response_json(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model="extractive", messages=[{"role": "user", "content": SEED_QUESTION}]
    )
    assert raw.status_code == 200
    body = json.loads(raw.text)
    assert {"citations", "grounded", "abstained"} <= set(body)
    assert raw.parse().choices[0].message.content == body["choices"][0]["message"]["content"]


def test_streaming(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="extractive",
        messages=[{"role": "user", "content": SEED_QUESTION}],
        stream=True,
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert SEED_ANSWER in text
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    extra = final.model_extra or {}
    assert extra["answer"] == text and extra["abstained"] is False
    assert any(SEED_ANSWER in c["quote"] for c in extra["citations"])


def test_streaming_abstains(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": UNANSWERABLE}], stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == REFUSAL
    assert (chunks[-1].model_extra or {})["abstained"] is True


def test_models_list(oai: openai.OpenAI) -> None:
    assert "extractive" in [m.id for m in oai.models.list()]


def test_validation_error_surfaces_as_openai_error(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as info:
        oai.chat.completions.create(model="extractive", messages=[{"role": "user", "content": " "}])
    assert "question must not be empty" in str(info.value)


class SlowStream:
    """An LLM-like answerer that streams a word every 0.1 s and notes when it is closed."""

    name = "slow"

    def __init__(self) -> None:
        self.closed = threading.Event()

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        return Draft(text=f"{evidence[0].text} [1]", answerer=self.name)

    def stream(self, question: str, evidence: list[Evidence]) -> Iterator[str]:
        try:
            for word in f"{evidence[0].text} [1]".split(" "):
                yield word + " "
                time.sleep(0.1)
        finally:
            self.closed.set()


def test_client_disconnect_closes_answer_stream_and_lock(
    base_url: str, live_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An abandoned stream must not keep an LLM (or the store's read lock) busy."""
    slow = SlowStream()
    monkeypatch.setitem(live_app.state.service.answerers, "slow", slow)
    body = {
        "model": "slow",
        "stream": True,
        "messages": [{"role": "user", "content": SEED_QUESTION}],
    }
    with (
        httpx.Client(timeout=10) as http,
        http.stream("POST", f"{base_url}/chat/completions", json=body) as response,
    ):
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")  # role chunk
        next(lines)
        assert '"content"' in next(lines)  # first delta; then hang up mid-answer
    assert slow.closed.wait(timeout=5)
    deadline = time.monotonic() + 5
    while live_app.state.store_lock._readers and time.monotonic() < deadline:
        time.sleep(0.02)
    assert live_app.state.store_lock._readers == 0

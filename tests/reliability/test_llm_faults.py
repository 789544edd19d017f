"""The ``openai`` answerer against a fake OpenAI-compatible server on loopback: when the LLM
is down, slow or failing, questions still get a (flagged) extractive answer, never a hang."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.components import Components
from rag.config import Settings
from rag.embed import Embedder
from rag.service import QAService
from tests.api.conftest import SEED_ANSWER, SEED_QUESTION
from tests.conftest import CORPUS, SEED
from tests.helpers import free_port, ingested
from tests.reliability import fake_llm
from tests.reliability.fake_llm import FakeLLM, fake_llm_server

TIMEOUT_S = 1.0
# A slow server stays silent this long: far past the client's timeout and its one retry, so an
# answer that comes back while the server is still silent did not wait for it (no clock needed).
SILENCE_S = 600.0


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Components:
    data = tmp_path_factory.mktemp("llm") / "data"
    settings = Settings(data_dir=data, collection="llm", torch_threads=1, _env_file=None)
    components = ingested(settings, embedder, [CORPUS, SEED])
    return components


def openai_service(store: Components, base_url: str) -> QAService:
    return fake_llm.openai_service(store, base_url, llm_timeout_s=TIMEOUT_S)


@pytest.fixture
def llm() -> Iterator[tuple[FakeLLM, str]]:
    state = FakeLLM()
    with fake_llm_server(state) as url:
        yield state, url


def ask(service: QAService) -> object:
    return service.ask(SEED_QUESTION)


def test_healthy_llm_answers(store: Components, llm: tuple[FakeLLM, str]) -> None:
    """The control: with the server up, the openai answerer really answers."""
    state, url = llm
    result = ask(openai_service(store, url))
    assert result.answerer == "openai" and not result.abstained  # type: ignore[attr-defined]
    assert state.requests == 1


def test_llm_down_falls_back_at_once(store: Components) -> None:
    nothing_there = f"http://127.0.0.1:{free_port()}/v1"
    result = ask(openai_service(store, nothing_there))
    assert result.answerer == "extractive (fallback)"  # type: ignore[attr-defined]
    assert "openai failed" in result.note  # type: ignore[attr-defined]
    assert SEED_ANSWER in result.answer  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["slow", "error"])
def test_llm_slow_or_failing_falls_back_without_waiting_for_it(
    store: Components, llm: tuple[FakeLLM, str], mode: str
) -> None:
    """A silent LLM is given up on: the answer comes back while it is still silent (its
    silence lasts SILENCE_S, far past the client's timeout), not when it ends."""
    state, url = llm
    state.mode, state.delay = mode, SILENCE_S
    result = ask(openai_service(store, url))
    assert result.answerer == "extractive (fallback)"  # type: ignore[attr-defined]
    assert result.note and "openai" in result.note  # type: ignore[attr-defined]
    assert SEED_ANSWER in result.answer  # type: ignore[attr-defined]
    assert state.requests >= 1 and state.waits_ended == 0


def test_api_with_slow_llm_answers_and_streams_without_hanging(
    store: Components, llm: tuple[FakeLLM, str]
) -> None:
    state, url = llm
    state.mode, state.delay = "slow", SILENCE_S
    settings = store.settings.model_copy(
        update={"answerer": "openai", "openai_base_url": url, "llm_timeout_s": TIMEOUT_S}
    )
    app = create_app(settings, dataclasses.replace(store, settings=settings))
    with TestClient(app) as client:
        asked = client.post("/v1/ask", json={"question": SEED_QUESTION})
        assert asked.status_code == 200
        assert asked.json()["answerer"] == "extractive (fallback)"
        body = {"stream": True, "messages": [{"role": "user", "content": SEED_QUESTION}]}
        streamed = client.post("/v1/chat/completions", json=body)
        assert state.requests >= 2 and state.waits_ended == 0  # both came back mid-silence
    assert streamed.status_code == 200 and streamed.text.endswith("data: [DONE]\n\n")
    final = json.loads(streamed.text.split("\n\n")[-3].removeprefix("data: "))
    assert SEED_ANSWER in final["answer"] and final["abstained"] is False

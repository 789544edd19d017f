"""Configured limits: question, history and top_k bounds (422), the rate limit (429), and the
answer timeout (a slow answerer falls back to extractive, flagged)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import TokenBucket
from rag.components import Components
from rag.schema import Draft, Evidence
from rag.service import QAService
from tests.api.conftest import SEED_QUESTION


def limited_client(components: Components, **limits: object) -> TestClient:
    settings = components.settings.model_copy(update=limits)
    return TestClient(create_app(settings, dataclasses.replace(components, settings=settings)))


@pytest.fixture
def small_limits(qa_components: Components) -> Iterator[TestClient]:
    with limited_client(
        qa_components, max_question_chars=60, max_history_turns=2, max_top_k=5
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"question": "x" * 61}, "longer than 60 characters"),
        ({"question": "Who?", "history": [{"role": "user", "content": "hi"}] * 3}, "2 turns"),
        ({"question": "Who?", "top_k": 6}, "between 1 and 5"),
    ],
)
def test_configured_limits_are_422(small_limits: TestClient, body: dict, fragment: str) -> None:
    response = small_limits.post("/v1/ask", json=body)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_limits_at_the_bound_are_accepted(small_limits: TestClient) -> None:
    body = {
        "question": SEED_QUESTION,
        "history": [{"role": "user", "content": "hi"}] * 2,
        "top_k": 5,
    }
    assert small_limits.post("/v1/ask", json=body).status_code == 200


def test_chat_question_limit_is_422_and_long_history_is_cut(small_limits: TestClient) -> None:
    too_long = {"messages": [{"role": "user", "content": "y" * 61}]}
    assert small_limits.post("/v1/chat/completions", json=too_long).status_code == 422
    turns = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}] * 5
    body = {"messages": [*turns, {"role": "user", "content": SEED_QUESTION}]}
    assert small_limits.post("/v1/chat/completions", json=body).status_code == 200


# --- rate limit -----------------------------------------------------------------------------
def test_token_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(per_minute=60, burst=2, clock=lambda: now[0])
    assert bucket.take("a") == 0.0 and bucket.take("a") == 0.0
    assert bucket.take("a") == pytest.approx(1.0)  # one token a second
    assert bucket.take("b") == 0.0  # buckets are per identity
    now[0] = 0.5
    assert bucket.take("a") == pytest.approx(0.5)
    now[0] = 1.0
    assert bucket.take("a") == 0.0
    now[0] = 100.0  # idle: refills only up to the burst
    assert [bucket.take("a") for _ in range(3)][-1] > 0


def test_rate_limit_is_429_with_retry_after(qa_components: Components) -> None:
    with limited_client(qa_components, rate_limit_per_minute=6, rate_limit_burst=3) as client:
        codes = [client.get("/v1/models").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/v1/documents")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "rate limit exceeded" in refused.json()["detail"]
        # Probes are never limited, so an orchestrator can't be locked out.
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200


def test_rate_limit_is_per_key(qa_components: Components) -> None:
    with limited_client(
        qa_components, api_keys=["k-one", "k-two"], rate_limit_per_minute=60, rate_limit_burst=2
    ) as client:
        one = {"Authorization": "Bearer k-one"}
        two = {"Authorization": "Bearer k-two"}
        assert [client.get("/v1/models", headers=one).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        assert client.get("/v1/models", headers=two).status_code == 200


def test_rate_limit_zero_disables_it(qa_components: Components) -> None:
    with limited_client(qa_components, rate_limit_per_minute=0) as client:
        assert {client.get("/v1/models").status_code for _ in range(200)} == {200}


# --- answer timeout -------------------------------------------------------------------------
class Slow:
    """A non-streaming answerer that takes ``delay`` seconds (an LLM under load)."""

    name = "slow"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.finished = threading.Event()

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        time.sleep(self.delay)
        self.finished.set()
        return Draft(text=f"{evidence[0].text} [1]", answerer=self.name)


class Broken:
    name = "broken"

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        raise RuntimeError("connection refused")


def service_with(components: Components, timeout: float, **answerers: object) -> QAService:
    settings = components.settings.model_copy(update={"llm_timeout_s": timeout})
    return QAService(dataclasses.replace(components, settings=settings), answerers)  # type: ignore[arg-type]


def test_slow_answerer_times_out_to_flagged_extractive(qa_components: Components) -> None:
    slow = Slow(delay=3.0)
    service = service_with(qa_components, 0.3, slow=slow)
    started = time.perf_counter()
    result = service.ask(SEED_QUESTION, answerer="slow")
    assert time.perf_counter() - started < 2.0
    assert result.answerer == "extractive (fallback)"
    assert result.note and "timed out after 0.3 s" in result.note
    assert "Vaishnaw" in result.answer and not result.abstained


def test_answerer_within_the_timeout_answers(qa_components: Components) -> None:
    result = service_with(qa_components, 5.0, slow=Slow(delay=0.0)).ask(
        SEED_QUESTION, answerer="slow"
    )
    assert result.answerer == "slow" and result.note is None


def test_broken_answerer_falls_back_with_its_error(qa_components: Components) -> None:
    result = service_with(qa_components, 5.0, broken=Broken()).ask(SEED_QUESTION, answerer="broken")
    assert result.answerer == "extractive (fallback)"
    assert result.note == "broken failed: connection refused"


def test_api_answer_timeout_is_a_flagged_200(qa_components: Components) -> None:
    with limited_client(qa_components, llm_timeout_s=0.3) as client:
        client.app.state.service.answerers["slow"] = Slow(delay=3.0)  # type: ignore[attr-defined]
        started = time.perf_counter()
        response = client.post("/v1/ask", json={"question": SEED_QUESTION, "answerer": "slow"})
        assert time.perf_counter() - started < 2.0
    assert response.status_code == 200
    body = response.json()
    assert body["answerer"] == "extractive (fallback)" and "timed out" in body["note"]

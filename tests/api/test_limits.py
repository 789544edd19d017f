"""Configured limits: question, history and top_k bounds (422), the rate limit (429), and the
answer timeout (a slow answerer falls back to extractive, flagged)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import SERVER_OPTIONS, TokenBucket, client_host, trusted_networks
from rag.components import Components
from rag.schema import MAX_FILTER_VALUES, Draft, Evidence
from rag.service import QAService
from rag.store.chroma import StoreUnavailable
from tests.api.conftest import SEED_ANSWER, SEED_QUESTION
from tests.helpers import live_server


def limited_client(components: Components, **limits: object) -> TestClient:
    settings = components.settings.model_copy(update=limits)
    return TestClient(create_app(settings, dataclasses.replace(components, settings=settings)))


@pytest.fixture
def small_limits(qa_components: Components) -> Iterator[TestClient]:
    with limited_client(
        qa_components,
        max_question_chars=60,
        max_history_turns=2,
        max_history_chars=100,
        max_top_k=5,
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"question": "x" * 61}, "longer than 60 characters"),
        ({"question": "Who?", "history": [{"role": "user", "content": "hi"}] * 3}, "2 turns"),
        ({"question": "Who?", "top_k": 6}, "between 1 and 5"),
        (
            {"question": "Who?", "history": [{"role": "user", "content": "h" * 101}]},
            "longer than 100 characters",
        ),
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


def test_chat_history_is_cut_to_its_character_bound(qa_components: Components) -> None:
    from api.routes.chat import within_chars
    from rag.schema import ChatTurn

    settings = qa_components.settings.model_copy(update={"max_history_chars": 100})
    turns = [ChatTurn(role="user", content="a" * 60), ChatTurn(role="assistant", content="b" * 60)]
    assert [t.content for t in within_chars(turns, settings)] == ["b" * 60]
    huge = [ChatTurn(role="user", content="c" * 230_000)]
    assert [t.content for t in within_chars(huge, settings)] == ["c" * 100]


def test_a_rewritten_question_is_held_to_the_question_limit(qa_components: Components) -> None:
    from rag.schema import ChatTurn

    settings = qa_components.settings.model_copy(update={"max_question_chars": 40})
    service = QAService(dataclasses.replace(qa_components, settings=settings))
    history = [
        ChatTurn(role="user", content="Who chairs the works committee of the Vellmark council?"),
        ChatTurn(role="assistant", content="Councillor Odessa Prane [1]."),
    ]
    result = service.ask("What did she present?", history=history)
    assert len(result.standalone_question) <= 40
    assert result.standalone_question == "What did she present?"


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


def test_client_host_believes_forwarded_for_only_from_trusted_proxies() -> None:
    proxies = trusted_networks(["10.0.0.0/8", "127.0.0.1"])
    assert client_host("203.0.113.9", ["1.2.3.4"], proxies) == "203.0.113.9"  # not a proxy
    assert client_host("127.0.0.1", ["1.2.3.4"], []) == "127.0.0.1"  # none trusted by default
    assert client_host("10.1.1.1", ["198.51.100.7"], proxies) == "198.51.100.7"
    # Hops left of the right-most untrusted one are the client's own claims.
    assert client_host("10.1.1.1", ["6.6.6.6, 198.51.100.7, 10.2.2.2"], proxies) == "198.51.100.7"
    assert client_host("10.1.1.1", [], proxies) == "10.1.1.1"
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        trusted_networks(["not-an-ip"])


def spoofed(client: TestClient, n: int) -> list[int]:
    return [
        client.get("/v1/models", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
        for i in range(n)
    ]


def test_forwarded_for_does_not_pick_the_bucket(qa_components: Components) -> None:
    settings = qa_components.settings.model_copy(
        update={"rate_limit_per_minute": 60, "rate_limit_burst": 3}
    )
    app = create_app(settings, dataclasses.replace(qa_components, settings=settings))
    with TestClient(app, client=("127.0.0.1", 5000)) as client:
        assert spoofed(client, 5) == [200, 200, 200, 429, 429]


def test_forwarded_for_from_a_trusted_proxy_picks_the_bucket(qa_components: Components) -> None:
    settings = qa_components.settings.model_copy(
        update={
            "rate_limit_per_minute": 60,
            "rate_limit_burst": 3,
            "trusted_proxies": ["127.0.0.1"],
        }
    )
    app = create_app(settings, dataclasses.replace(qa_components, settings=settings))
    with TestClient(app, client=("127.0.0.1", 5000)) as client:
        assert set(spoofed(client, 5)) == {200}  # five clients behind the proxy, one request each


def test_live_server_ignores_spoofed_forwarded_for(
    qa_components: Components, access_lines: list[str]
) -> None:
    """The issue's reproduction: 40 requests, each with another X-Forwarded-For, against a
    30/minute limit on a server configured as ``briefqa serve`` configures uvicorn."""
    settings = qa_components.settings.model_copy(update={"rate_limit_per_minute": 30})
    app = create_app(settings, dataclasses.replace(qa_components, settings=settings))
    with live_server(app, **SERVER_OPTIONS) as url, httpx.Client(base_url=url) as http:
        codes = [
            http.get("/v1/models", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(40)
        ]
    assert codes.count(200) == 30 and codes.count(429) == 10
    clients = {json.loads(line)["client"] for line in access_lines}
    assert clients == {"127.0.0.1"}  # the access log isn't spoofable either


def test_serve_turns_uvicorn_proxy_headers_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from api.cli import app as cli

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    assert CliRunner().invoke(cli, ["serve", "--port", "9"]).exit_code == 0
    assert seen["proxy_headers"] is False


def test_rate_limit_zero_disables_it(qa_components: Components) -> None:
    with limited_client(qa_components, rate_limit_per_minute=0) as client:
        assert {client.get("/v1/models").status_code for _ in range(200)} == {200}


# --- answer timeout -------------------------------------------------------------------------
class Slow:
    """A non-streaming answerer that takes ``delay`` seconds, or until ``release`` (an LLM
    under load); ``finished`` tells whether it has returned yet."""

    name = "slow"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.release = threading.Event()
        self.finished = threading.Event()

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        self.release.wait(self.delay)
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
    slow = Slow(delay=60.0)
    service = service_with(qa_components, 0.3, slow=slow)
    result = service.ask(SEED_QUESTION, answerer="slow")
    # The answer came back while the slow answerer was still working: the timeout cut it off.
    assert not slow.finished.is_set()
    slow.release.set()
    assert result.answerer == "extractive (fallback)"
    assert result.note and "timed out after 0.3 s" in result.note
    assert SEED_ANSWER in result.answer and not result.abstained


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
        slow = Slow(delay=60.0)
        client.app.state.service.answerers["slow"] = slow  # type: ignore[attr-defined]
        response = client.post("/v1/ask", json={"question": SEED_QUESTION, "answerer": "slow"})
        assert not slow.finished.is_set()  # answered while the slow answerer still ran
        slow.release.set()
    assert response.status_code == 200
    body = response.json()
    assert body["answerer"] == "extractive (fallback)" and "timed out" in body["note"]


# --- list filters and store errors ----------------------------------------------------------
def test_huge_list_filters_are_422_with_the_limit(client: TestClient) -> None:
    """33,000 doc ids used to reach Chroma and come back as 503 "too many SQL variables"."""
    many = [f"doc-{i}" for i in range(33_000)]
    for field in ("doc_ids", "sources"):
        body = {"question": SEED_QUESTION, "filters": {field: many}}
        response = client.post("/v1/ask", json=body)
        assert response.status_code == 422, response.text[:200]
        detail = response.json()["detail"]
        assert f"filters.{field}" in detail and str(MAX_FILTER_VALUES) in detail
        assert "SQL" not in response.text
    chat = {"messages": [{"role": "user", "content": SEED_QUESTION}], "filters": {"doc_ids": many}}
    assert client.post("/v1/chat/completions", json=chat).status_code == 422


def test_filters_at_the_limit_are_answered(client: TestClient) -> None:
    ids = ["000_ca9448a2e7e84a10.txt"] + [f"doc-{i}" for i in range(MAX_FILTER_VALUES - 1)]
    body = {"question": SEED_QUESTION, "filters": {"doc_ids": ids, "sources": ["x"] * 1000}}
    response = client.post("/v1/ask", json=body)
    assert response.status_code == 200


def test_store_errors_never_echo_store_internals(
    qa_components: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    internal = "(sqlite3.OperationalError) too many SQL variables [SQL: SELECT id FROM embeddings]"

    def failing(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable(f"Chroma store unavailable: {internal}")

    with limited_client(qa_components) as client:
        monkeypatch.setattr(qa_components.store, "query", failing)
        monkeypatch.setattr(qa_components.store, "list_documents", failing)
        for response in (
            client.post("/v1/ask", json={"question": SEED_QUESTION}),
            client.get("/v1/documents"),
        ):
            assert response.status_code == 503
            assert "SQL" not in response.text and "sqlite" not in response.text
            assert response.json()["detail"].startswith("The document store is unavailable")


def test_store_timeouts_still_say_timed_out(
    qa_components: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("Chroma store unavailable: timed out at /var/lib/x.sqlite3")

    with limited_client(qa_components) as client:
        monkeypatch.setattr(qa_components.store, "list_documents", slow)
        detail = client.get("/v1/documents").json()["detail"]
    assert "(timed out)" in detail and "sqlite3" not in detail

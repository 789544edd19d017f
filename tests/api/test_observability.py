"""Request ids, the JSON access log (one line per request) and the Prometheus metrics."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from api.observability import ACCESS_LOGGER, JsonFormatter
from rag.components import Components
from tests.api.conftest import SEED_QUESTION, UNANSWERABLE

FIELDS = {
    "ts",
    "level",
    "msg",
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "request_id",
    "key_id",
    "answerer",
    "abstained",
}


@pytest.fixture
def own_client(qa_components: Components) -> Iterator[TestClient]:
    """An app of its own over the shared store, so its metrics count only this test."""
    with TestClient(create_app(qa_components.settings, qa_components)) as client:
        yield client


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_request_id_is_generated_or_echoed(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/healthz").headers["x-request-id"] != generated
    mine = "trace-42.abc:DEF"
    assert client.get("/healthz", headers={"X-Request-ID": mine}).headers["x-request-id"] == mine
    # Junk is not echoed (it would end up in logs and other services' headers).
    junk = client.get("/healthz", headers={"X-Request-ID": "a b<script>"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", junk)
    assert client.get("/healthz", headers={"X-Request-ID": "x" * 200}).headers["x-request-id"] != (
        "x" * 200
    )


def test_errors_carry_the_request_id_too(client: TestClient) -> None:
    for response in (
        client.get("/v1/documents/nope"),
        client.post("/v1/ask", json={}),
        client.get("/no/such/route"),
    ):
        assert response.status_code in (404, 422)
        assert response.headers["x-request-id"]


def test_one_json_access_line_per_request(client: TestClient, access_lines: list[str]) -> None:
    asked = client.post(
        "/v1/ask", json={"question": SEED_QUESTION}, headers={"X-Request-ID": "req-1"}
    )
    client.post("/v1/ask", json={"question": UNANSWERABLE})
    client.get("/v1/documents/wire-001")
    assert len(access_lines) == 3
    first, second, third = (json.loads(line) for line in access_lines)
    assert set(first) >= FIELDS
    assert first["request_id"] == "req-1" == asked.headers["x-request-id"]
    assert first["method"] == "POST" and first["path"] == "/v1/ask" and first["status"] == 200
    assert first["route"] == "/v1/ask" and first["duration_ms"] > 0
    assert first["answerer"] == "extractive" and first["abstained"] is False
    assert first["key_id"] is None  # auth is off
    assert second["abstained"] is True
    assert third["route"] == "/v1/documents/{doc_id:path}" and third["answerer"] is None


def test_streamed_answer_is_logged_when_the_stream_ends(
    client: TestClient, access_lines: list[str]
) -> None:
    body = {"stream": True, "messages": [{"role": "user", "content": SEED_QUESTION}]}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200 and response.text.endswith("data: [DONE]\n\n")
    (line,) = (json.loads(x) for x in access_lines)
    assert line["answerer"] == "extractive" and line["abstained"] is False


def test_metrics_count_requests_answers_and_abstentions(own_client: TestClient) -> None:
    own_client.post("/v1/ask", json={"question": SEED_QUESTION})
    own_client.post("/v1/ask", json={"question": UNANSWERABLE})
    own_client.post("/v1/ask", json={})
    own_client.get("/v1/documents/nope")
    own_client.get("/not/a/route")
    got = samples(own_client)
    ask_ok = (("method", "POST"), ("route", "/v1/ask"), ("status", "200"))
    assert got[("briefqa_http_requests_total", ask_ok)] == 2
    ask_bad = (("method", "POST"), ("route", "/v1/ask"), ("status", "422"))
    assert got[("briefqa_http_requests_total", ask_bad)] == 1
    doc_404 = (("method", "GET"), ("route", "/v1/documents/{doc_id:path}"), ("status", "404"))
    assert got[("briefqa_http_requests_total", doc_404)] == 1
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert got[("briefqa_http_requests_total", unmatched)] == 1
    latency = (("le", "+Inf"), ("method", "POST"), ("route", "/v1/ask"))
    assert got[("briefqa_http_request_duration_seconds_bucket", latency)] == 3
    assert got[("briefqa_answers_total", (("answerer", "extractive"),))] == 1
    assert got[("briefqa_answers_total", (("answerer", "none"),))] == 1
    assert got[("briefqa_abstentions_total", ())] == 1
    assert got[("briefqa_service_ready", ())] == 1
    assert got[("briefqa_store_documents", ())] >= 5
    assert got[("briefqa_store_chunks", ())] >= got[("briefqa_store_documents", ())]


def test_metrics_count_ingests_and_deletes(empty_client: TestClient) -> None:
    body = "Gullrock Point counted 4,100 gulls this spring.\nThe count was a record."
    for _ in range(2):  # new, then unchanged
        empty_client.post(
            "/v1/documents",
            params={"doc_id": "gulls.txt"},
            content=body.encode(),
            headers={"Content-Type": "text/plain"},
        )
    got = samples(empty_client)
    assert got[("briefqa_ingest_documents_total", (("outcome", "new"),))] == 1
    assert got[("briefqa_ingest_documents_total", (("outcome", "unchanged"),))] == 1
    assert got[("briefqa_ingest_chunks_total", ())] >= 1
    assert got[("briefqa_store_documents", ())] == 1
    assert empty_client.delete("/v1/documents/gulls.txt").status_code == 200
    got = samples(empty_client)
    assert got[("briefqa_ingest_documents_total", (("outcome", "deleted"),))] == 1
    assert got[("briefqa_store_documents", ())] == 0


def test_refused_requests_are_counted_per_route(qa_components: Components) -> None:
    settings = qa_components.settings.model_copy(update={"api_keys": ["k"]})
    with TestClient(create_app(settings, qa_components)) as client:
        assert client.post("/v1/ask", json={"question": "x"}).status_code == 401
        got = samples_with_key(client, "k")
    refused = (("method", "POST"), ("route", "/v1/ask"), ("status", "401"))
    assert got[("briefqa_http_requests_total", refused)] == 1


def samples_with_key(client: TestClient, key: str) -> dict:
    client.headers["Authorization"] = f"Bearer {key}"
    try:
        return samples(client)
    finally:
        del client.headers["Authorization"]


def test_json_formatter_emits_one_line() -> None:
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"path": "/v1/ask\nsecond line", "status": 200}  # type: ignore[attr-defined]
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line)["path"] == "/v1/ask\nsecond line"

"""Hand-picked hostile requests the schema fuzzer does not produce: JSON that Python parses
but nothing can encode (lone surrogates), non-finite numbers, absurd nesting, wrong encodings.
Each must get a 2xx/4xx with a JSON ``detail``, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.components import Components

JSON = {"Content-Type": "application/json"}
CHAT = b'{"messages": [{"role": "user", "content": %s}]%s}'


@pytest.fixture
def client(components: Components) -> Iterator[TestClient]:
    """A fresh store; server exceptions come back as 500s instead of being raised."""
    settings = components.settings.model_copy(update={"rate_limit_per_minute": 0})
    app = create_app(settings, components)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


CASES = [
    ("/v1/ask", b'{"question": "bad \\ud800 surrogate in Vellmark?"}', 200),
    ("/v1/ask", b'{"question": "x", "history": [{"role": "user", "content": "\\udfff"}]}', 200),
    ("/v1/ask", b'{"question": "who?", "filters": {"doc_ids": ["\\ud800"]}}', 200),
    ("/v1/ask", b'{"question": "who\\u0000 is it"}', 200),
    ("/v1/ask", b'{"question": "who", "top_k": NaN}', 422),
    ("/v1/ask", b'{"question": "who", "top_k": 1e400}', 422),
    ("/v1/ask", b'{"question": -Infinity}', 422),
    ("/v1/ask", b'{"question": "who", "top_k": 1' + b"0" * 5000 + b"}", 400),
    ("/v1/ask", b'{"question": "x", "filters": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", 400),
    ("/v1/ask", b"[" * 100_000, 400),
    ("/v1/ask", b"\xff\xfe{", 400),
    ("/v1/ask", '{"question": "who"}'.encode("utf-16"), 200),
    ("/v1/ask", b"", 422),
    ("/v1/ask", b'"just a string"', 422),
    ("/v1/chat/completions", CHAT % (b'"bad \\ud800?"', b""), 200),
    ("/v1/chat/completions", CHAT % (b'"x"', b', "temperature": NaN'), 200),
    ("/v1/chat/completions", CHAT % (b'[{"type": "text", "text": "\\udc00"}]', b""), 200),
    ("/v1/chat/completions", CHAT % (b"null", b""), 422),
]


@pytest.mark.parametrize(("path", "body", "status"), CASES)
def test_hostile_json_is_never_a_5xx(
    client: TestClient, path: str, body: bytes, status: int
) -> None:
    response = client.post(path, content=body, headers=JSON)
    assert response.status_code == status, response.text[:300]
    assert "detail" in response.json() or status == 200


@pytest.mark.parametrize(
    ("body", "params"),
    [
        (b'{"doc_id": "a\\udc00", "title": "T\\ud800", "text": "bad \\ud800 in Vellmark."}', {}),
        (b'{"doc_id": "n", "text": "x", "date": NaN, "source": 5, "url": []}', {}),
        (b'{"doc_id": "deep", "text": "x", "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}", {}),
    ],
)
def test_hostile_jsonl_uploads_are_never_a_5xx(
    client: TestClient, body: bytes, params: dict
) -> None:
    response = client.post(
        "/v1/documents", params=params, content=body, headers={"Content-Type": "application/jsonl"}
    )
    assert response.status_code < 500, response.text[:300]


def test_surrogates_are_stored_as_replacement_characters(client: TestClient) -> None:
    body = b'{"doc_id": "s", "title": "T", "text": "The \\ud800 harbour of Vellmark reopened."}'
    stored = client.post(
        "/v1/documents", content=body, headers={"Content-Type": "application/jsonl"}
    )
    assert stored.status_code == 200
    text = client.get("/v1/documents/s").json()["text"]
    assert text == "The \ufffd harbour of Vellmark reopened."


@pytest.mark.parametrize(
    "url",
    [
        "/v1/documents/%ED%A0%80",  # a surrogate, percent-encoded
        "/v1/documents/%FF%FE",
        "/v1/documents/a%00b",
        "/v1/documents/" + "x" * 10_000,
        "/v1/documents/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_odd_document_paths_are_404(client: TestClient, url: str) -> None:
    for method in ("GET", "DELETE"):
        response = client.request(method, url)
        assert response.status_code == 404, response.text[:200]

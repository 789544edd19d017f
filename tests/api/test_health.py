"""Liveness, readiness and the OpenAPI docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.components import Components
from rag.config import Settings
from rag.store.chroma import StoreUnavailable


def test_healthz_is_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_service_embedder_and_store_are_up(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert "extractive" in body["answerers"]
    assert body["default_answerer"] == "extractive"


def test_readyz_503_with_reason_when_store_ping_fails(
    client: TestClient, qa_components: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise StoreUnavailable("Chroma store unavailable: connection refused")

    monkeypatch.setattr(qa_components.store, "ping", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "connection refused" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200


def test_app_starts_without_store_and_says_why(tmp_path: Path) -> None:
    """Chroma down at startup: the process stays up (healthz), but isn't ready and says why."""
    settings = Settings(
        data_dir=tmp_path, chroma_url="http://127.0.0.1:9", torch_threads=1, _env_file=None
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "Chroma" in ready.json()["detail"]
        asked = client.post("/v1/ask", json={"question": "Who chairs the works committee?"})
        assert asked.status_code == 503
        assert "not ready" in asked.json()["detail"]
        assert client.get("/v1/documents").status_code == 503


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/ask", "/v1/chat/completions", "/v1/documents", "/v1/documents/{doc_id}"):
        assert path in paths
    upload = paths["/v1/documents"]["post"]["requestBody"]["content"]
    assert {"text/plain", "text/markdown", "text/html", "application/jsonl"} <= set(upload)

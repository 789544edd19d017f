"""``/v1/documents``: list, read, upload (raw body by Content-Type), delete, and the limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.components import Components
from rag.store.chroma import StoreUnavailable
from tests.api.conftest import REFUSAL

LIGHTHOUSE = """---
title: Brimhaven Lighthouse Gets A New Keeper
date: 2031-08-21
source: Selwyn Coast Courier
---
The Brimhaven lighthouse on Gullrock Point has a new keeper, Ottoline Vasquez-Marr.
She replaces Barnaby Thistlewood, who kept the light for twenty-six years.
The lighthouse lamp was converted to solar power in 2029.
"""
LIGHTHOUSE_Q = "Who is the new keeper of the Brimhaven lighthouse?"


def test_list_documents(client: TestClient) -> None:
    docs = client.get("/v1/documents").json()
    ids = [d["doc_id"] for d in docs]
    assert ids == sorted(ids)
    assert {"harbor-council.md", "observatory.html", "wire-001", "wire-002"} <= set(ids)
    assert all(d["n_chunks"] > 0 and d["content_hash"] for d in docs)
    assert "text" not in docs[0]


def test_get_document_with_text(client: TestClient) -> None:
    doc = client.get("/v1/documents/harbor-council.md").json()
    assert doc["title"] == "Harbor Council Approves Lantern Bridge Repairs"
    assert doc["source"] == "Vellmark Gazette" and doc["date"] == "2031-05-14"
    assert "Odessa Prane" in doc["text"]


def test_unknown_document_is_404(client: TestClient) -> None:
    response = client.get("/v1/documents/nope/not-here.md")
    assert response.status_code == 404
    assert response.json() == {"detail": "no document 'nope/not-here.md'"}
    assert client.delete("/v1/documents/nope/not-here.md").status_code == 404


def test_upload_ask_delete_round_trip(rw_client: TestClient) -> None:
    before = rw_client.post("/v1/ask", json={"question": LIGHTHOUSE_Q}).json()
    assert before["abstained"] is True

    response = rw_client.post(
        "/v1/documents",
        params={"doc_id": "coast/brimhaven-lighthouse.md"},
        content=LIGHTHOUSE.encode(),
        headers={"Content-Type": "text/markdown; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["doc_ids"] == ["coast/brimhaven-lighthouse.md"]
    assert report["new"] == 1 and report["chunks_written"] >= 1
    assert "1 new" in report["summary"]

    doc = rw_client.get("/v1/documents/coast/brimhaven-lighthouse.md").json()
    assert doc["title"] == "Brimhaven Lighthouse Gets A New Keeper"
    assert doc["source"] == "Selwyn Coast Courier" and doc["date"] == "2031-08-21"

    result = rw_client.post("/v1/ask", json={"question": LIGHTHOUSE_Q}).json()
    assert "Ottoline Vasquez-Marr" in result["answer"]
    cited = [c for c in result["citations"] if c["doc_id"] == "coast/brimhaven-lighthouse.md"]
    assert cited and all(doc["text"][c["start_char"] : c["end_char"]] == c["quote"] for c in cited)

    again = rw_client.post(
        "/v1/documents",
        params={"doc_id": "coast/brimhaven-lighthouse.md"},
        content=LIGHTHOUSE.encode(),
        headers={"Content-Type": "text/markdown"},
    ).json()
    assert again["unchanged"] == 1 and again["chunks_written"] == 0

    deleted = rw_client.delete("/v1/documents/coast/brimhaven-lighthouse.md")
    assert deleted.status_code == 200
    assert deleted.json() == {"doc_id": "coast/brimhaven-lighthouse.md", "deleted": True}
    assert rw_client.get("/v1/documents/coast/brimhaven-lighthouse.md").status_code == 404
    assert rw_client.delete("/v1/documents/coast/brimhaven-lighthouse.md").status_code == 404
    after = rw_client.post("/v1/ask", json={"question": LIGHTHOUSE_Q}).json()
    assert after["answer"] == REFUSAL
    assert all(c["doc_id"] != "coast/brimhaven-lighthouse.md" for c in after["citations"])


def test_upload_jsonl_batch_with_id_prefix(empty_client: TestClient) -> None:
    lines = [
        '{"doc_id": "gull-1", "title": "Gulls", "text": "Gullrock Point counted 4,100 gulls."}',
        '{"text": "The Selwyn ferry added a night crossing on Fridays."}',
    ]
    response = empty_client.post(
        "/v1/documents",
        params={"doc_id": "courier", "source": "Selwyn Coast Courier"},
        content="\n".join(lines).encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["doc_ids"] == ["gull-1", "courier#2"]
    docs = {d["doc_id"]: d for d in empty_client.get("/v1/documents").json()}
    assert set(docs) == {"gull-1", "courier#2"}
    assert docs["gull-1"]["source"] == "Selwyn Coast Courier"  # fills records lacking a source


def test_upload_text_with_title_keeps_first_line(empty_client: TestClient) -> None:
    body = "Gullrock Point counted 4,100 gulls this spring.\nThe count was a record."
    response = empty_client.post(
        "/v1/documents",
        params={"doc_id": "gulls.txt", "title": "Gull census", "date": "2031-04-02"},
        content=body.encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 200, response.text
    doc = empty_client.get("/v1/documents/gulls.txt").json()
    assert doc["title"] == "Gull census" and doc["date"] == "2031-04-02"
    assert doc["text"].startswith("Gullrock Point counted 4,100 gulls")


def test_upload_html(empty_client: TestClient) -> None:
    html = (
        b"<html><head><title>Ferry timetable</title></head>"
        b"<body><p>The night ferry leaves at 23:40.</p></body></html>"
    )
    response = empty_client.post(
        "/v1/documents",
        params={"doc_id": "ferry"},
        content=html,
        headers={"Content-Type": "text/html"},
    )
    assert response.status_code == 200, response.text
    doc = empty_client.get("/v1/documents/ferry").json()
    assert doc["title"] == "Ferry timetable" and "23:40" in doc["text"]


@pytest.mark.parametrize(
    ("content_type", "params", "body", "status", "fragment"),
    [
        ("application/zip", {"doc_id": "x"}, b"PK\x03\x04", 415, "unsupported Content-Type"),
        ("application/pdf", {"doc_id": "x"}, b"%PDF-1.7", 400, "corrupt or truncated PDF"),
        (None, {"doc_id": "x"}, b"hello", 415, "unsupported Content-Type"),
        ("text/plain; charset=latin-1", {"doc_id": "x"}, b"hello", 415, "charset"),
        ("text/plain", {"doc_id": "x"}, b"Title\nbody\x00\x01\x02", 415, "binary"),
        ("text/plain", {"doc_id": "x"}, b"\xff\xfe not utf-8", 400, "UTF-8"),
        ("text/plain", {}, b"hello", 422, "doc_id"),
        ("text/plain", {"doc_id": "x"}, b"   \n", 400, "empty"),
        ("application/jsonl", {"doc_id": "x"}, b'{"text": "ok"}\n{broken', 400, "x:2"),
        ("application/jsonl", {}, b'{"text": "no id here"}', 400, "no doc_id"),
        ("text/plain", {"doc_id": "x", "date": "last week"}, b"hello", 422, "date"),
    ],
)
def test_bad_uploads(
    client: TestClient,
    content_type: str | None,
    params: dict,
    body: bytes,
    status: int,
    fragment: str,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    before = client.get("/v1/documents").json()
    response = client.post("/v1/documents", params=params, content=body, headers=headers)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and fragment in detail
    assert client.get("/v1/documents").json() == before  # nothing written


@pytest.fixture
def small_limit_client(qa_components: Components) -> Iterator[TestClient]:
    """The shared store behind an app whose body limit is 1,000 bytes."""
    settings = qa_components.settings.model_copy(update={"max_body_bytes": 1000})
    with TestClient(create_app(settings, qa_components)) as test_client:
        yield test_client


def test_oversized_body_by_content_length_is_413(small_limit_client: TestClient) -> None:
    response = small_limit_client.post(
        "/v1/documents",
        params={"doc_id": "big.txt"},
        content=b"word " * 400,
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "request body larger than 1000 bytes"}
    assert small_limit_client.get("/v1/documents/big.txt").status_code == 404


def test_oversized_body_without_content_length_is_413(small_limit_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # sent chunked: only counting while reading catches it
        for _ in range(10):
            yield b"word " * 40

    response = small_limit_client.post(
        "/v1/documents",
        params={"doc_id": "big.txt"},
        content=chunks(),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]


def test_oversized_question_body_is_413(small_limit_client: TestClient) -> None:
    response = small_limit_client.post("/v1/ask", json={"question": "why? " * 300})
    assert response.status_code == 413
    small = small_limit_client.post("/v1/ask", json={"question": "Who chairs the works committee?"})
    assert small.status_code == 200


def test_store_outage_on_documents_is_503(
    client: TestClient, qa_components: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("Chroma store unavailable: timed out")

    monkeypatch.setattr(qa_components.store, "list_documents", down)
    monkeypatch.setattr(qa_components.store, "get_documents", down)
    for response in (client.get("/v1/documents"), client.get("/v1/documents/wire-001")):
        assert response.status_code == 503
        assert "timed out" in response.json()["detail"]

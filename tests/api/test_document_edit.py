"""``PATCH /v1/documents/{id}``: title, date and source change after upload (admin only); the
text and its citation offsets stay, and retrieval filters follow the new values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.documents import with_page_breaks
from ingest.clean import split_pages
from rag.components import Components

DOC = "harbor-council.md"


def test_edit_changes_metadata_keeps_text_and_filters_follow(rw_client: TestClient) -> None:
    before = rw_client.get(f"/v1/documents/{DOC}").json()
    response = rw_client.patch(
        f"/v1/documents/{DOC}",
        json={
            "title": "  Lantern Bridge:\nrepairs approved ",
            "date": "2031-05-20",
            "source": "Harbor Herald",
        },
    )
    assert response.status_code == 200, response.text
    meta = response.json()
    assert meta["title"] == "Lantern Bridge: repairs approved"
    assert (meta["date"], meta["source"]) == ("2031-05-20", "Harbor Herald")
    after = rw_client.get(f"/v1/documents/{DOC}").json()
    assert after["text"] == before["text"] and after["n_chunks"] == before["n_chunks"]
    listed = {d["doc_id"]: d for d in rw_client.get("/v1/documents").json()}
    assert listed[DOC]["source"] == "Harbor Herald"
    # Chunks carry the new source and date: a filter on them finds this document only.
    filters = {"sources": ["Harbor Herald"], "date_from": "2031-05-19", "date_to": "2031-05-21"}
    result = rw_client.post(
        "/v1/ask",
        json={"question": "Who said the ferry terminal would stay open?", "filters": filters},
    ).json()
    assert result["retrieved"] and {c["doc_id"] for c in result["retrieved"]} == {DOC}
    old = rw_client.post(
        "/v1/ask",
        json={
            "question": "ferry terminal",
            "filters": {"sources": ["Vellmark Gazette"], "doc_ids": [DOC]},
        },
    ).json()
    assert old["retrieved"] == []


def test_only_sent_fields_change(rw_client: TestClient) -> None:
    meta = rw_client.patch(f"/v1/documents/{DOC}", json={"source": "Quay Post"}).json()
    assert meta["source"] == "Quay Post"
    assert meta["title"] == "Harbor Council Approves Lantern Bridge Repairs"
    assert meta["date"] == "2031-05-14"


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2031-02-30"},
        {"date": "14 May 2031"},
        {"title": ""},
        {"title": None},
        {"date": None},  # clearing is refused: the store's record upsert would keep the old
        {"source": None},
        {"n_chunks": 3},
    ],
)
def test_bad_edits_are_422(client: TestClient, body: dict) -> None:
    assert client.patch(f"/v1/documents/{DOC}", json=body).status_code == 422


def test_unknown_document_is_404(client: TestClient) -> None:
    assert client.patch("/v1/documents/nope.md", json={"title": "x"}).status_code == 404


@pytest.fixture
def keyed(qa_components: Components) -> Iterator[TestClient]:
    settings = qa_components.settings.model_copy(
        update={"api_keys": ["reader"], "admin_keys": ["admin"]}
    )
    with TestClient(create_app(settings, qa_components)) as client:
        yield client


def test_edit_needs_an_admin_key(keyed: TestClient) -> None:
    response = keyed.patch(
        f"/v1/documents/{DOC}", json={"title": "x"}, headers={"Authorization": "Bearer reader"}
    )
    assert response.status_code == 403
    same = keyed.patch(f"/v1/documents/{DOC}", json={}, headers={"Authorization": "Bearer admin"})
    assert same.status_code == 200 and same.json()["title"] != "x"


def test_page_breaks_round_trip_through_cleaning() -> None:
    pages = ["First page line.\nMore.", "Second page.", "Third\n\npage."]
    text, starts = split_pages("\n\ue000\n".join(pages))
    rebuilt, again = split_pages(with_page_breaks(text, starts))
    assert (rebuilt, again) == (text, starts)
    assert with_page_breaks("plain", None) == "plain"

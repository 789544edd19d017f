"""``/v1/conversations``: saved in SQLite in the data dir, listed newest first, renamed,
deleted, exported as Markdown with their citations, and kept apart per API key."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.conversation_store import DB_NAME, default_title
from api.main import create_app
from rag.components import Components

CITATION = {
    "n": 1,
    "doc_id": "harbor-council.md",
    "title": "Harbor Council Approves Lantern Bridge Repairs",
    "source": "Vellmark Gazette",
    "date": "2031-05-14",
    "url": None,
    "chunk_id": "harbor-council.md:0",
    "start_char": 364,
    "end_char": 444,
    "quote": "Mayor Tobias Quell said the ferry terminal would stay open throughout the works.",
    "page": None,
}
TURN: dict[str, Any] = {
    "question": "Who said the ferry terminal would stay open?",
    "answer": "Mayor Tobias Quell: \u201cMayor Tobias Quell said the ferry terminal would stay "
    "open throughout the works.\u201d [1]",
    "citations": [CITATION],
    "short_answer": "Mayor Tobias Quell",
    "leads": True,
    "confidence": 0.91,
    "grounded": True,
    "abstained": False,
    "note": None,
    "model": "extractive",
}
REFUSED: dict[str, Any] = {
    "question": "What is the capital of Vellmark's neighbouring kingdom?",
    "answer": "The briefings don't say.",
    "abstained": True,
    "note": "no evidence strong enough to answer",
}


def new(client: TestClient, **body: Any) -> str:
    response = client.post("/v1/conversations", json=body or None)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_saved_turns_come_back_in_order_and_title_defaults_to_first_question(
    client: TestClient, qa_components: Components
) -> None:
    cid = new(client)
    for turn in (TURN, REFUSED):
        assert client.post(f"/v1/conversations/{cid}/messages", json=turn).status_code == 201
    body = client.get(f"/v1/conversations/{cid}").json()
    assert body["title"] == TURN["question"] and body["turns"] == 2
    assert [m["question"] for m in body["messages"]] == [TURN["question"], REFUSED["question"]]
    first = body["messages"][0]
    assert first["citations"][0]["quote"] == CITATION["quote"] and first["leads"] is True
    assert body["messages"][1]["note"] == REFUSED["note"]
    listed = {c["id"]: c for c in client.get("/v1/conversations").json()}
    assert listed[cid]["turns"] == 2
    db = qa_components.settings.data_dir / DB_NAME
    with sqlite3.connect(db) as conn:  # a plain SQLite file in the data dir
        assert conn.execute(
            "SELECT COUNT(*) FROM turns WHERE conversation_id = ?", (cid,)
        ).fetchone() == (2,)


def test_list_is_most_recently_updated_first(client: TestClient) -> None:
    older, newer = new(client, title="older"), new(client, title="newer")
    client.post(f"/v1/conversations/{older}/messages", json=TURN)  # now the latest
    ids = [c["id"] for c in client.get("/v1/conversations").json()]
    assert ids.index(older) < ids.index(newer)


def test_rename_and_delete(client: TestClient) -> None:
    cid = new(client)
    client.post(f"/v1/conversations/{cid}/messages", json=TURN)
    renamed = client.patch(f"/v1/conversations/{cid}", json={"title": "Ferry terminal"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Ferry terminal"
    assert client.get(f"/v1/conversations/{cid}").json()["title"] == "Ferry terminal"
    assert client.patch(f"/v1/conversations/{cid}", json={"title": ""}).status_code == 422
    assert client.delete(f"/v1/conversations/{cid}").json() == {"id": cid, "deleted": True}
    assert client.get(f"/v1/conversations/{cid}").status_code == 404
    assert client.delete(f"/v1/conversations/{cid}").status_code == 404
    assert cid not in [c["id"] for c in client.get("/v1/conversations").json()]
    assert client.post(f"/v1/conversations/{cid}/messages", json=TURN).status_code == 404


def test_export_is_markdown_with_every_citation(client: TestClient) -> None:
    cid = new(client, title="Ferry questions")
    for turn in (TURN, REFUSED):
        client.post(f"/v1/conversations/{cid}/messages", json=turn)
    response = client.get(f"/v1/conversations/{cid}/export.md")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert 'filename="ferry-questions.md"' in response.headers["content-disposition"]
    md = response.text
    assert md.startswith("# Ferry questions\n")
    assert f"## 1. {TURN['question']}" in md and "**Mayor Tobias Quell**" in md
    assert "quotes verified; confidence 91% (extractive)" in md
    assert "[1] Harbor Council Approves Lantern Bridge Repairs (Vellmark Gazette, 2031-05-14)" in md
    assert "`harbor-council.md` characters 364–444" in md
    assert f"> {CITATION['quote']}" in md
    assert f"## 2. {REFUSED['question']}" in md
    assert "_abstained: no evidence strong enough to answer_" in md


def test_bad_turns_are_422(client: TestClient) -> None:
    cid = new(client)
    for bad in ({**TURN, "confidence": 1.5}, {"answer": "no question"}, {**TURN, "extra": 1}):
        response = client.post(f"/v1/conversations/{cid}/messages", json=bad)
        assert response.status_code == (201 if "extra" in bad else 422), bad


def test_default_title_is_one_line_cut_at_a_word() -> None:
    assert default_title("  who   hosted\nit? ") == "who hosted it?"
    long = "word " * 40
    cut = default_title(long)
    assert cut.endswith("…") and len(cut) <= 81 and "  " not in cut


@pytest.fixture
def keyed(qa_components: Components) -> Iterator[TestClient]:
    settings = qa_components.settings.model_copy(update={"api_keys": ["key-a", "key-b"]})
    with TestClient(create_app(settings, qa_components)) as client:
        yield client


def test_each_api_key_sees_only_its_own_conversations(keyed: TestClient) -> None:
    a = {"Authorization": "Bearer key-a"}
    b = {"Authorization": "Bearer key-b"}
    assert keyed.get("/v1/conversations").status_code == 401
    cid = keyed.post("/v1/conversations", json={"title": "mine"}, headers=a).json()["id"]
    keyed.post(f"/v1/conversations/{cid}/messages", json=TURN, headers=a)
    assert cid in [c["id"] for c in keyed.get("/v1/conversations", headers=a).json()]
    assert cid not in [c["id"] for c in keyed.get("/v1/conversations", headers=b).json()]
    for method, path in (
        ("GET", f"/v1/conversations/{cid}"),
        ("GET", f"/v1/conversations/{cid}/export.md"),
        ("DELETE", f"/v1/conversations/{cid}"),
    ):
        assert keyed.request(method, path, headers=b).status_code == 404
    assert keyed.get(f"/v1/conversations/{cid}", headers=a).json()["turns"] == 1


@pytest.mark.parametrize("title", ["Санкции и поставки", "制裁与供应", "Café tariffs"])
def test_a_title_in_any_script_exports_with_an_rfc_6266_file_name(
    client: TestClient, title: str
) -> None:
    cid = new(client, title=title)
    client.post(f"/v1/conversations/{cid}/messages", json=TURN)
    response = client.get(f"/v1/conversations/{cid}/export.md")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    disposition.encode("latin-1")  # a header that can be sent at all
    assert "filename*=UTF-8''" in disposition
    expected = "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-")
    assert quote(f"{expected}.md") in disposition
    assert response.text.startswith(f"# {title}\n")


def test_a_lone_surrogate_in_a_turn_or_a_model_name_is_never_a_500(client: TestClient) -> None:
    cid = new(client, title="Surrogates")

    def post(path: str, body: dict[str, Any]) -> int:
        # JSON's \\ud800 escape, as a client in another language may send it.
        raw = json.dumps(body).encode()
        return client.post(
            path, content=raw, headers={"Content-Type": "application/json"}
        ).status_code

    turn = {**TURN, "note": "x\ud800", "model": "extractive\udfff", "short_answer": "Mayor\ud800"}
    assert post(f"/v1/conversations/{cid}/messages", turn) < 500
    chat = {"model": "x\ud800", "messages": [{"role": "user", "content": "Who?"}]}
    assert 400 <= post("/v1/chat/completions", chat) < 500
    assert 400 <= post("/v1/ask", {"question": "Who?", "answerer": "x\ud800"}) < 500


@pytest.fixture
def capped(qa_components: Components) -> Iterator[TestClient]:
    settings = qa_components.settings.model_copy(
        update={
            "api_keys": ["key-a", "key-b"],
            "max_turn_bytes": 20_000,
            "max_saved_bytes_per_key": 50_000,
        }
    )
    with TestClient(create_app(settings, qa_components)) as client:
        yield client


def test_a_huge_turn_is_413_and_one_key_cannot_fill_the_disk(capped: TestClient) -> None:
    """Issue 26 item 6: a key stored four 4.9 MB turns in half a second. A turn is capped, and
    so is all one key keeps; another key can still save, and deleting frees the room."""
    a = {"Authorization": "Bearer key-a"}
    b = {"Authorization": "Bearer key-b"}
    cid = capped.post("/v1/conversations", json={}, headers=a).json()["id"]
    big = {**TURN, "citations": [{**CITATION, "quote": "q" * 30_000}]}
    response = capped.post(f"/v1/conversations/{cid}/messages", json=big, headers=a)
    assert response.status_code == 413 and "at most 20000 bytes" in response.json()["detail"]
    mid = {**TURN, "answer": "a" * 15_000}
    codes = [
        capped.post(f"/v1/conversations/{cid}/messages", json=mid, headers=a).status_code
        for _ in range(5)
    ]
    assert codes == [201, 201, 201, 413, 413]
    refused = capped.post(f"/v1/conversations/{cid}/messages", json=mid, headers=a)
    assert "per key" in refused.json()["detail"]
    assert capped.get(f"/v1/conversations/{cid}", headers=a).json()["turns"] == 3
    other = capped.post("/v1/conversations", json={}, headers=b).json()["id"]
    saved = capped.post(f"/v1/conversations/{other}/messages", json=mid, headers=b)
    assert saved.status_code == 201
    assert capped.delete(f"/v1/conversations/{cid}", headers=a).status_code == 200
    fresh = capped.post("/v1/conversations", json={}, headers=a).json()["id"]
    saved = capped.post(f"/v1/conversations/{fresh}/messages", json=mid, headers=a)
    assert saved.status_code == 201


def test_a_history_file_from_before_the_caps_is_migrated(tmp_path: Any) -> None:
    from api.conversation_store import ConversationStore, TurnIn

    path = tmp_path / DB_NAME
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT "
            "NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);"
            "CREATE TABLE turns (conversation_id TEXT NOT NULL REFERENCES conversations (id) "
            "ON DELETE CASCADE, seq INTEGER NOT NULL, created REAL NOT NULL, data TEXT NOT NULL,"
            " PRIMARY KEY (conversation_id, seq));"
        )
        db.execute("INSERT INTO conversations VALUES ('c1', 'local', 'old', 0, 0)")
        db.execute("INSERT INTO turns VALUES ('c1', 0, 0, ?)", (json.dumps(TURN),))
    store = ConversationStore(path, max_owner_bytes=len(json.dumps(TURN)) + 10)
    found = store.get("local", "c1")
    assert found is not None and found.messages[0].question == TURN["question"]
    with pytest.raises(Exception) as refused:  # the old turn counts against the key's room
        store.add_turn("local", "c1", TurnIn(**TURN))
    assert getattr(refused.value, "status_code", None) == 413

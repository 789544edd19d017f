"""Optional API keys: who may read, who may write, what is public, and that keys never leak."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import KeyRing, key_id
from rag.components import Components
from rag.config import Settings
from tests.api.conftest import SEED_ANSWER, SEED_QUESTION

READER = "reader-key-0123456789"
ADMIN = "admin-key-9876543210"
NOTE = "Gullrock Point counted 4,100 gulls this spring.\nThe count was a record."


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def keyed_app(components: Components, **keys: list[str]) -> TestClient:
    settings = components.settings.model_copy(update=keys)
    return TestClient(create_app(settings, components))


@pytest.fixture
def auth_client(qa_components: Components) -> Iterator[TestClient]:
    """The shared (read-only) store behind an app with one reader and one admin key."""
    with keyed_app(qa_components, api_keys=[READER], admin_keys=[ADMIN]) as client:
        yield client


@pytest.fixture
def auth_rw_client(components: Components) -> Iterator[TestClient]:
    """A fresh, empty store with reader and admin keys: for write checks."""
    with keyed_app(components, api_keys=[READER], admin_keys=[ADMIN]) as client:
        yield client


def test_auth_is_off_without_keys(client: TestClient) -> None:
    assert client.post("/v1/ask", json={"question": SEED_QUESTION}).status_code == 200


def test_probes_and_ui_shell_are_public(auth_client: TestClient) -> None:
    assert auth_client.get("/healthz").status_code == 200
    assert auth_client.get("/readyz").status_code == 200
    page = auth_client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    script = auth_client.get("/static/api.js")
    assert script.status_code == 200
    # The UI holds no data; it must send the key itself on its /v1 calls.
    assert "Authorization" in script.text and "Bearer " in script.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/ask"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
        ("GET", "/v1/documents"),
        ("GET", "/v1/documents/wire-001"),
        ("POST", "/v1/documents"),
        ("DELETE", "/v1/documents/wire-001"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
    ],
)
def test_missing_key_is_401_with_challenge(auth_client: TestClient, method: str, path: str) -> None:
    response = auth_client.request(method, path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    [f"Bearer {READER}x", "Bearer ", f"Basic {READER}", READER, f"Bearer {READER[:-1]}"],
)
def test_unknown_key_is_401_and_not_echoed(auth_client: TestClient, header: str) -> None:
    response = auth_client.get("/v1/documents", headers={"Authorization": header})
    assert response.status_code == 401
    assert READER not in response.text
    assert isinstance(response.json()["detail"], str)


def test_reader_key_reads(auth_client: TestClient) -> None:
    asked = auth_client.post("/v1/ask", json={"question": SEED_QUESTION}, headers=bearer(READER))
    assert asked.status_code == 200 and SEED_ANSWER in asked.json()["answer"]
    assert auth_client.get("/v1/documents", headers=bearer(READER)).status_code == 200
    assert auth_client.get("/metrics", headers=bearer(READER)).status_code == 200
    assert auth_client.get("/openapi.json", headers=bearer(READER)).status_code == 200
    lowercase = {"Authorization": f"bearer {READER}"}  # the scheme is case-insensitive
    assert auth_client.get("/v1/models", headers=lowercase).status_code == 200


def upload(client: TestClient, key: str) -> int:
    response = client.post(
        "/v1/documents",
        params={"doc_id": "gulls.txt"},
        content=NOTE.encode(),
        headers={"Content-Type": "text/plain", **bearer(key)},
    )
    return response.status_code


def test_writes_need_an_admin_key(auth_rw_client: TestClient) -> None:
    refused = auth_rw_client.post(
        "/v1/documents",
        params={"doc_id": "gulls.txt"},
        content=NOTE.encode(),
        headers={"Content-Type": "text/plain", **bearer(READER)},
    )
    assert refused.status_code == 403
    assert "admin key" in refused.json()["detail"]
    assert auth_rw_client.get("/v1/documents", headers=bearer(READER)).json() == []

    assert upload(auth_rw_client, ADMIN) == 200
    delete = "/v1/documents/gulls.txt"
    assert auth_rw_client.delete(delete, headers=bearer(READER)).status_code == 403
    # The admin key reads too, and deletes.
    assert auth_rw_client.get(delete, headers=bearer(ADMIN)).status_code == 200
    assert auth_rw_client.delete(delete, headers=bearer(ADMIN)).status_code == 200


def test_without_admin_keys_any_key_writes(components: Components) -> None:
    with keyed_app(components, api_keys=[READER]) as client:
        assert upload(client, READER) == 200
        assert client.post("/v1/documents", content=b"x").status_code == 401


def test_admin_keys_alone_turn_auth_on(qa_components: Components) -> None:
    with keyed_app(qa_components, admin_keys=[ADMIN]) as client:
        assert client.get("/v1/documents").status_code == 401
        assert client.get("/v1/documents", headers=bearer(ADMIN)).status_code == 200


def test_keys_are_logged_only_as_hash_ids(auth_client: TestClient, access_lines: list[str]) -> None:
    auth_client.post("/v1/ask", json={"question": SEED_QUESTION}, headers=bearer(READER))
    auth_client.get("/v1/documents", headers=bearer(f"{ADMIN}-wrong"))
    assert len(access_lines) == 2
    ok, refused = (json.loads(line) for line in access_lines)
    assert ok["key_id"] == key_id(READER) and ok["status"] == 200
    assert refused["key_id"] is None and refused["status"] == 401
    everything = "\n".join(access_lines)
    assert READER not in everything and ADMIN not in everything


def test_settings_never_show_keys() -> None:
    settings = Settings(api_keys=[READER], admin_keys=[ADMIN], _env_file=None)
    assert READER not in repr(settings) and ADMIN not in str(settings)


def test_keys_come_comma_separated_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFQA_API_KEYS", f" {READER}, other ,, ")
    monkeypatch.setenv("BRIEFQA_ADMIN_KEYS", ADMIN)
    settings = Settings(_env_file=None)
    assert settings.api_keys == [READER, "other"] and settings.admin_keys == [ADMIN]


def test_key_lookup_compares_every_key_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every configured key is compared with compare_digest, whichever (if any) matches."""
    calls: list[int] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append(len(a))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    ring = KeyRing(["k1", "k2", "k3"], ["a1"])
    for key in ("k1", "k3", "a1", "nope", "k1" * 500):
        calls.clear()
        ring.lookup(key)
        assert calls == [32, 32, 32, 32]  # digests: same length whatever the key's length
    assert ring.lookup("k2") is not None and not ring.lookup("k2").admin  # type: ignore[union-attr]
    assert ring.lookup("a1").admin  # type: ignore[union-attr]
    assert ring.lookup("nope") is None


def test_openapi_declares_bearer_auth(auth_client: TestClient) -> None:
    schema = auth_client.get("/openapi.json", headers=bearer(READER)).json()
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert schema["security"] == [{"bearerAuth": []}]
    assert schema["paths"]["/healthz"]["get"]["security"] == []


def test_wrong_keys_are_rate_limited_per_address(qa_components: Components) -> None:
    """300 wrong keys used to give 300 x 401; now the address is stopped after the failure
    budget, and even the right key waits, so guessing can't go on."""
    with keyed_app(qa_components, api_keys=[READER], auth_failures_per_minute=5) as client:
        codes = [
            client.get("/v1/models", headers=bearer(f"guess-{i}")).status_code for i in range(8)
        ]
        assert codes == [401] * 5 + [429] * 3
        refused = client.get("/v1/models", headers=bearer(READER))
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "failed authentications" in refused.json()["detail"]
        assert client.get("/healthz").status_code == 200  # probes stay open


def test_missing_keys_are_not_counted_as_guesses(qa_components: Components) -> None:
    with keyed_app(qa_components, api_keys=[READER], auth_failures_per_minute=2) as client:
        assert {client.get("/v1/models").status_code for _ in range(5)} == {401}
        assert client.get("/v1/models", headers=bearer(READER)).status_code == 200

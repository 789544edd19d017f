"""A Chroma server (``chroma run`` on loopback) stopped mid-run: the API answers 503 with a
clear message, and recovers by itself when Chroma is back on the same port and path."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api.deps
from api.main import create_app
from rag.config import Settings
from rag.embed import Embedder
from tests.api.conftest import SEED_ANSWER, SEED_QUESTION
from tests.conftest import CORPUS, SEED
from tests.helpers import free_port, ingested, start_chroma, wait_until

pytestmark = pytest.mark.slow

NOTE = "Gull census\nGullrock Point counted 4,100 gulls this spring.\nThe count was a record."


class Chroma:
    """One ``chroma run`` that can be stopped, frozen and started again on the same address."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = start_chroma(str(self.path), self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen process can't act on SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[Chroma]:
    server = Chroma(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()


def settings_for(chroma: Chroma, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        collection="outage",
        chroma_url=chroma.url,
        chroma_timeout_s=2.0,
        torch_threads=1,
        rate_limit_per_minute=0,
        _env_file=None,
    )


def answered(client: TestClient) -> bool:
    response = client.post("/v1/ask", json={"question": SEED_QUESTION})
    return response.status_code == 200 and SEED_ANSWER in response.json()["answer"]


def upload(client: TestClient, doc_id: str) -> int:
    return client.post(
        "/v1/documents",
        params={"doc_id": doc_id},
        content=NOTE.encode(),
        headers={"Content-Type": "text/plain"},
    ).status_code


def test_chroma_stopped_then_restarted(chroma: Chroma, tmp_path: Path, embedder: Embedder) -> None:
    settings = settings_for(chroma, tmp_path)
    components = ingested(settings, embedder, [CORPUS, SEED])
    with TestClient(create_app(settings, components)) as client:
        assert answered(client)

        chroma.stop()
        for response in (
            client.post("/v1/ask", json={"question": SEED_QUESTION}),
            client.get("/v1/documents"),
            client.post(
                "/v1/documents",
                params={"doc_id": "gulls.txt"},
                content=NOTE.encode(),
                headers={"Content-Type": "text/plain"},
            ),
        ):
            assert response.status_code == 503, response.text
            assert "document store is unavailable" in response.json()["detail"]
            assert response.headers["retry-after"]
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200

        chroma.start()  # same port, same path; the API is not restarted
        wait_until(lambda: answered(client), timeout=20)
        assert client.get("/readyz").status_code == 200
        # The upload refused during the outage left nothing behind; a retry stores it.
        assert client.get("/v1/documents/gulls.txt").status_code == 404
        assert upload(client, "gulls.txt") == 200
        assert client.get("/v1/documents/gulls.txt").status_code == 200


def test_frozen_chroma_times_out_to_503_then_recovers(
    chroma: Chroma, tmp_path: Path, embedder: Embedder
) -> None:
    """A server that accepts connections but never answers (SIGSTOP) must not hang requests."""
    settings = settings_for(chroma, tmp_path)
    components = ingested(settings, embedder, [CORPUS, SEED])
    with TestClient(create_app(settings, components)) as client:
        assert answered(client)
        chroma.signal(signal.SIGSTOP)
        try:  # the answer comes while Chroma is still frozen: it did not wait for it
            response = client.post("/v1/ask", json={"question": SEED_QUESTION})
        finally:
            chroma.signal(signal.SIGCONT)
        assert response.status_code == 503
        assert "timed out" in response.json()["detail"]
        assert answered(client)


def test_api_started_while_chroma_down_becomes_ready(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.deps, "REBUILD_INTERVAL_S", 0.2)
    server = Chroma(tmp_path / "chroma-server")
    settings = settings_for(server, tmp_path)
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/ask", json={"question": SEED_QUESTION})
        assert response.status_code == 503 and "not ready" in response.json()["detail"]
        server.start()
        try:
            wait_until(lambda: client.get("/readyz").status_code == 200, timeout=60)
            assert upload(client, "gulls.txt") == 200
            asked = client.post("/v1/ask", json={"question": "How many gulls did Gullrock count?"})
            assert asked.status_code == 200 and "4,100" in asked.json()["answer"]
        finally:
            server.stop()

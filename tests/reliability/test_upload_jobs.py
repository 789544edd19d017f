"""An upload never blocks questions (issue 13 item 2): embedding runs outside the store lock
with an embedder of its own, large bodies become background jobs (202 + GET /v1/jobs/{id}),
and until a replace commits the old version answers. Timing goals live in
``bench/upload_latency.py``; these tests pin the behaviour with an upload held mid-way."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.components import Components
from rag.config import Settings
from rag.embed import Embedder
from tests.api.conftest import SEED_QUESTION
from tests.conftest import CORPUS, SEED
from tests.helpers import ingested

pytestmark = pytest.mark.slow

BELL_Q = "Who rang the Orrin harbour bell?"


def bell(ringer: str, padding: int = 0) -> bytes:
    filler = " ".join(
        f"Note {i}: the Orrin tide tables for week {i} were posted at the quay office."
        for i in range(padding)
    )
    return f"Orrin Harbour Bell\nThe Orrin harbour bell was rung by {ringer}.\n{filler}\n".encode()


def job_settings(tmp_path: Path, collection: str, **extra: object) -> Settings:
    """Uploads over 4 KB become jobs; no rate limit."""
    return Settings(
        data_dir=tmp_path / "data",
        collection=collection,
        torch_threads=1,
        rate_limit_per_minute=0,
        async_upload_bytes=4_000,
        _env_file=None,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def client(tmp_path: Path, embedder: Embedder) -> Iterator[TestClient]:
    settings = job_settings(tmp_path, "jobs")
    components: Components = ingested(settings, embedder, [CORPUS, SEED])
    with TestClient(create_app(settings, components)) as test_client:
        yield test_client


def upload(client: TestClient, body: bytes, doc_id: str = "orrin-bell.txt") -> dict:
    response = client.post(
        "/v1/documents",
        params={"doc_id": doc_id},
        content=body,
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code in (200, 202), response.text
    return {**response.json(), "code": response.status_code}


def wait_for(client: TestClient, job_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} still running")


def test_small_uploads_answer_at_once_large_ones_are_jobs(client: TestClient) -> None:
    small = upload(client, bell("Ada Quill"))
    assert small["code"] == 200 and small["doc_ids"] == ["orrin-bell.txt"]
    large = upload(client, bell("Ben Saltmarsh", padding=80), doc_id="orrin-bell-2.txt")
    assert large["code"] == 202 and large["url"] == f"/v1/jobs/{large['job_id']}"
    job = wait_for(client, large["job_id"])
    assert job["status"] == "done", job
    assert job["result"]["doc_ids"] == ["orrin-bell-2.txt"] and job["result"]["new"] == 1
    assert job["chunks_done"] == job["chunks_total"] == job["result"]["chunks_written"]
    assert client.get("/v1/documents/orrin-bell-2.txt").status_code == 200
    assert client.get("/v1/jobs/no-such-job").status_code == 404


def test_a_job_is_seen_only_by_the_key_that_made_it(tmp_path: Path, embedder: Embedder) -> None:
    """Issue 26: any key could read another key's upload job; now it is 404 to them."""
    settings = job_settings(tmp_path, "jobs-keyed", api_keys=["key-a", "key-b"])
    components = ingested(settings, embedder, [SEED])
    a, b = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
    with TestClient(create_app(settings, components)) as keyed:
        response = keyed.post(
            "/v1/documents",
            params={"doc_id": "orrin-bell.txt"},
            content=bell("Ben Saltmarsh", padding=80),
            headers={"Content-Type": "text/plain", **a},
        )
        assert response.status_code == 202, response.text
        url = response.json()["url"]
        deadline = time.monotonic() + 60
        while keyed.get(url, headers=a).json()["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        mine = keyed.get(url, headers=a)
        assert mine.status_code == 200 and "owner" not in mine.json()
        assert keyed.get(url, headers=b).status_code == 404


def test_a_failed_job_says_why(client: TestClient) -> None:
    blank = b"Title only\n" + b" " * 5_000
    job = wait_for(client, upload(client, blank)["job_id"])
    assert job["status"] == "failed" and job["error_status"] == 400
    assert "nothing stored" in job["error"]


class Gate:
    """Holds a function call until ``open()``; ``entered`` says a call is waiting."""

    def __init__(self) -> None:
        self.entered, self._open = threading.Event(), threading.Event()

    def wrap(self, fn):  # type: ignore[no-untyped-def]
        def held(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.entered.set()
            assert self._open.wait(30), "gate never opened"
            return fn(*args, **kwargs)

        return held

    def after(self, fn):  # type: ignore[no-untyped-def]
        def held(*args, **kwargs):  # type: ignore[no-untyped-def]
            result = fn(*args, **kwargs)
            self.entered.set()
            assert self._open.wait(30), "gate never opened"
            return result

        return held

    def open(self) -> None:
        self._open.set()


def ask(client: TestClient, question: str) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.post("/v1/ask", json={"question": question})
    assert response.status_code == 200, response.text
    return time.perf_counter() - started, response.json()


def test_questions_go_on_while_an_upload_embeds(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's reproduction: a question during an upload waited for the whole ingest
    (26 s for 290 KB). Here the upload's embedding is held open: questions must not wait."""
    ask(client, SEED_QUESTION)  # warm
    embedder = client.app.state.pipeline.embedder  # type: ignore[attr-defined]
    gate = Gate()
    monkeypatch.setattr(embedder, "embed_documents", gate.wrap(embedder.embed_documents))
    job = upload(client, bell("Cora Wend", padding=80))
    assert job["code"] == 202
    assert gate.entered.wait(30)  # the upload is embedding now
    try:
        seconds, body = ask(client, SEED_QUESTION)  # 200, checked in ask()
        assert seconds < 5.0, seconds  # not blocked on the held upload
        assert body["question"] == SEED_QUESTION
        assert client.get("/v1/documents").status_code == 200
    finally:
        gate.open()
    assert wait_for(client, job["job_id"])["status"] == "done"


def test_the_old_version_answers_until_the_replace_commits(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload(client, bell("Dara Fenn"))
    _, before = ask(client, BELL_Q)
    assert "Dara Fenn" in before["answer"], before
    store = client.app.state.components.store  # type: ignore[attr-defined]
    gate = Gate()
    # Held right after the new version's chunks are written, before the commit.
    monkeypatch.setattr(store, "write_chunks", gate.after(store.write_chunks))
    replaced = threading.Thread(target=upload, args=(client, bell("Eli Marsh")))
    replaced.start()
    try:
        assert gate.entered.wait(30)  # new chunks written, record not yet switched
        _, during = ask(client, BELL_Q)
        assert "Dara Fenn" in during["answer"] and "Eli Marsh" not in during["answer"], during
        (quote,) = {c["quote"] for c in during["citations"]}
        text = client.get("/v1/documents/orrin-bell.txt").json()["text"]
        assert quote in text and "Dara Fenn" in text
    finally:
        gate.open()
        replaced.join(30)
    _, after = ask(client, BELL_Q)
    assert "Eli Marsh" in after["answer"], after


class FakeLibc:
    """Records glibc calls instead of making them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[int, ...]]] = []

    def mallopt(self, *args: int) -> int:
        self.calls.append(("mallopt", args))
        return 1

    def malloc_trim(self, *args: int) -> int:
        self.calls.append(("malloc_trim", args))
        return 1


def test_memory_is_given_back_after_each_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13 item 7: 0.40 -> 1.3-1.4 GB after one upload, kept. The server caps glibc's
    arenas and trims the heap after every job (figures: ``bench/uploads.py memory``)."""
    import api.jobs as jobs

    libc = FakeLibc()
    monkeypatch.setattr(jobs, "_libc", lambda: libc)
    create_app(Settings(_env_file=None))
    assert ("mallopt", (jobs.M_ARENA_MAX, 2)) in libc.calls
    queue = jobs.JobQueue(nice=0)
    done = [queue.submit(lambda progress: {"ok": True}), queue.submit(lambda progress: 1 / 0)]
    deadline = time.monotonic() + 10
    while any(queue.get(j.id).finished is None for j in done):  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    queue.shutdown()
    assert libc.calls.count(("malloc_trim", (0,))) == 2  # after a success and a failure

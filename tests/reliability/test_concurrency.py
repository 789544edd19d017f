"""Readers run side by side, writers one at a time, and an ingest while questions run never
yields an error or a half-updated answer. Against a live uvicorn on loopback; every loop is
bounded in count and time."""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app
from rag.components import Components
from rag.config import Settings
from rag.embed import Embedder
from rag.schema import Draft, Evidence
from tests.api.conftest import SEED_QUESTION, UNANSWERABLE
from tests.conftest import CORPUS, SEED
from tests.helpers import ingested, live_server

pytestmark = pytest.mark.slow

DOC = "coast/lighthouse.txt"
LIGHTHOUSE_Q = "How many nights did the Brimhaven lamp burn?"
_REVISION = re.compile(r"revision (\d+)")


def lighthouse(revision: int) -> str:
    """A document whose every sentence names its revision, so a quote tells which one it saw."""
    return (
        f"Brimhaven Lighthouse Log\n"
        f"In revision {revision} the Brimhaven lighthouse is kept by Ottoline Marr-{revision}.\n"
        f"In revision {revision} the lamp burned for {revision * 7} nights.\n"
    )


@pytest.fixture
def components(tmp_path: Path, embedder: Embedder) -> Components:
    settings = Settings(
        data_dir=tmp_path / "data",
        collection="load",
        torch_threads=1,
        rate_limit_per_minute=0,  # one client IP, many threads: measure the service, not the limit
        _env_file=None,
    )
    components = ingested(settings, embedder, [CORPUS, SEED])
    return components


@pytest.fixture
def app(components: Components) -> FastAPI:
    return create_app(components.settings, components)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@dataclass
class Op:
    kind: str  # "put" or "delete"
    revision: int | None
    start: float
    end: float = 0.0


@dataclass
class Timeline:
    """What the writer did, and the stored text of every revision it wrote."""

    ops: list[Op] = field(default_factory=list)
    texts: dict[int, str] = field(default_factory=dict)

    def current_during(self, revision: int, start: float, end: float) -> bool:
        """Could ``revision`` have been the stored one at some moment in [start, end]?"""
        for i, op in enumerate(self.ops):
            if op.kind == "put" and op.revision == revision and op.start < end:
                after = self.ops[i + 1] if i + 1 < len(self.ops) else None
                if after is None or after.end == 0.0 or after.end > start:
                    return True
        return False


def writer(base: str, timeline: Timeline, revisions: int, stop: threading.Event) -> None:
    """Update the document ``revisions`` times, deleting it every third round."""
    with httpx.Client(base_url=base, timeout=60) as http:
        for revision in range(1, revisions + 1):
            op = Op("put", revision, time.monotonic())
            timeline.ops.append(op)
            response = http.post(
                "/v1/documents",
                params={"doc_id": DOC},
                content=lighthouse(revision).encode(),
                headers={"Content-Type": "text/plain"},
            )
            op.end = time.monotonic()
            assert response.status_code == 200, response.text
            timeline.texts[revision] = http.get(f"/v1/documents/{DOC}").json()["text"]
            if revision % 3 == 0:
                op = Op("delete", None, time.monotonic())
                timeline.ops.append(op)
                assert http.delete(f"/v1/documents/{DOC}").status_code == 200
                op.end = time.monotonic()
            time.sleep(0.05)
    stop.set()


@dataclass
class Seen:
    statuses: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    citations: list[tuple[dict, float, float]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def reader(
    base: str, seen: Seen, stop: threading.Event, max_requests: int, deadline: float
) -> None:
    questions = [LIGHTHOUSE_Q, SEED_QUESTION, LIGHTHOUSE_Q, UNANSWERABLE]
    with httpx.Client(base_url=base, timeout=60) as http:
        for i in range(max_requests):
            if stop.is_set() or time.monotonic() > deadline:
                return
            start = time.monotonic()
            try:
                if i % 5 == 4:
                    response = http.get("/v1/documents")
                else:
                    body = {"question": questions[i % len(questions)]}
                    response = http.post("/v1/ask", json=body)
            except httpx.HTTPError as exc:
                seen.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            end = time.monotonic()
            seen.statuses.append(response.status_code)
            seen.latencies.append(end - start)
            if response.status_code == 200 and i % 5 != 4:
                seen.citations.extend((c, start, end) for c in response.json()["citations"])


def test_ingest_while_questions_run(base_url: str, components: Components) -> None:
    static = {
        meta.doc_id: text
        for meta, text in components.store.get_documents(
            d.doc_id for d in components.store.list_documents()
        ).values()
    }
    timeline, seen, stop = Timeline(), Seen(), threading.Event()
    clients, max_requests = 4, 100
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(clients + 1) as pool:
        readers = [
            pool.submit(reader, base_url, seen, stop, max_requests, deadline)
            for _ in range(clients)
        ]
        write = pool.submit(writer, base_url, timeline, 15, stop)
        write.result(timeout=90)
        for r in readers:
            r.result(timeout=90)

    assert not seen.failures, seen.failures[:3]
    assert seen.statuses and all(s < 500 for s in seen.statuses), sorted(set(seen.statuses))
    lighthouse_quotes = 0
    for citation, start, end in seen.citations:
        quote, lo, hi = citation["quote"], citation["start_char"], citation["end_char"]
        if citation["doc_id"] != DOC:
            assert static[citation["doc_id"]][lo:hi] == quote
            continue
        lighthouse_quotes += 1
        revision = int(_REVISION.search(quote).group(1))  # type: ignore[union-attr]
        assert timeline.texts[revision][lo:hi] == quote
        assert timeline.current_during(revision, start, end), (revision, start, end)
    assert lighthouse_quotes > 0  # the readers did see the document change under them
    print(
        f"\nload: {clients} clients x <= {max_requests} requests + 1 writer "
        f"({len(timeline.ops)} writes): {len(seen.statuses)} responses, "
        f"{sum(s >= 500 for s in seen.statuses)} 5xx, {len(seen.failures)} errors, "
        f"{len(seen.citations)} citations checked ({lighthouse_quotes} on the changing doc), "
        f"p50 {statistics.median(seen.latencies) * 1000:.0f} ms"
    )


class Together:
    """A non-streaming answerer whose ``parties`` calls meet inside ``answer`` before any
    returns (they can only meet if they run at once), then hold until ``release`` is set:
    overlap and order are asserted from events, never from seconds."""

    name = "together"

    def __init__(self, parties: int) -> None:
        self.inside = threading.Barrier(parties)
        self.met = threading.Event()
        self.release = threading.Event()
        self.events: list[str] = []
        self._lock = threading.Lock()

    def log(self, event: str) -> None:
        with self._lock:
            self.events.append(event)

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        self.inside.wait(timeout=60)  # BrokenBarrierError if the answers were serialised
        self.met.set()
        self.release.wait(timeout=60)
        self.log("answered")
        return Draft(text=f"{evidence[0].text} [1]", answerer=self.name)


def test_readers_overlap_and_a_writer_waits_for_them(
    base_url: str, app: FastAPI, components: Components
) -> None:
    together = Together(3)
    app.state.service.answerers[together.name] = together
    body = {"question": SEED_QUESTION, "answerer": together.name}

    def ask() -> None:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            assert http.post("/v1/ask", json=body).status_code == 200

    def put() -> None:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            response = http.post(
                "/v1/documents",
                params={"doc_id": DOC},
                content=lighthouse(1).encode(),
                headers={"Content-Type": "text/plain"},
            )
            assert response.status_code == 200
            together.log("stored")

    with ThreadPoolExecutor(4) as pool:
        asks = [pool.submit(ask) for _ in range(3)]
        # The three answers are inside the answerer at once (the barrier passed), so they
        # overlap; each holds the read lock until released.
        assert together.met.wait(timeout=120), "the three answers never ran side by side"
        upload = pool.submit(put)
        time.sleep(0.5)  # give the writer time to queue; if it is late it still comes after
        together.release.set()
        for f in asks:
            f.result(timeout=120)
        upload.result(timeout=120)
    # The upload, sent while the three answers held the read lock, finished after all of them.
    assert together.events == ["answered"] * 3 + ["stored"]

"""Server mode: ingest and search through HttpClient against a real `chroma run` on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from rag.components import build_components
from rag.config import Settings
from rag.embed import Embedder
from rag.retrieve import HybridRetriever
from rag.store.chroma import StoreUnavailable
from tests.helpers import free_port, start_chroma


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start_chroma(str(tmp_path / "server"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_ingest_and_search_through_a_chroma_server(
    chroma_url: str, settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    remote = settings.model_copy(update={"chroma_url": chroma_url})
    comps = build_components(remote, embedder=embedder)
    assert type(comps.store.client).__name__ != "PersistentClient"
    report = IngestPipeline(remote, comps.store, comps.embedder, comps.bm25).run([corpus])
    assert report.new == 5
    assert not remote.chroma_path.exists()  # nothing written to the embedded path
    hits = HybridRetriever(remote, comps.store, comps.embedder, comps.bm25).retrieve(
        "who is the new director of the observatory", top_k=3
    )
    assert hits[0].doc_id == "observatory.html"

    # A second process-like client sees the same state and rebuilds BM25 from the server.
    other = build_components(
        remote.model_copy(update={"data_dir": settings.data_dir / "replica"}), embedder=embedder
    )
    assert other.bm25.generation == comps.store.generation()
    assert other.bm25.search("golden pear prize", 1)[0].doc_id == "orchard-festival.txt"


def test_unreachable_server_is_a_clear_error(settings: Settings, embedder: Embedder) -> None:
    dead = settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(StoreUnavailable, match="Chroma store unavailable"):
        build_components(dead, embedder=embedder)


def test_invalid_collection_name_is_a_configuration_error(
    settings: Settings, embedder: Embedder
) -> None:
    bad = settings.model_copy(update={"collection": "x"})
    with pytest.raises(ValueError, match="invalid Chroma collection 'x'"):
        build_components(bad, embedder=embedder)

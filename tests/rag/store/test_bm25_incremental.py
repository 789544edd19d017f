"""A BM25 index on another replica catches up from the store's change log, not by rebuilding.

"Replica" here is a second ``BM25Index`` over the same store, as an API process sharing a
Chroma server has; the writer is the ingest pipeline with its own index.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import SourceDocument
from rag.schema import Filters
from rag.store import bm25 as bm25_module
from rag.store.bm25 import BM25Index

DOCS = {
    "harbour.txt": "The Vellmar harbour master Osric Pell counted nine trawlers at dawn.",
    "quarry.txt": "The Dunhollow quarry closed after the slate seam ran out in spring.",
    "choir.txt": "The Brisk Hollow choir sang at the lantern fair on the longest night.",
}


def doc(doc_id: str, text: str, date: str | None = None) -> SourceDocument:
    return SourceDocument(doc_id=doc_id, title=doc_id.removesuffix(".txt"), text=text, date=date)


@pytest.fixture
def replica(pipeline, components, tmp_path: Path) -> BM25Index:
    pipeline.ingest([doc(d, t) for d, t in DOCS.items()])
    index = BM25Index(tmp_path / "replica-bm25")
    index.sync(components.store)
    assert index.rebuilds == 1
    return index


def top(index: BM25Index, query: str, **filters: object) -> list[str]:
    return [c.doc_id for c in index.search(query, 5, Filters(**filters) if filters else None)]


def test_a_new_document_is_found_without_a_rebuild(pipeline, components, replica) -> None:
    pipeline.ingest([doc("ferry.txt", "The Skerrin ferry leaves Dunmore pier at seven.")])
    replica.sync(components.store)
    assert replica.rebuilds == 1
    assert replica.generation == components.store.generation()
    assert top(replica, "Skerrin ferry pier") == ["ferry.txt"]
    assert top(replica, "harbour master trawlers")[0] == "harbour.txt"  # the rest still answers


def test_a_replaced_document_answers_with_its_new_text(pipeline, components, replica) -> None:
    pipeline.ingest([doc("quarry.txt", "The Dunhollow quarry reopened when granite was found.")])
    replica.sync(components.store)
    assert replica.rebuilds == 1
    assert top(replica, "granite reopened") == ["quarry.txt"]
    assert top(replica, "slate seam") == []  # the old version's words are gone
    hit = replica.search("granite", 1)[0]
    assert (
        "granite" in hit.text
        and hit.content_hash == components.store.document_hashes()["quarry.txt"]
    )


def test_a_deleted_document_disappears(pipeline, components, replica) -> None:
    assert pipeline.delete("choir.txt")
    replica.sync(components.store)
    assert replica.rebuilds == 1
    assert top(replica, "choir lantern fair") == []
    assert {c.doc_id for c in replica.live_chunks()} == {"harbour.txt", "quarry.txt"}


def test_incremental_ranking_matches_a_rebuild(pipeline, components, replica, tmp_path) -> None:
    pipeline.ingest(
        [
            doc("ferry.txt", "The Vellmar ferry carried nine trawlers' crews to the fair."),
            doc("harbour.txt", "Osric Pell, harbour master, counted eleven trawlers at noon."),
        ]
    )
    replica.sync(components.store)
    fresh = BM25Index(tmp_path / "fresh")
    fresh.build(components.store.all_chunks(), components.store.generation())
    for query in ("nine trawlers", "harbour master Osric Pell", "Vellmar fair", "slate quarry"):
        assert top(replica, query) == top(fresh, query), query


def test_filters_apply_to_chunks_added_since_the_build(pipeline, components, replica) -> None:
    pipeline.ingest([doc("ferry.txt", "The Skerrin ferry sails at seven.", date="2031-05-03")])
    replica.sync(components.store)
    assert top(replica, "Skerrin ferry", date_from="2031-01-01") == ["ferry.txt"]
    assert top(replica, "Skerrin ferry", date_to="2030-12-31") == []
    assert top(replica, "Skerrin ferry", doc_ids=["quarry.txt"]) == []


def test_forked_writers_make_readers_rebuild(components, replica) -> None:
    """Two writers that both started from one generation: the log can't order them."""
    store = components.store
    base = store.generation()
    first = store.bump_generation(["harbour.txt"])
    # A second writer that read ``base`` before the first wrote: its record forks from base.
    store._call(
        store.state.upsert,
        ids=["generation", "change:forked"],
        embeddings=[[1.0], [1.0]],
        metadatas=[{"value": "forked"}, {"kind": "change:", "parent": base, "at": 0.0}],
        documents=["", '["quarry.txt"]'],
    )
    assert store.changes_since(base, "forked") is None
    assert store.changes_since(base, first) is None
    replica.sync(store)
    assert replica.rebuilds == 2 and replica.generation == "forked"


def test_unknown_extent_or_pruned_generation_rebuilds(components, replica) -> None:
    store = components.store
    store.bump_generation(None)  # a change nobody itemised
    replica.sync(store)
    assert replica.rebuilds == 2
    replica.generation = "long-gone"
    replica.sync(store)
    assert replica.rebuilds == 3 and replica.generation == store.generation()


def test_the_change_log_is_pruned(components, monkeypatch) -> None:
    store = components.store
    monkeypatch.setattr("rag.store.chroma_generations._KEEP_CHANGES", 3)
    for _ in range(8):
        store.bump_generation([])
    got = store.state.get(where={"kind": "change:"}, include=[])
    assert 3 <= len(got["ids"]) <= 6


def test_a_large_delta_means_a_rebuild(pipeline, components, replica, monkeypatch) -> None:
    monkeypatch.setattr(bm25_module, "_MIN_DELTA", 1)
    monkeypatch.setattr(bm25_module, "_DELTA_SHARE", 0.0)
    pipeline.ingest(
        [doc(f"extra-{i}.txt", f"Extra note {i} about the Orrin mill.") for i in range(3)]
    )
    replica.sync(components.store)
    assert replica.rebuilds == 2
    assert len(top(replica, "Orrin mill")) == 3


def test_a_restart_loads_the_saved_index_and_catches_up(pipeline, components, tmp_path) -> None:
    pipeline.ingest([doc(d, t) for d, t in DOCS.items()])
    path = tmp_path / "restart-bm25"
    first = BM25Index(path)
    first.sync(components.store)  # built and saved
    pipeline.ingest([doc("ferry.txt", "The Skerrin ferry leaves Dunmore pier at seven.")])
    again = BM25Index(path)  # a new process
    again.sync(components.store)
    assert again.rebuilds == 0
    assert top(again, "Skerrin ferry") == ["ferry.txt"]
    assert again.saved_generation() == components.store.generation()  # and saved its delta


def test_a_restart_resumes_from_the_saved_delta(pipeline, components, tmp_path) -> None:
    pipeline.ingest([doc(d, t) for d, t in DOCS.items()])
    path = tmp_path / "delta-bm25"
    first = BM25Index(path)
    first.sync(components.store)
    pipeline.ingest([doc("quarry.txt", "The Dunhollow quarry reopened when granite was found.")])
    first.sync(components.store)  # caught up and saved its delta
    assert first.saved_generation() == components.store.generation()
    # The store moves on without this process; a restart resumes from the delta it saved.
    components.store.bump_generation([])
    again = BM25Index(path)
    again.sync(components.store)
    assert again.rebuilds == 0
    assert top(again, "granite") == ["quarry.txt"] and top(again, "slate seam") == []

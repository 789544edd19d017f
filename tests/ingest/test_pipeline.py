"""Idempotence, updates, prune, crash recovery and bad input, against a real embedded Chroma."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from rag.store.chroma import ChromaStore

FIXTURE_DOCS = {
    "harbor-council.md",
    "observatory.html",
    "orchard-festival.txt",
    "wire-001",
    "wire-002",
}


def _state(store: ChromaStore) -> tuple[dict[str, str], list[str]]:
    got = store.chunks.get(include=[])
    return store.document_hashes(), sorted(got["ids"])


def test_first_run_stores_every_document_with_offsets(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    report = pipeline.run([corpus])
    assert report.new == 5 and report.chunks_written >= 5 and not report.skipped
    store = pipeline.store
    assert set(store.document_hashes()) == FIXTURE_DOCS
    docs = store.get_documents(FIXTURE_DOCS)
    for chunk in store.all_chunks():
        _, text = docs[chunk.doc_id]
        assert text[chunk.start_char : chunk.end_char] == chunk.text
        assert chunk.chunk_id == f"{chunk.doc_id}:{chunk.chunk_id.rsplit(':', 1)[1]}"
    meta, _ = docs["orchard-festival.txt"]
    assert meta.source == "Vellmark Gazette"  # lifted from the credit line


def test_second_run_embeds_nothing(pipeline: IngestPipeline, corpus: Path) -> None:
    pipeline.run([corpus])
    before = _state(pipeline.store)
    calls: list[int] = []
    original = pipeline.embedder.embed_documents
    pipeline.embedder.embed_documents = lambda texts: calls.append(len(texts)) or original(texts)  # type: ignore[method-assign]
    try:
        report = pipeline.run([corpus])
    finally:
        pipeline.embedder.embed_documents = original  # type: ignore[method-assign]
    assert (report.new, report.updated, report.unchanged, report.chunks_written) == (0, 0, 5, 0)
    assert calls == []
    assert _state(pipeline.store) == before


def test_changed_document_replaces_its_chunks(pipeline: IngestPipeline, corpus: Path) -> None:
    pipeline.run([corpus])
    long_body = " ".join(f"Paragraph {i} on the Lantern Bridge works." for i in range(120))
    (corpus / "orchard-festival.txt").write_text(f"Orchard Festival\n\n{long_body}\n")
    pipeline.run([corpus])
    ids = [i for i in _state(pipeline.store)[1] if i.startswith("orchard-festival.txt:")]
    assert len(ids) > 1
    (corpus / "orchard-festival.txt").write_text("Orchard Festival\n\nNow one short line.\n")
    report = pipeline.run([corpus])
    assert report.updated == 1 and report.unchanged == 4
    ids = [i for i in _state(pipeline.store)[1] if i.startswith("orchard-festival.txt:")]
    assert [i.split("@")[0] for i in ids] == ["orchard-festival.txt:0"]  # no stale chunks
    assert "short line" in pipeline.bm25.search("short line", 3)[0].text


def test_prune_removes_documents_whose_files_are_gone(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    pipeline.run([corpus])
    (corpus / "observatory.html").unlink()
    assert pipeline.run([corpus]).removed == 0  # without --prune nothing is removed
    report = pipeline.run([corpus], prune=True)
    assert report.removed == 1
    assert "observatory.html" not in pipeline.store.document_hashes()
    assert not [i for i in _state(pipeline.store)[1] if i.startswith("observatory.html:")]


def test_prune_is_refused_when_a_file_fails_to_load(pipeline: IngestPipeline, corpus: Path) -> None:
    pipeline.run([corpus])
    (corpus / "observatory.html").write_bytes(b"\x00\x01binary now")
    report = pipeline.run([corpus], prune=True)
    assert report.prune_refused and report.removed == 0
    assert "observatory.html" in pipeline.store.document_hashes()


@pytest.mark.parametrize(
    ("operation", "fail_after"),
    [("chunks.upsert", 0), ("chunks.delete", 0), ("docs.upsert", 0), ("docs.upsert", 1)],
)
def test_crash_mid_ingest_then_rerun_converges(
    operation: str,
    fail_after: int,
    pipeline: IngestPipeline,
    corpus: Path,
    settings,
    embedder,
    tmp_path: Path,
) -> None:
    """The process dies at a chosen Chroma write; a re-run must end as an uninterrupted run."""
    from rag.components import build_components

    pipeline.settings = settings.model_copy(update={"embed_batch_size": 1})  # several groups
    pipeline.run([corpus])
    (corpus / "harbor-council.md").write_text(
        "---\ntitle: Harbor update\n---\nThe bridge opened.\n"
    )
    (corpus / "orchard-festival.txt").write_text("Orchard\n\nThe festival was cancelled.\n")
    (corpus / "new-brief.txt").write_text("New\n\nA ferry named Gull II began service.\n")
    long_body = " ".join(f"Sentence {i} about the Gull II ferry timetable." for i in range(150))
    (corpus / "ferry-timetable.txt").write_text(f"Timetable\n\n{long_body}\n")
    store = pipeline.store
    collection_name, method = operation.split(".")
    target = getattr(store, collection_name)
    real_call, seen = store._call, []

    def crashing_call(fn, *args, **kwargs):
        if getattr(fn, "__self__", None) is target and fn.__name__ == method:
            if len(seen) >= fail_after:
                raise KeyboardInterrupt(f"simulated crash in {operation}")
            seen.append(1)
        return real_call(fn, *args, **kwargs)

    store._call = crashing_call  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        pipeline.run([corpus])
    store._call = real_call  # type: ignore[method-assign]
    # Whatever was committed before the crash, BM25 caches converge on exactly that.
    pipeline.bm25.sync(store)
    assert sorted(c.chunk_id for c in pipeline.bm25.live_chunks()) == sorted(
        c.chunk_id for c in store.all_chunks()
    )

    pipeline.run([corpus])
    # Reference: one uninterrupted ingest of the edited corpus into a fresh store.
    ref_settings = settings.model_copy(update={"data_dir": tmp_path / "ref"})
    ref = build_components(ref_settings, embedder=embedder)
    IngestPipeline(ref_settings, ref.store, ref.embedder, ref.bm25).run([corpus])
    assert _state(store) == _state(ref.store)
    assert pipeline.bm25.generation == store.generation()


def test_bad_files_are_skipped_and_named_without_losing_data(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    pipeline.run([corpus])
    before = _state(pipeline.store)
    bad = corpus / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.md").write_bytes(bytes(range(256)) * 4)
    (bad / "latin.txt").write_bytes(b"caf\xe9")
    (bad / "deck.pptx").write_bytes(b"PK")
    report = pipeline.run([corpus])
    reasons = dict(report.skipped)
    assert {Path(name).name for name in reasons} == {
        "empty.txt",
        "binary.md",
        "latin.txt",
        "deck.pptx",
    }
    assert report.explicit_failures == 0
    assert _state(pipeline.store) == before


def test_explicitly_named_bad_file_counts_as_failure(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    (corpus / "empty.txt").write_bytes(b"")
    report = pipeline.run([corpus / "empty.txt", corpus / "missing.txt"])
    assert report.explicit_failures == 2


def test_duplicate_content_under_another_id_is_skipped(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    (corpus / "copy.txt").write_bytes((corpus / "orchard-festival.txt").read_bytes())
    report = pipeline.run([corpus])
    assert ("orchard-festival.txt", "duplicate of copy.txt") in report.skipped
    assert report.new == 5


def test_delete_masks_the_document_in_bm25_without_a_rebuild(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    pipeline.run([corpus])
    assert pipeline.bm25.search("Halvard Metals", 3)[0].doc_id == "wire-002"
    builds: list[int] = []
    real_build = pipeline.bm25.build
    pipeline.bm25.build = lambda *a, **kw: builds.append(1) or real_build(*a, **kw)  # type: ignore[method-assign]
    assert pipeline.delete("wire-002") is True
    assert pipeline.delete("wire-002") is False
    assert pipeline.bm25.search("Halvard Metals", 3) == []
    assert pipeline.bm25.generation == pipeline.store.generation()
    pipeline.bm25.sync(pipeline.store)  # in step: nothing to rebuild
    assert builds == []
    assert "wire-002" not in pipeline.store.document_hashes()


def test_an_upload_repairs_only_the_documents_it_writes(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    """The API's pipeline checks what it writes: a ghost it re-uploads is re-embedded, an
    orphan elsewhere waits for the CLI or ``briefqa doctor`` (it is invisible to readers)."""
    pipeline.run([corpus])
    store = pipeline.store
    ghost = store.chunks.get(where={"doc_id": "wire-001"}, include=[])["ids"]
    store.chunks.delete(ids=ghost)  # wire-001 is listed without its chunks
    stray = store.chunks.get(
        where={"doc_id": "orchard-festival.txt"}, include=["embeddings", "metadatas"]
    )
    store.chunks.upsert(
        ids=["orchard-festival.txt:0@orphan"],
        embeddings=[stray["embeddings"][0]],
        metadatas=[{**stray["metadatas"][0], "content_hash": "orphan"}],
        documents=["an orphan chunk"],
    )
    scanned: list[object] = []
    real_check = store.check
    store.check = lambda doc_ids=None: scanned.append(doc_ids) or real_check(doc_ids)  # type: ignore[method-assign]
    pipeline.repair_whole_store = False
    report = pipeline.run([corpus / "wire.jsonl"])
    assert scanned == [["wire-001", "wire-002"]]
    assert report.chunks_written >= 1  # the ghost came back
    assert store.check(["wire-001"]).ok
    assert not store.check().ok  # the orchard orphan is still there...
    pipeline.repair_whole_store = True
    pipeline.run([corpus])
    assert store.check().ok  # ...until a whole-store run

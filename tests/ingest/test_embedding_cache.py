"""Re-ingesting reuses stored vectors by chunk-text hash: only new chunk texts are embedded."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.loaders import SourceDocument
from ingest.pipeline import IngestPipeline
from rag.store.chroma import ChromaStore, text_hash

PLACES = ["Vellmark", "Quillon", "Ashgrove", "Ostrelle", "Brevik", "Mirefield"]
THINGS = ["ferry", "quarry", "observatory", "orchard", "tramline", "granary", "lighthouse"]


def _report_text(paragraphs: int = 60) -> list[str]:
    rnd = random.Random(21)
    out = []
    for i in range(paragraphs):
        place, thing = rnd.choice(PLACES), rnd.choice(THINGS)
        out.append(
            f"In {place}, item {i}: the {thing} committee met on day {i + 1} and approved "
            f"{rnd.randint(2, 90)} measures for the {thing}. "
            + " ".join(
                f"Councillor {rnd.choice(PLACES)}-{j} noted the {rnd.choice(THINGS)} budget."
                for j in range(rnd.randint(1, 4))
            )
        )
    return out


@contextmanager
def _counting(pipeline: IngestPipeline) -> Iterator[list[str]]:
    """Every text handed to the embedder, in order."""
    seen: list[str] = []
    original = pipeline.embedder.embed_documents

    def counted(texts: list[str]) -> list[list[float]]:
        seen.extend(texts)
        return original(texts)

    pipeline.embedder.embed_documents = counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        pipeline.embedder.embed_documents = original  # type: ignore[method-assign]


def _doc(doc_id: str, paragraphs: list[str], title: str = "Works report") -> SourceDocument:
    return SourceDocument(doc_id, title, "\n\n".join(paragraphs), source="Vellmark Gazette")


def _close(a: list[float], b: list[float]) -> bool:
    """Equal up to float32 rounding (Chroma may renormalise a unit vector on write)."""
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-6


def _stored_vectors(store: ChromaStore, doc_id: str) -> dict[str, list[float]]:
    got = store.chunks.get(where={"doc_id": doc_id}, include=["documents", "embeddings"])
    return {d: list(v) for d, v in zip(got["documents"], got["embeddings"], strict=True)}


def test_reingest_of_an_edited_document_embeds_only_changed_chunks(
    pipeline: IngestPipeline,
) -> None:
    paras = _report_text()
    first = pipeline.ingest([_doc("works.md", paras)])
    assert first.chunks_embedded == first.chunks_written >= 15
    assert first.chunks_reused == 0
    paras[30] = paras[30].replace("approved", "provisionally approved")
    with _counting(pipeline) as seen:
        again = pipeline.ingest([_doc("works.md", paras)])
    assert again.updated == 1
    assert 1 <= len(seen) == again.chunks_embedded <= 2
    assert any("provisionally approved" in t for t in seen)
    assert again.chunks_reused == again.chunks_written - again.chunks_embedded
    assert "embedded" in again.summary() and "reused" in again.summary()
    # Every stored chunk still reads back verbatim, and only the new version is left.
    text = "\n\n".join(paras)
    chunks = pipeline.store.all_chunks()
    assert len(chunks) == again.chunks_written
    for c in chunks:
        assert text[c.start_char : c.end_char] == c.text


def test_reused_vectors_equal_freshly_embedded_ones(pipeline: IngestPipeline) -> None:
    paras = _report_text(20)
    pipeline.ingest([_doc("works.md", paras)])
    paras.insert(10, "Mayor Tobias Quell opened the Ashgrove granary on day 40.")
    pipeline.ingest([_doc("works.md", paras)])
    for text, vector in _stored_vectors(pipeline.store, "works.md").items():
        assert _close(vector, pipeline.embedder.embed_documents([text])[0])


def test_a_syndicated_copy_reuses_the_first_documents_vectors(pipeline: IngestPipeline) -> None:
    paras = _report_text(30)
    pipeline.ingest([_doc("gazette/works.md", paras)])
    copy = ["QUILLON (Wire) — Reprinted from the Vellmark Gazette.", *paras[:20]]
    with _counting(pipeline) as seen:
        report = pipeline.ingest([_doc("wire/works.md", copy, title="Works report (wire)")])
    assert report.new == 1 and report.chunks_reused >= 1
    assert len(seen) == report.chunks_embedded < report.chunks_written
    assert any("Reprinted" in t for t in seen)
    ours = _stored_vectors(pipeline.store, "wire/works.md")
    theirs = _stored_vectors(pipeline.store, "gazette/works.md")
    shared = set(ours) & set(theirs) - set(seen)
    assert shared and all(_close(ours[t], theirs[t]) for t in shared)


def test_identical_chunks_within_one_run_are_embedded_once(pipeline: IngestPipeline) -> None:
    paras = _report_text(12)
    with _counting(pipeline) as seen:
        report = pipeline.ingest([_doc("a.md", paras), _doc("b.md", [*paras, "Extra line."])])
    assert len(seen) == len(set(seen)) == report.chunks_embedded
    assert report.chunks_reused >= 1


def _strip_text_hashes(store: ChromaStore) -> None:
    """Make the store look like one written before chunks carried ``text_hash``."""
    got = store.chunks.get(include=["documents", "embeddings", "metadatas"])
    store.chunks.delete(ids=got["ids"])
    metas = [{k: v for k, v in m.items() if k != "text_hash"} for m in got["metadatas"]]
    store.chunks.add(
        ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"], metadatas=metas
    )
    assert not store.vectors_for(text_hash(d) for d in got["documents"])


def test_a_store_without_text_hashes_reuses_the_replaced_documents_chunks(
    pipeline: IngestPipeline,
) -> None:
    paras = _report_text(40)
    first = pipeline.ingest([_doc("works.md", paras)])
    _strip_text_hashes(pipeline.store)
    paras[5] += " The Brevik delegation abstained."
    with _counting(pipeline) as seen:
        again = pipeline.ingest([_doc("works.md", paras)])
    assert again.updated == 1 and 1 <= len(seen) <= 2 < first.chunks_written
    assert pipeline.store.vectors_for([text_hash(t) for t in seen])  # now keyed again


def test_vectors_for_finds_stored_chunks_by_text_hash(pipeline: IngestPipeline) -> None:
    pipeline.ingest([_doc("works.md", _report_text(10))])
    stored = _stored_vectors(pipeline.store, "works.md")
    text = next(iter(stored))
    found = pipeline.store.vectors_for([text_hash(text), text_hash("never stored")])
    assert list(found) == [text_hash(text)] and _close(found[text_hash(text)], stored[text])


def test_an_answer_after_an_edit_cites_the_new_text_verbatim(
    pipeline: IngestPipeline, corpus: Path, components
) -> None:
    from rag.service import QAService

    pipeline.run([corpus])
    path = corpus / "harbor-council.md"
    path.write_text(
        path.read_text().replace("4.2 million crowns", "4.6 million crowns"), encoding="utf-8"
    )
    with _counting(pipeline) as seen:
        report = pipeline.run([corpus])
    assert report.updated == 1 and report.chunks_embedded == len(seen) <= 2
    result = QAService(components).ask("How much will the Lantern Bridge repairs cost?")
    assert "4.6 million crowns" in result.answer
    docs = pipeline.store.get_documents([c.doc_id for c in result.citations])
    for cite in result.citations:
        assert docs[cite.doc_id][1][cite.start_char : cite.end_char] == cite.quote

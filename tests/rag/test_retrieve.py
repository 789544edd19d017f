"""Hybrid retrieval: RRF fusion, near-duplicate collapse, filters, lexical and dense paths."""

from __future__ import annotations

from rag.retrieve import HybridRetriever, collapse_near_duplicates, rrf_fuse
from rag.schema import Filters, RetrievedChunk


def _chunk(cid: str, text: str = "x", **kw: object) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=cid, doc_id=cid.split(":")[0], text=text, start_char=0, end_char=len(text), **kw
    )  # type: ignore[arg-type]


def test_rrf_rewards_agreement_and_keeps_component_scores() -> None:
    dense = [_chunk("a:0", dense_score=0.9), _chunk("b:0", dense_score=0.8)]
    lexical = [_chunk("b:0", bm25_score=7.0), _chunk("c:0", bm25_score=3.0)]
    fused = rrf_fuse([dense, lexical], k=60)
    assert [c.chunk_id for c in fused] == ["b:0", "a:0", "c:0"]
    assert fused[0].dense_score == 0.8 and fused[0].bm25_score == 7.0
    assert abs(fused[0].score - (1 / 62 + 1 / 61)) < 1e-9


def test_near_duplicates_collapse_to_the_best_ranked() -> None:
    chunks = [
        _chunk("a:0", "The Lantern Bridge repairs will cost 4.2 million crowns."),
        _chunk("b:0", "Lantern Bridge repairs will cost 4.2 million crowns, says council."),
        _chunk("c:0", "The orchard festival opened in Ashgrove Vale."),
    ]
    assert [c.chunk_id for c in collapse_near_duplicates(chunks, threshold=0.6)] == ["a:0", "c:0"]


def test_hybrid_finds_exact_names_and_paraphrases(service) -> None:
    retriever: HybridRetriever = service.retriever
    assert retriever.lexical("Halvard Metals", 3)[0].doc_id == "wire-002"
    assert retriever.dense("who runs the telescope site on the mountain now", 3)[0].doc_id == (
        "observatory.html"
    )
    hits = retriever.retrieve("golden pear prize winner", top_k=3)
    assert hits[0].doc_id == "orchard-festival.txt"
    assert len({c.chunk_id for c in hits}) == len(hits)


def test_filters_apply_to_both_paths(service) -> None:
    retriever: HybridRetriever = service.retriever
    only_wire = Filters(sources=["Dunmore Wire"])
    hits = retriever.retrieve("bridge repairs", top_k=5, filters=only_wire)
    assert hits and {c.source for c in hits} == {"Dunmore Wire"}
    july = Filters(date_from="2031-07-01", date_to="2031-07-31")
    assert {c.doc_id for c in retriever.retrieve("mine workers strike", 5, july)} == {"wire-002"}
    by_id = Filters(doc_ids=["harbor-council.md"])
    assert {c.doc_id for c in retriever.retrieve("festival", 5, by_id)} == {"harbor-council.md"}

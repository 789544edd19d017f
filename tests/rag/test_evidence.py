"""Evidence selection keeps exact offsets and puts the answering sentence first."""

from __future__ import annotations

import numpy as np

from rag.evidence import EvidenceSelector, rrf_order
from rag.text import overlap, weighted_share


def test_overlap_and_rank_fusion() -> None:
    assert overlap("harbour council", "The harbour council met.", lambda _t: 1.0) == 1.0
    assert overlap("harbour council", "Ferries ran late.", lambda _t: 1.0) == 0.0
    assert overlap("the of", "anything", lambda _t: 1.0) == 0.0  # no terms: nothing shared
    assert weighted_share([], {"x"}, lambda _t: 1.0) == 1.0  # nothing wanted: nothing missing
    assert weighted_share(["a", "b"], {"a"}, lambda t: 3.0 if t == "a" else 1.0) == 0.75
    # Item 1 is second in one ranking and first in the other; item 0 first and last.
    order = rrf_order([np.array([3.0, 2.0, 1.0]), np.array([1.0, 3.0, 2.0])], k=1)
    assert list(order) == [1, 0, 2]


def test_selected_sentences_are_exact_spans(service) -> None:
    selector: EvidenceSelector = service.selector
    question = "How many visitors came to the orchard festival on the first day?"
    evidence = selector.select(question, service.retrieve(question))
    assert evidence[0].text.startswith("Organisers said 12,500 visitors came on the first day")
    assert [e.n for e in evidence] == list(range(1, len(evidence) + 1))
    assert evidence == sorted(evidence, key=lambda e: -(e.ce_score or 0.0))
    assert all(e.ce_score is not None for e in evidence)
    docs = service.components.store.get_documents(e.chunk.doc_id for e in evidence)
    for e in evidence:
        assert docs[e.chunk.doc_id][1][e.start_char : e.end_char] == e.text


def test_a_sentence_is_read_under_its_section_heading() -> None:
    """A chunk that starts below its section's heading still knows the section: the stored
    document supplies the heading, the cross-encoder reads it, the evidence carries it."""
    from rag.rerank import get_cross_encoder
    from rag.schema import RetrievedChunk

    text = (
        "Minutes of the Vellmark Transport Committee\n\n"
        "1. Eastgate tram extension\n\n"
        "The Director presented the business case.\n\n"
        "The route would be 4.8 kilometres long with seven new stops.\n\n"
        "2. Canal Street cycle lanes\n\n"
        "The lanes would be 2.1 kilometres long."
    )
    tram = text.index("The route")
    lanes = text.index("2. Canal")
    chunks = [
        RetrievedChunk(
            chunk_id=f"minutes:{i}", doc_id="minutes", text=text[a:b], start_char=a, end_char=b
        )
        for i, (a, b) in enumerate([(tram, lanes - 2), (lanes, len(text))])
    ]
    asked: list[list[str]] = []

    def documents(ids):
        asked.append(list(ids))
        return {"minutes": ("", text)}

    question = "How long would the Eastgate tram extension be?"
    encoder = get_cross_encoder()
    plain = EvidenceSelector(None, encoder).select(question, chunks)
    under = EvidenceSelector(None, encoder, documents=documents).select(question, chunks)
    assert asked == [["minutes"]]  # one lookup per question
    best = under[0]
    assert best.text.startswith("The route would be 4.8") and best.heading.startswith("1. East")
    before = next(e for e in plain if e.text == best.text)
    assert before.heading == "" and best.ce_score > before.ce_score + 1
    lanes_line = next(e for e in under if e.text.startswith("The lanes"))
    assert lanes_line.heading == "2. Canal Street cycle lanes"
    assert text[best.start_char : best.end_char] == best.text


def test_a_documents_headings_are_found_once(monkeypatch) -> None:
    from rag import evidence
    from rag.schema import RetrievedChunk

    texts = {"a": "1. Harbour fees\n\nFees rise by four crowns.", "b": "No headings here."}
    version = {"a": "v1", "b": "v1"}
    calls: list[str] = []
    read: list[list[str]] = []
    real = evidence.headings

    def counting(text: str) -> list[tuple[int, str]]:
        calls.append(text)
        return real(text)

    def documents(ids):
        read.append(list(ids))
        return {d: (version[d], texts[d]) for d in ids}

    def retrieved() -> list[RetrievedChunk]:  # chunks carry their document's content hash
        return [
            RetrievedChunk(
                chunk_id=f"{d}:0", doc_id=d, text=t, start_char=0, end_char=len(t),
                content_hash=version[d],
            )
            for d, t in texts.items()
        ]  # fmt: skip

    monkeypatch.setattr(evidence, "headings", counting)
    chunks = retrieved()
    selector = EvidenceSelector(None, None, documents=documents)
    first = selector.section_headings(chunks)
    assert first == {"a": [(0, "1. Harbour fees")], "b": []}
    assert selector.section_headings(chunks) == first and len(calls) == 2  # remembered
    assert read == [["a", "b"]]  # the second question read no stored text
    texts["a"], version["a"] = "2. Ferry timetable\n\nFerries run hourly.", "v2"  # an edit
    chunks = retrieved()
    assert selector.section_headings(chunks)["a"] == [(0, "2. Ferry timetable")]
    assert len(calls) == 3 and read[-1] == ["a"]
    assert EvidenceSelector(None, None).section_headings(chunks) == {}

"""Evidence selection keeps exact offsets and prefers the sentence that answers."""

from __future__ import annotations

from rag.evidence import EvidenceSelector, lexical_scores, missing_share
from rag.schema import RetrievedChunk


def test_context_supplies_the_topic_but_not_the_relation() -> None:
    q = "Who represented Vellmark at the Harbour Summit?"
    topic, predicate = lexical_scores(
        q, "Representing it was Odessa Prane.", context="The Harbour Summit met in Vellmark."
    )
    assert predicate == 1.0 and 0.8 <= topic < 1.0
    _, predicate = lexical_scores(q, "The Harbour Summit met in Vellmark.")
    assert predicate == 0.0


def test_missing_share_flags_unasked_topics() -> None:
    chunk = RetrievedChunk(
        chunk_id="d:0",
        doc_id="d",
        title="Harbour",
        text="The harbour council convened in May.",
        start_char=0,
        end_char=36,
    )
    assert missing_share("When did the harbour council convene?", chunk, lambda _t: 1.0) == 0.0
    assert missing_share("What is the capital of Kestrel?", chunk, lambda _t: 1.0) == 1.0


def test_selected_sentences_are_exact_spans(service) -> None:
    selector: EvidenceSelector = service.selector
    chunks = service.retriever.retrieve("who represented India at the Finance Ministerial?")
    evidence = selector.select("who represented India at the Finance Ministerial?", chunks)
    assert evidence[0].text.startswith("Representing India was Union Minister Ashwini Vaishnaw")
    assert [e.n for e in evidence] == list(range(1, len(evidence) + 1))
    assert evidence == sorted(evidence, key=lambda e: -e.score)
    docs = service.components.store.get_documents(e.chunk.doc_id for e in evidence)
    for e in evidence:
        assert docs[e.chunk.doc_id][1][e.start_char : e.end_char] == e.text

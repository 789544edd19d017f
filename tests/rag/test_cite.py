"""Citations quote the stored text at their offsets; markers are renumbered by first use."""

from __future__ import annotations

from rag.cite import answer_sentences, build_citations, keep_cited
from rag.schema import Citation


def _c(n: int) -> Citation:
    return Citation(
        n=n, doc_id="d", title="t", chunk_id="d:0", start_char=n, end_char=n + 1, quote=str(n)
    )


def test_keep_cited_renumbers_and_drops_unknown_markers() -> None:
    text, cites = keep_cited("B [3]. A [1] and [9]. B again [3].", [_c(1), _c(2), _c(3)])
    assert text == "B [1]. A [2] and. B again [1]."
    assert [(c.n, c.quote) for c in cites] == [(1, "3"), (2, "1")]


def test_answer_sentences_keep_quotes_whole() -> None:
    answer = (
        "Odessa Prane: \u201cCouncillor Odessa Prane. She chairs it.\u201d [1] It opens soon [2]."
    )
    assert answer_sentences(answer) == [
        "Odessa Prane: \u201cCouncillor Odessa Prane. She chairs it.\u201d [1]",
        "It opens soon [2].",
    ]


def test_quotes_equal_the_stored_text_at_their_offsets(service) -> None:
    question = "How much will the Lantern Bridge repairs cost?"
    _, evidence = service.prepare(question)
    text, cites = build_citations(
        f"First [{evidence[1].n}]. Second [{evidence[0].n}] [42].",
        evidence,
        service.components.store,
    )
    assert text == "First [1]. Second [2]."
    docs = service.components.store.get_documents(c.doc_id for c in cites)
    for c in cites:
        assert docs[c.doc_id][1][c.start_char : c.end_char] == c.quote
    assert cites[1].quote == evidence[0].text


def test_brackets_inside_a_quote_do_not_cut_the_answer() -> None:
    """A document sentence with "[Name]" stays one cited sentence (it used to lose its head)."""
    answer = (
        "Jane Doe: \u201cThe bridge was opened by the mayor [Jane Doe] on 3 May 2031.\u201d [1] "
        "It cost 4 million crowns [2]."
    )
    assert answer_sentences(answer) == [
        "Jane Doe: \u201cThe bridge was opened by the mayor [Jane Doe] on 3 May 2031.\u201d [1]",
        "It cost 4 million crowns [2].",
    ]


def test_lookalike_markers_in_documents_are_text() -> None:
    from rag.text import citation_numbers, strip_citations

    for fake in ("\uff3b1\uff3d", "[ 2 ]", "[two]"):
        sentence = f"The ferry sank {fake} in a gale."
        assert citation_numbers(sentence) == []
        assert strip_citations(sentence) == sentence

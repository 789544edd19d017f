"""Sentence spans keep exact offsets; citation markers parse."""

from __future__ import annotations

from rag.text import citation_numbers, sentence_spans, stem, strip_citations, terms


def test_sentence_spans_are_exact_and_shifted() -> None:
    text = "Mr. Quell spoke first. The bridge opens in May!\nA new line starts here? Yes."
    spans = list(sentence_spans(text, base=100))
    pieces = [text[s - 100 : e - 100] for s, e in spans]
    assert pieces == [
        "Mr. Quell spoke first.",
        "The bridge opens in May!",
        "A new line starts here?",
        "Yes.",
    ]


def test_terms_drop_stopwords_and_stem_lightly() -> None:
    assert terms("Who represented the councils in Vellmark?") == [
        "represent",
        "council",
        "vellmark",
    ]
    assert stem("ferries") == "ferry" and stem("glass") == "glass"


def test_citation_markers() -> None:
    assert citation_numbers("A [2] and B [1, 3]. C [2].") == [2, 1, 3]
    assert strip_citations("The bridge opened [1].") == "The bridge opened."

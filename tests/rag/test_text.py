"""Sentence spans keep exact offsets; citation markers parse."""

from __future__ import annotations

from rag.text import (
    citation_numbers,
    heading_before,
    headings,
    sentence_spans,
    stem,
    strip_citations,
    terms,
)


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


MINUTES = (
    "MINUTES OF THE HARBOUR BOARD\nHeld on 3 May 2031 at Vellmark Town Hall\n"
    "Present: Cllr Ada Rusk (Chair), Cllr Tomas Pell\n\n"
    "1. Eastgate tram extension\n\n"
    "The route would be 4.8 kilometres long with seven new stops.\n\n"
    "Works would start once these are agreed:\n\n"
    "- a traffic plan for Mill Road\n\n"
    "2. Former brickworks: application by Greyfield Homes\n\n"
    "RESOLVED: that the application be deferred."
)


def test_headings_are_short_one_line_paragraphs_that_do_not_end_like_sentences() -> None:
    found = headings(MINUTES)
    assert [h for _, h in found] == [
        "1. Eastgate tram extension",
        "2. Former brickworks: application by Greyfield Homes",
    ]  # not the two-line block, the colon line, the bullet or the sentences
    assert all(MINUTES[i : i + len(h)] == h for i, h in found)
    route = MINUTES.index("The route")
    assert heading_before(found, route) == "1. Eastgate tram extension"
    assert heading_before(found, MINUTES.index("RESOLVED")).startswith("2. Former brickworks")
    assert heading_before(found, MINUTES.index("2. Former")) == "1. Eastgate tram extension"
    assert heading_before(found, MINUTES.index("Present")) == ""
    assert headings("One paragraph of text without a heading.") == []
    long_line = " ".join(["word"] * 30)
    assert headings(f"{long_line}\n\nBody text.") == []  # body text that lacks a full stop

"""Answers of other kinds composed from cited sentences (rag.compose)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.compose import (
    documents_draft,
    list_items,
    mentions,
    merge_parts,
    naming_sentences,
    sides_draft,
)
from rag.refusal import Refusal, refuse
from rag.schema import AnswerResult, Citation, RetrievedChunk, SentenceSupport


def _chunk(doc_id: str, text: str, **meta: str) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=f"{doc_id}:0",
        doc_id=doc_id,
        text=text,
        start_char=100,
        end_char=100 + len(text),
        **meta,
    )


def test_mentions_takes_each_documents_first_sentence_naming_every_term() -> None:
    chunks = [
        _chunk("a", "The mayor spoke. Ilse Darrow opened the bridge. Darrow left.", title="A"),
        _chunk("b", "Darrow was not there.", title="B"),  # only one of the two terms
        _chunk("a", "Ilse Darrow returned.", title="A"),  # a second chunk of a listed document
        _chunk("c", "Councillor Ilse Darrow chairs the works committee.", title="C"),
    ]
    found = mentions("Ilse Darrow", chunks, limit=5)
    assert [(e.chunk.doc_id, e.text, e.n) for e in found] == [
        ("a", "Ilse Darrow opened the bridge.", 1),
        ("c", "Councillor Ilse Darrow chairs the works committee.", 2),
    ]
    first = found[0]
    assert first.chunk.text[first.start_char - 100 : first.end_char - 100] == first.text
    assert mentions("Ilse Darrow", chunks, limit=1) == found[:1]
    assert mentions("the", chunks, limit=5) == []  # no content term: nothing to look for


def test_documents_draft_lists_title_date_source_and_a_cited_quote() -> None:
    found = mentions(
        "Darrow",
        [
            _chunk(
                "a", "Ilse Darrow spoke [3].", title="Bridge", date="2031-05-14", source="Gazette"
            ),
            _chunk("b", "Darrow left."),
        ],
        limit=5,
    )
    draft = documents_draft(found, "extractive")
    assert draft.text.split("\n") == [
        "Bridge (2031-05-14, Gazette): \u201cIlse Darrow spoke.\u201d [1]",
        "b (undated): \u201cDarrow left.\u201d [2]",
    ]


def _answered(question: str, answer: str, n: int, short: str | None) -> AnswerResult:
    cite = Citation(
        n=1, doc_id=f"d{n}", title="T", chunk_id="c", start_char=0, end_char=3, quote="q"
    )
    return AnswerResult(
        question=question,
        standalone_question=question,
        answer=answer,
        answerer="extractive",
        citations=[cite],
        support=[SentenceSupport(sentence=answer, citations=[1], support=1.0, supported=True)],
        short_answer=short,
        confidence=0.8 - n / 10,
        tier="answer",
        grounded=True,
    )


def test_merged_parts_keep_distinct_citations_and_say_which_part_is_refused() -> None:
    one = _answered("Who?", "Odessa Prane chairs it [1]", 1, "Odessa Prane")
    two = _answered("How much?", "It costs 4.2 million crowns [1]", 2, "4.2 million crowns")
    asked = AnswerResult(question="When?", standalone_question="When?", answer="", answerer="x")
    refused = refuse(asked, Refusal.LOW_CONFIDENCE)
    merged = merge_parts(["Who?", "How much?", "When?"], [one, two, refused])
    assert merged["answer"].split("\n") == [
        "Who? Odessa Prane chairs it [1]",
        "How much? It costs 4.2 million crowns [2]",
        "When? The briefings don't say.",
    ]
    assert [(c.n, c.doc_id) for c in merged["citations"]] == [(1, "d1"), (2, "d2")]
    assert [s.citations for s in merged["support"]] == [[1], [2]]
    assert merged["short_answer"] == "Odessa Prane; 4.2 million crowns"
    assert merged["note"] == "part 3: no passage answers the question confidently"
    assert merged["confidence"] == min(one.confidence, two.confidence)
    assert not merged["abstained"]


def test_newest_first_keeps_the_newest_documents_and_renumbers_them() -> None:
    from rag.compose import newest_first

    chunks = [
        _chunk("old", "Keld flooded.", date="2031-02-01"),
        _chunk("none", "Keld is a town."),
        _chunk("new", "Keld voted.", date="2031-11-04"),
        _chunk("mid", "Keld paid.", date="2031-06-30"),
    ]
    found = newest_first(mentions("Keld", chunks, limit=5), limit=3)
    assert [(e.chunk.doc_id, e.n) for e in found] == [("new", 1), ("mid", 2), ("old", 3)]


def test_central_sentences_prefer_the_centre_and_skip_a_repeat() -> None:
    import numpy as np

    from rag.compose import central_sentences

    rows = np.array([[1.0, 0.0], [0.96, 0.28], [0.96, 0.28], [0.0, 1.0], [0.6, 0.8]])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    assert central_sentences(rows, 1, 0.3) == [1]  # nearest the mean
    assert central_sentences(rows, 2, 0.3) == [1, 4]  # the duplicate of row 1 is passed over
    assert central_sentences(rows, 2, 0.6) == [1, 3]  # more diversity: the farthest row
    assert central_sentences(rows, 9, 0.3) == [0, 1, 2, 3, 4]
    assert central_sentences(rows[:0], 3, 0.3) == []


def test_summary_sentences_leave_out_headings_and_fragments() -> None:
    from rag.compose import summary_sentences

    text = (
        "Budget 2032\n\nThe minister presented the budget on Tuesday. It passed. "
        "Debate lasts a week or so."
    )
    assert [text[a:b] for a, b in summary_sentences(text, 4)] == [
        "The minister presented the budget on Tuesday.",
        "Debate lasts a week or so.",
    ]


def test_oldest_first_puts_dated_documents_in_order_and_undated_last() -> None:
    from rag.compose import oldest_first

    chunks = [
        _chunk("none", "Keld is a town."),
        _chunk("new", "Keld voted.", date="2031-11-04"),
        _chunk("old", "Keld flooded.", date="2031-02-01"),
    ]
    found = oldest_first(mentions("Keld", chunks, limit=5))
    assert [(e.chunk.doc_id, e.n) for e in found] == [("old", 1), ("new", 2), ("none", 3)]


@pytest.mark.parametrize(
    ("sentence", "span", "items"),
    [
        (
            "The compact was signed by Dravia, Ostrelle and Keld on 3 May.",
            "Ostrelle",
            ["Dravia", "Ostrelle", "Keld"],
        ),
        ("It grows wheat, barley and rye.", "wheat, barley and rye", ["wheat", "barley", "rye"]),
        (
            "Members are Fiji, Japan, the Republic of Korea and Vietnam.",
            "Japan",
            ["Fiji", "Japan", "Republic of Korea", "Vietnam"],
        ),
        ("Delegates from Brenn and Ostal met.", "Brenn", ["Brenn", "Ostal"]),
        ("Funds go to research and development.", "research and development", None),
        (
            "When Yara Nwosu and Piet Halvorsen founded it, few cared.",
            "Piet Halvorsen",
            ["Yara Nwosu", "Piet Halvorsen"],
        ),
        (
            "It was founded by Yara Nwosu and Piet Halvorsen in 2027.",
            "Yara Nwosu and Piet Halvorsen",
            ["Yara Nwosu", "Piet Halvorsen"],
        ),
        ("Dravia, a coastal state, objected.", "Dravia", None),
    ],
)
def test_list_items_are_the_enumeration_that_holds_the_span(
    sentence: str, span: str, items: list[str] | None
) -> None:
    start = sentence.index(span)
    found = [sentence[a:b] for a, b in list_items(sentence, start, start + len(span))]
    assert found == (items or [span])


def test_sides_draft_cites_each_sides_sentences() -> None:
    chunks = [_chunk("a", "Keld was quiet. Dravia spent 4 million. Dravia won."), _chunk("b", "")]
    found = naming_sentences("Dravia", chunks)
    assert [(e.text, e.start_char) for e in found] == [
        ("Dravia spent 4 million.", 116),
        ("Dravia won.", 140),
    ]
    ev = found[0].model_copy(update={"n": 1})
    draft = sides_draft([("Dravia", [ev]), ("Keld", [])], "extractive")
    assert draft.text.split("\n") == ["Dravia: Dravia spent 4 million. [1]"]


def test_a_lead_weight_prefers_the_first_sentences() -> None:
    from rag.compose import central_sentences

    # Four sentences equally central; without a lead prior the tie goes to the first found,
    # with one the picks are the earliest.
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert central_sentences(vectors, 2, 0.0, lead=0.5) == [0, 1]
    assert central_sentences(vectors[::-1].copy(), 2, 0.0, lead=0.5) == [0, 1]

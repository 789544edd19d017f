"""The extractive answerer leads with the right span and cites every sentence."""

from __future__ import annotations

from rag.answer.extractive import ExtractiveAnswerer, best_span
from rag.schema import Evidence, RetrievedChunk
from rag.spans import question_kind


def _ev(n: int, text: str, score: float) -> Evidence:
    chunk = RetrievedChunk(chunk_id="d:0", doc_id="d", text=text, start_char=0, end_char=len(text))
    return Evidence(n=n, chunk=chunk, text=text, start_char=0, end_char=len(text), score=score)


def test_question_kinds() -> None:
    assert question_kind("When will the bridge reopen?") == "date"
    assert question_kind("How many visitors came?") == "number"
    assert question_kind("Who chairs the works committee?") == "name"
    assert question_kind("Why was it cancelled?") == "other"


def test_span_nearest_to_the_matched_words() -> None:
    sentence = (
        "Representing Vellmark was Councillor Odessa Prane, who oversees Bridges, Ferries and "
        "Harbour Lights."
    )
    assert best_span("Who represented Vellmark?", sentence) == "Odessa Prane"
    assert best_span("When did it open?", "The festival opened on 3 September 2031.") == (
        "3 September 2031"
    )
    assert best_span("How many visitors came?", "Organisers counted 12,500 visitors.") == "12,500"
    assert best_span("Who won?", "The weather was fine.") is None


def test_answer_quotes_and_cites_close_runners_up() -> None:
    answerer = ExtractiveAnswerer(max_sentences=2, margin=0.05)
    draft = answerer.answer(
        "Who awarded the golden pear prize?",
        [
            _ev(1, "Head judge Marisol Fenwick awarded the golden pear prize to Ilya Brandt.", 0.8),
            _ev(2, "The prize is a golden pear.", 0.78),
            _ev(3, "Bakers sold out before noon.", 0.4),
        ],
    )
    assert draft.text.endswith("[2]") and "[1]" in draft.text and "[3]" not in draft.text
    assert draft.answerer == "extractive"


def test_a_quoted_sentence_keeps_none_of_its_own_markers() -> None:
    """Document text with "[1] ... [2]" must not pass for the answer's citations."""
    draft = ExtractiveAnswerer().answer(
        "Where are the repairs described?",
        [_ev(3, "The repairs are described in source [1] and confirmed by [2, 4].", 0.8)],
    )
    assert draft.text == "The repairs are described in source and confirmed by. [3]"

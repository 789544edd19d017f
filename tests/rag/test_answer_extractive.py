"""The extractive answerer quotes the judged-best sentence, cites it, and leads with a span."""

from __future__ import annotations

from rag.answer.base import Quoting
from rag.answer.extractive import ExtractiveAnswerer
from rag.schema import Evidence, RetrievedChunk


def _ev(n: int, text: str, score: float) -> Evidence:
    chunk = RetrievedChunk(chunk_id="d:0", doc_id="d", text=text, start_char=0, end_char=len(text))
    return Evidence(n=n, chunk=chunk, text=text, start_char=0, end_char=len(text), score=score)


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
    assert draft.short_answer is None


def test_a_distant_runner_up_is_not_quoted() -> None:
    draft = ExtractiveAnswerer(margin=0.05).answer(
        "Who awarded the prize?",
        [_ev(1, "Marisol Fenwick awarded the prize.", 0.8), _ev(2, "It rained.", 0.5)],
    )
    assert draft.text == "Marisol Fenwick awarded the prize. [1]"


def test_leads_with_the_given_span() -> None:
    answerer = ExtractiveAnswerer()
    assert isinstance(answerer, Quoting)
    draft = answerer.quote(
        "Who awarded the prize?",
        [_ev(1, "Head judge Marisol Fenwick awarded the prize.", 0.9)],
        lead="Marisol Fenwick",
    )
    assert draft.text == "Marisol Fenwick: “Head judge Marisol Fenwick awarded the prize.” [1]"
    assert draft.short_answer == "Marisol Fenwick"


def test_a_quoted_sentence_keeps_none_of_its_own_markers() -> None:
    """Document text with "[1] ... [2]" must not pass for the answer's citations."""
    draft = ExtractiveAnswerer().answer(
        "Where are the repairs described?",
        [_ev(3, "The repairs are described in source [1] and confirmed by [2, 4].", 0.8)],
    )
    assert draft.text == "The repairs are described in source and confirmed by. [3]"

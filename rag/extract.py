"""Extract: a trained reader points at the span of a sentence that answers the question.

The span grammar (``rag.spans``) proposes names, numbers and phrases and ranks them by
surface features; it cannot read "who signed on Dravia's behalf" against a sentence with two
signatories. ``SpanExtractor`` runs a small BERT (all-MiniLM-L6-v2 fine-tuned for extractive
QA on QAMR by ``scripts/train_reader.py``; int8 ONNX shipped in ``rag/data/reader/``,
sha256-checked) over (question, sentence) pairs. Per pair it gives the best span, that span's
score (start + end logit) and the score of pointing at [CLS], the model's "this sentence does
not answer": their difference (``margin``) is a signal the decision model weighs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax

from rag.fitted import DATA_DIR
from rag.models import READER, PairModel


@dataclass(frozen=True)
class Extracted:
    """The reader's best span of one passage (character offsets into it)."""

    text: str
    start: int
    end: int
    score: float  # start + end logit of the span
    null: float  # start + end logit of [CLS]: "no answer here"
    probability: float  # P(start) * P(end) of the span, [CLS] among the choices
    # Per word piece of the passage: its character span, log P(start), log P(end).
    pieces: tuple[tuple[int, int, float, float], ...] = ()

    def logprob(self, start: int, end: int) -> float:
        """log P(start) + log P(end) of the span ``[start, end)`` of the passage (its first
        and last word pieces); very low for a span that cuts no word piece."""
        inside = [p for p in self.pieces if p[0] >= start and p[1] <= end]
        if not inside:
            return -30.0
        return max(-30.0, inside[0][2] + inside[-1][3])

    @property
    def margin(self) -> float:
        """How much more the reader believes the span than "no answer" (logit units)."""
        return self.score - self.null


def best_spans(
    start: np.ndarray, end: np.ndarray, allowed: np.ndarray, max_tokens: int
) -> tuple[int, int]:
    """(first, last) word piece maximising start[first] + end[last] with both ``allowed``,
    first <= last < first + max_tokens; (0, 0) when nothing is allowed."""
    idx = np.flatnonzero(allowed)
    if not len(idx):
        return 0, 0
    grid = start[idx][:, None] + end[idx][None, :]
    gap = idx[None, :] - idx[:, None]
    grid = np.where((gap >= 0) & (gap < max_tokens), grid, -np.inf)
    a, b = np.unravel_index(int(np.argmax(grid)), grid.shape)
    return int(idx[a]), int(idx[b])


class SpanExtractor(PairModel):
    """``extract(question, passages)``: the reader's best span of each passage, batched."""

    files = READER
    bundled = DATA_DIR / READER.name

    def __init__(
        self,
        threads: int = 1,
        batch_size: int = 16,
        max_length: int = 128,
        max_answer_tokens: int = 30,
    ) -> None:
        super().__init__(threads, batch_size, max_length)
        self.max_answer_tokens = max_answer_tokens

    def extract(self, question: str, passages: Sequence[str]) -> list[Extracted | None]:
        """One ``Extracted`` per passage (None for an empty one)."""
        out: list[Extracted | None] = [None] * len(passages)
        if not passages:
            return out
        names = ["start_logits", "end_logits"]
        for batch, encodings, (starts, ends) in self.run(question, passages, names):
            for row, (i, enc) in enumerate(zip(batch, encodings, strict=True)):
                n = len(enc.ids)
                start, end = np.asarray(starts[row][:n]), np.asarray(ends[row][:n])
                # The passage's own word pieces: second sequence, not [SEP], not empty.
                allowed = np.array(
                    [t == 1 and b > a for t, (a, b) in zip(enc.type_ids, enc.offsets, strict=True)]
                )
                if not allowed.any():
                    continue
                first, last = best_spans(start, end, allowed, self.max_answer_tokens)
                a, b = enc.offsets[first][0], enc.offsets[last][1]
                keep = allowed.copy()
                keep[0] = True  # [CLS] competes: the model may say "not here"
                log_start = log_softmax(np.where(keep, start, -np.inf))
                log_end = log_softmax(np.where(keep, end, -np.inf))
                out[i] = Extracted(
                    text=passages[i][a:b],
                    start=a,
                    end=b,
                    score=float(start[first] + end[last]),
                    null=float(start[0] + end[0]),
                    probability=float(np.exp(log_start[first] + log_end[last])),
                    pieces=tuple(
                        (lo, hi, float(log_start[j]), float(log_end[j]))
                        for j, (lo, hi) in enumerate(enc.offsets)
                        if allowed[j]
                    ),
                )
        return out


_instances: dict[int, SpanExtractor] = {}
_instances_lock = threading.Lock()


def get_extractor(threads: int = 1) -> SpanExtractor | None:
    """The process-wide reader for ``threads``, or None when its files are not shipped."""
    if not (SpanExtractor.bundled and (SpanExtractor.bundled / "model.onnx").is_file()):
        return None
    with _instances_lock:
        extractor = _instances.get(threads)
        if extractor is None:
            extractor = _instances[threads] = SpanExtractor(threads=threads)
    return extractor

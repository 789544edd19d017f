"""Extract: a trained reader points at the span of a passage that answers the question.

The span grammar (``rag.spans``) proposes names, numbers and phrases and ranks them by
surface features; it cannot read "who signed on Dravia's behalf" against a sentence with two
signatories, nor see that "Representing India was ..." answers a question about a meeting
named two sentences before. The reader is a small BERT fine-tuned for extractive QA on SQuAD
2.0-style data (answerable questions and crowd-written near-miss unanswerables) by
``scripts/train_reader.py``; int8 ONNX shipped in ``rag/data/reader/``, sha256-checked.

``ChunkReader`` reads the question with whole chunks, each cut into overlapping windows, and
keeps every window's start/end logits (``PassageReading``): any sentence's best span and its
margin over [CLS] ("no answer here") can then be read off without another model run.
``SpanExtractor`` reads (question, sentence) pairs, one window each.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from scipy.special import log_softmax

from rag.fitted import DATA_DIR
from rag.models import READER, PairModel, padded_inputs

if TYPE_CHECKING:
    from tokenizers import Encoding

R = TypeVar("R", bound=PairModel)


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


def passage_pieces(enc: Encoding) -> np.ndarray:
    """Which word pieces of a (question, passage) encoding are the passage's own: the second
    sequence, not [SEP], not empty (the only places an answer may start or end)."""
    return np.array([t == 1 and b > a for t, (a, b) in zip(enc.type_ids, enc.offsets, strict=True)])


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


class _Reader(PairModel):
    """The trained reader's files (rag/data/reader); an answer is at most
    ``max_answer_tokens`` word pieces long, as in training."""

    files = READER
    bundled = DATA_DIR / READER.name
    max_answer_tokens = 30


class SpanExtractor(_Reader):
    """``extract(question, passages)``: the reader's best span of each passage, batched."""

    def __init__(self, threads: int = 1, batch_size: int = 16, max_length: int = 128) -> None:
        super().__init__(threads, batch_size, max_length)

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
                allowed = passage_pieces(enc)
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


@dataclass(frozen=True)
class Window:
    """One window of a passage as the reader saw it: the passage's word pieces' character
    spans (``offsets``, shape (n, 2)) and their start/end logits."""

    offsets: np.ndarray
    start: np.ndarray
    end: np.ndarray


@dataclass(frozen=True)
class PassageReading:
    """The reader's logits over one passage, every window; ``null`` is the lowest [CLS]
    score of its windows (the window that most believes an answer is in it)."""

    windows: tuple[Window, ...]
    null: float
    max_answer_tokens: int = 30

    def best(self, lo: int = 0, hi: int | None = None) -> tuple[int, int, float] | None:
        """(start, end, score) of the best span lying within characters ``[lo, hi)`` of the
        passage, over all windows; None when no word piece lies there."""
        found: tuple[int, int, float] | None = None
        for w in self.windows:
            inside = w.offsets[:, 0] >= lo
            if hi is not None:
                inside &= w.offsets[:, 1] <= hi
            if not inside.any():
                continue
            a, b = best_spans(w.start, w.end, inside, self.max_answer_tokens)
            score = float(w.start[a] + w.end[b])
            if found is None or score > found[2]:
                found = (int(w.offsets[a, 0]), int(w.offsets[b, 1]), score)
        return found

    def score(self, start: int, end: int) -> float | None:
        """The score of the span ``[start, end)`` (start logit of the word piece it starts in,
        end logit of the one it ends in), best over the windows holding it; None if none does."""
        found: float | None = None
        for w in self.windows:
            first = np.flatnonzero((w.offsets[:, 0] <= start) & (start < w.offsets[:, 1]))
            last = np.flatnonzero((w.offsets[:, 0] < end) & (end <= w.offsets[:, 1]))
            if first.size and last.size and last[0] >= first[0]:
                value = float(w.start[first[0]] + w.end[last[0]])
                found = value if found is None else max(found, value)
        return found

    def shifted(self, by: int) -> PassageReading:
        """The same reading with character offsets moved by ``by`` (into a document)."""
        moved = tuple(Window(w.offsets + by, w.start, w.end) for w in self.windows)
        return PassageReading(moved, self.null, self.max_answer_tokens)


class ChunkReader(_Reader):
    """``read(question, passages)``: every window's logits of each passage, batched.

    A passage longer than ``max_length`` word pieces (with the question) is read in windows
    that overlap by ``stride`` pieces, as the reader was trained.
    """

    stride = 64

    def __init__(self, threads: int = 1, batch_size: int = 8, max_length: int = 256) -> None:
        super().__init__(threads, batch_size, max_length)

    def load(self) -> ChunkReader:
        super().load()
        with self._lock:
            assert self._tokenizer is not None
            self._tokenizer.enable_truncation(
                max_length=self.max_length, stride=self.stride, strategy="only_second"
            )
        return self

    def read(self, question: str, passages: Sequence[str]) -> list[PassageReading | None]:
        """One reading per passage (None for an empty one)."""
        out: list[PassageReading | None] = [None] * len(passages)
        if not passages:
            return out
        windows: list[tuple[int, Encoding]] = []
        for i, enc in enumerate(self.encode(question, passages)):
            windows += [(i, e) for e in (enc, *enc.overflowing)]
        assert self._session is not None
        found: dict[int, list[Window]] = {}
        nulls: dict[int, float] = {}
        order = sorted(range(len(windows)), key=lambda k: len(windows[k][1].ids))
        for lo in range(0, len(order), self.batch_size):
            batch = [windows[k] for k in order[lo : lo + self.batch_size]]
            starts, ends = self._session.run(
                ["start_logits", "end_logits"], padded_inputs([e for _, e in batch])
            )
            for row, (i, enc) in enumerate(batch):
                keep = np.flatnonzero(passage_pieces(enc))
                if not keep.size:
                    continue
                offsets = np.array([enc.offsets[j] for j in keep], dtype=np.int64)
                found.setdefault(i, []).append(
                    Window(offsets, np.asarray(starts[row][keep]), np.asarray(ends[row][keep]))
                )
                null = float(starts[row][0] + ends[row][0])
                nulls[i] = min(nulls.get(i, null), null)
        for i, ws in found.items():
            ws.sort(key=lambda w: int(w.offsets[0, 0]))
            out[i] = PassageReading(tuple(ws), nulls[i], self.max_answer_tokens)
        return out


_instances_lock = threading.Lock()
_instances: dict[tuple[type, int], PairModel] = {}


def _shared(cls: type[R], threads: int) -> R | None:
    """The process-wide ``cls`` for ``threads``, or None when its files are not shipped."""
    if not (cls.bundled and (cls.bundled / "model.onnx").is_file()):
        return None
    with _instances_lock:
        found = _instances.get((cls, threads))
        if found is None:
            found = _instances[(cls, threads)] = cls(threads=threads)
    assert isinstance(found, cls)
    return found


def get_chunk_reader(threads: int = 1) -> ChunkReader | None:
    """The process-wide chunk reader for ``threads``, or None when its files are not shipped."""
    return _shared(ChunkReader, threads)


def get_extractor(threads: int = 1) -> SpanExtractor | None:
    """The process-wide sentence reader for ``threads``, or None when its files are not
    shipped."""
    return _shared(SpanExtractor, threads)

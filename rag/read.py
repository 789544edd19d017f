"""Read: where in the retrieved chunks the answer is, and which span of a sentence it is.

``read_chunks`` runs the trained reader (``rag.extract.ChunkReader``, SQuAD 2.0-style) over
the question with each of the best retrieved chunks (after its title): per chunk its best
span and that span's margin over "no answer here". A sentence's own margin is read off the
same logits (``annotate``), so a sentence is judged with its chunk around it: "Representing
India was ..." is read after the sentences that name the meeting.

The short answer's span (``settings.span_reader``): "chunk", the reader's span in the quoted
sentence; or, over the span model's candidates (``rag.spans``), "reader": the reader on the
sentence alone adds its log-probability of each candidate, its own best span being one more;
"grammar": the cross-encoder checks the best few.

The span scorer (``rag.spans``) ranks candidates by grammar-level features (type, position,
overlap); it often cannot tell which of two names in a sentence the question is about. The
cross-encoder can, indirectly: masking the span that answers removes what made the sentence
relevant, so its relevance falls most. ``SpanReader`` masks each of the span model's best
``candidates`` spans, scores them with the unmasked sentence in one batch, standardises the
drops over those spans and adds them to their scores, times ``mask_weight`` (fitted on dev by
``eval/calibrate.py``, stored in ``rag/data/spans.json``). It runs once per answer, on the
sentence quoted first: ``candidates + 1`` cross-encoder pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.extract import ChunkReader, PassageReading, SpanExtractor
from rag.models import CrossEncoder
from rag.schema import Evidence, RetrievedChunk
from rag.scores import sigmoid
from rag.spans import (
    Candidate,
    Reading,
    ScoredSpan,
    SpanModel,
    default_model,
    question_kind,
    reading,
    score_candidates,
    span_context,
    span_kind,
)
from rag.text import titled

MASK = "[MASK]"  # BERT's mask token: the cross-encoder's own word for "something here"


@dataclass(frozen=True)
class ChunkSpan:
    """The reader's best span of one chunk, in document offsets, with the chunk's logits."""

    chunk: RetrievedChunk
    start: int
    end: int
    margin: float  # the span's score over the chunk's [CLS] ("no answer here") score
    reading: PassageReading  # offsets moved into the document

    @property
    def text(self) -> str:
        return self.chunk.text[
            self.start - self.chunk.start_char : self.end - self.chunk.start_char
        ]


def read_chunks(
    reader: ChunkReader,
    question: str,
    chunks: Sequence[RetrievedChunk],
    context: Sequence[str] | None = None,
) -> list[ChunkSpan]:
    """Each chunk read after its title (and ``context``, the text before it, when given);
    spans only from its own text (what can be quoted). Best margin first."""
    before = context or [""] * len(chunks)
    passages = [
        titled(c.title, f"{b} {c.text}" if b else c.text)
        for c, b in zip(chunks, before, strict=True)
    ]
    out = []
    for c, p, found in zip(chunks, passages, reader.read(question, passages), strict=True):
        prefix = len(p) - len(c.text)
        best = found.best(prefix) if found else None
        if found is None or best is None:
            continue
        reading = found.shifted(c.start_char - prefix)
        start, end = best[0] + c.start_char - prefix, best[1] + c.start_char - prefix
        out.append(ChunkSpan(c, start, end, best[2] - found.null, reading))
    return sorted(out, key=lambda s: -s.margin)


def annotate(
    evidence: Sequence[Evidence], read: Sequence[ChunkSpan], ranked: int
) -> list[Evidence]:
    """Copies of ``evidence`` with the reader's best span inside each sentence and its margin
    (over every read chunk holding the sentence), and which hold the best ``ranked`` chunks'
    spans (``Evidence.reader_rank``: the sentences evidence selection pinned)."""
    out = []
    for ev in evidence:
        best: tuple[int, int, float] | None = None
        reading: PassageReading | None = None
        rank = 0
        for k, cs in enumerate(read, start=1):
            if cs.chunk.doc_id != ev.chunk.doc_id:
                continue
            if not (cs.chunk.start_char <= ev.start_char and ev.end_char <= cs.chunk.end_char):
                continue
            found = cs.reading.best(ev.start_char, ev.end_char)
            if found is not None and (best is None or found[2] - cs.reading.null > best[2]):
                best = (found[0], found[1], found[2] - cs.reading.null)
                reading = cs.reading
            if not rank and k <= ranked and ev.start_char <= cs.start and cs.end <= ev.end_char:
                rank = k
        if best is None:
            out.append(ev)
            continue
        read_ev = ev.model_copy(
            update={
                "reader_margin": round(best[2], 4),
                "reader_start": best[0] - ev.start_char,
                "reader_end": best[1] - ev.start_char,
                "reader_rank": rank,
            }
        )
        read_ev._reading = reading
        out.append(read_ev)
    return out


def span_margin(ev: Evidence, span: str) -> float | None:
    """The reader's margin for ``span`` where it stands in ``ev`` (its first occurrence), over
    "no answer here"; None when the sentence was not read or does not hold the span."""
    reading: PassageReading | None = ev._reading
    at = ev.text.find(span) if span else -1
    if reading is None or at < 0:
        return None
    score = reading.score(ev.start_char + at, ev.start_char + at + len(span))
    return None if score is None else score - reading.null


def margin_probability(margin: float) -> float:
    """The reader's margin as a probability-like score in (0, 1) (its thresholds are fitted)."""
    return float(sigmoid(margin))


def masked(sentence: str, start: int, end: int) -> str:
    """``sentence`` with ``[start, end)`` replaced by the mask token."""
    return sentence[:start] + MASK + sentence[end:]


class SpanReader:
    """Picks the short-answer span of one evidence sentence."""

    def __init__(
        self,
        encoder: CrossEncoder | None,
        candidates: int = 3,
        model: SpanModel | None = None,
        extractor: SpanExtractor | None = None,
        chunk: bool = False,
    ) -> None:
        self.encoder = encoder
        self.candidates = candidates
        self._model = model
        self.extractor = extractor
        self.chunk = chunk  # the chunk reader's span of the sentence, when it was read

    def thresholds(self) -> tuple[float, float]:
        """(short answer, lead) probability thresholds fitted for this reader's backend."""
        model = self.model
        if model is None:
            return 1.0, 1.0
        if self.chunk:
            return model.chunk_short_threshold, model.chunk_lead_threshold
        if self.extractor is not None:
            return model.reader_short_threshold, model.reader_lead_threshold
        return model.short_threshold, model.lead_threshold

    @property
    def model(self) -> SpanModel | None:
        return self._model or default_model()

    def accepts(self, span: str, cited: Sequence[Evidence]) -> bool:
        """Whether the chunk reader scores ``span`` (an LLM's short answer) at least at the
        short-answer threshold in one of the ``cited`` sentences."""
        short = self.model.chunk_short_threshold if self.model else 1.0
        margins = [m for ev in cited if (m := span_margin(ev, span)) is not None]
        return any(margin_probability(m) >= short for m in margins)

    def with_reader(
        self, question: str, ev: Evidence, found: Reading | None = None
    ) -> Reading | None:
        """The span model's candidates plus the reader's best span, each with the reader's
        log-probability as its bonus (one reader pair)."""
        assert self.extractor is not None
        model = self.model
        if question_kind(question) == "explain" or model is None:
            return None
        found = found or reading(question, ev.text, span_context(ev), model)
        (ex,) = self.extractor.extract(question, [ev.text])
        if ex is None:
            return found
        cands, scores = (found.candidates, found.scores) if found else ((), ())
        if all((c.start, c.end) != (ex.start, ex.end) for c in cands):
            own = Candidate(ex.start, ex.end, ex.text, span_kind(ex.text))
            kind = question_kind(question)
            extra = score_candidates(question, kind, ev.text, [own], span_context(ev), model)
            cands, scores = (*cands, own), (*scores, *extra)
        bonus = tuple((i, ex.logprob(c.start, c.end)) for i, c in enumerate(cands))
        return Reading(tuple(cands), tuple(scores), bonus)

    def reading(self, question: str, ev: Evidence, found: Reading | None = None) -> Reading | None:
        """The sentence's scored candidates (``found``, when the decision already scored them)
        with the masking check as their bonus."""
        found = found or reading(question, ev.text, span_context(ev), self.model)
        if found is None or self.encoder is None or self.candidates < 2:
            return found
        top = found.top(self.candidates)
        if len(top) < 2:
            return found
        s, cands = ev.text, found.candidates
        hidden = [masked(s, cands[i].start, cands[i].end) for i in top]
        passages = [titled(ev.chunk.title, t) for t in [s, *hidden]]
        logits = self.encoder.score(question, passages)
        drops = logits[0] - logits[1:]
        z = (drops - drops.mean()) / (drops.std() + 1e-6)
        return replace(found, bonus=tuple((i, float(v)) for i, v in zip(top, z, strict=True)))

    def read(
        self,
        question: str,
        ev: Evidence,
        found: Reading | None = None,
    ) -> ScoredSpan | None:
        """The best span of ``ev`` for ``question`` (None when it asks for an explanation).
        ``found``: the span model's candidates the decision already scored, re-used."""
        model = self.model
        if self.chunk:
            return chunk_span(question, ev)
        if self.extractor is not None:
            found = self.with_reader(question, ev, found)
            weight = model.reader_weight if model else 1.0
        else:
            found = self.reading(question, ev, found)
            weight = model.mask_weight if model else 0.0
        return found.best(weight) if found else None


def chunk_span(question: str, ev: Evidence) -> ScoredSpan | None:
    """The chunk reader's span of ``ev`` (None when it was not read, or for a why/how
    question, whose answer is the sentence itself)."""
    text = ev.reader_span
    if text is None or ev.reader_margin is None or question_kind(question) == "explain":
        return None
    assert ev.reader_start is not None and ev.reader_end is not None
    return ScoredSpan(text, ev.reader_start, ev.reader_end, margin_probability(ev.reader_margin))

"""Read: which span of the quoted sentence answers.

Two backends (``settings.span_reader``), both over the span model's candidates (``rag.spans``).
"reader": the trained extractive reader (``rag.extract``) adds its log-probability of each
candidate, its own best span being one more. "grammar": the cross-encoder checks the best few.

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

from dataclasses import replace

from rag.extract import SpanExtractor
from rag.rerank import CrossEncoder, titled
from rag.schema import Evidence
from rag.spans import (
    Candidate,
    Reading,
    ScoredSpan,
    SpanModel,
    default_model,
    question_kind,
    reading,
    score_candidates,
    span_kind,
)

MASK = "[MASK]"  # BERT's mask token: the cross-encoder's own word for "something here"


def masked(sentence: str, start: int, end: int) -> str:
    """``sentence`` with ``[start, end)`` replaced by the mask token."""
    return sentence[:start] + MASK + sentence[end:]


def span_context(ev: Evidence) -> tuple[str, ...]:
    """The texts the span features read besides the sentence (how a word is usually cased)."""
    return (ev.chunk.title, ev.context, ev.chunk.text)


class SpanReader:
    """Picks the short-answer span of one evidence sentence."""

    def __init__(
        self,
        encoder: CrossEncoder | None,
        candidates: int = 3,
        model: SpanModel | None = None,
        extractor: SpanExtractor | None = None,
    ) -> None:
        self.encoder = encoder
        self.candidates = candidates
        self._model = model
        self.extractor = extractor

    def thresholds(self) -> tuple[float, float]:
        """(short answer, lead) probability thresholds fitted for this reader's backend."""
        model = self.model
        if model is None:
            return 1.0, 1.0
        if self.extractor is not None:
            return model.reader_short_threshold, model.reader_lead_threshold
        return model.short_threshold, model.lead_threshold

    @property
    def model(self) -> SpanModel | None:
        return self._model or default_model()

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
        if self.extractor is not None:
            found = self.with_reader(question, ev, found)
            weight = model.reader_weight if model else 1.0
        else:
            found = self.reading(question, ev, found)
            weight = model.mask_weight if model else 0.0
        return found.best(weight) if found else None

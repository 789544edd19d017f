"""Select evidence: split retrieved chunks into sentences and keep the few that best answer.

Two stages. A cheap one ranks every sentence by embedding similarity and by idf-weighted
overlap with the question and fuses the two rankings (reciprocal rank fusion: no weights to
pick). The cross-encoder then reads the best ``ce_sentences`` of them, each after its title,
and its logit orders them. Answerers only ever see these sentences; ``rag.decide`` judges them.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.config import DEFAULTS
from rag.embed import Embedder
from rag.models import CrossEncoder
from rag.schema import Evidence, RetrievedChunk
from rag.scores import rrf, sigmoid
from rag.text import (
    BULLET_MARKS,
    Idf,
    heading_before,
    headings,
    overlap,
    sentence_spans,
    titled,
)

# Which of some sentences read as instructions to an answerer (``rag.guard.flag_instructions``).
Flagger = Callable[[list[str]], list[bool]]
# The stored (content hash, text) of the given documents, by doc_id: the headings sentences
# sit under are read from the text, and remembered per version.
Documents = Callable[[Iterable[str]], Mapping[str, tuple[str, str]]]
HEADING_CACHE = 256  # document versions whose headings are remembered (a long PDF takes ~0.1 s)
_BULLET = re.compile(rf"(?:[{re.escape(BULLET_MARKS)}]|\d{{1,2}}[.)])\s")  # or "1." / "2)"


@dataclass(frozen=True)
class Sentence:
    chunk: RetrievedChunk
    start: int
    end: int
    text: str
    before: str  # the previous sentence in the chunk ("" for the first)
    heading: str = ""  # the heading of the section it sits in (``rag.text.headings``)


def rrf_order(rankings: list[np.ndarray], k: int = DEFAULTS.rrf_k) -> np.ndarray:
    """Indices ordered by reciprocal-rank fusion (``rag.scores.rrf``) of several score arrays
    (higher = better); ties go to the lower index."""
    fused = rrf((np.argsort(-scores, kind="stable").tolist() for scores in rankings), k)
    return np.array(sorted(range(len(rankings[0])), key=lambda i: (-fused.get(i, 0.0), i)))


def holding(sents: Sequence[Sentence], doc_id: str, start: int, end: int) -> int | None:
    """Index of the shortest sentence of ``doc_id`` that holds ``[start, end)``."""
    inside = [
        i
        for i, s in enumerate(sents)
        if s.chunk.doc_id == doc_id and s.start <= start and end <= s.end
    ]
    return min(inside, key=lambda i: sents[i].end - sents[i].start) if inside else None


class EvidenceSelector:
    """Cheap fused ranking of all sentences, then the cross-encoder over the best few."""

    def __init__(
        self,
        embedder: Embedder,
        encoder: CrossEncoder | None,
        max_sentences: int = DEFAULTS.evidence_sentences,
        ce_sentences: int = DEFAULTS.ce_sentences,
        min_chars: int = 12,
        idf: Idf = lambda _t: 1.0,
        rrf_k: int = DEFAULTS.rrf_k,
        flag: Flagger | None = None,
        documents: Documents | None = None,
    ) -> None:
        self.embedder = embedder
        # Where section headings come from: a chunk often starts below its section's heading.
        self.documents = documents
        self._headings: OrderedDict[tuple[str, str], list[tuple[int, str]]] = OrderedDict()
        self._headings_lock = threading.Lock()
        # Which sentences address an answerer (the service passes rag.guard's screen); none
        # are flagged without one.
        self.flag = flag or (lambda texts: [False] * len(texts))
        self.encoder = encoder
        self.idf = idf
        self.max_sentences = max_sentences
        self.ce_sentences = ce_sentences
        self.min_chars = min_chars
        self.rrf_k = rrf_k

    def sentences(self, chunks: list[RetrievedChunk]) -> list[Sentence]:
        """Every sentence of the chunks once (overlapping chunks repeat sentences), each with
        the heading of its section when the stored documents are at hand.

        A line ending in a colon also stands with the bulleted lines after it as one unit
        ("four new galleries:" + its four bullets): list answers live in such blocks.
        """
        seen: set[tuple[str, int, int]] = set()
        out = []
        found = self.section_headings(chunks)
        for chunk in chunks:
            sections = found.get(chunk.doc_id, [])
            before = ""
            spans = list(sentence_spans(chunk.text, base=chunk.start_char))
            for i, (start, end) in enumerate(spans):
                text = chunk.text[start - chunk.start_char : end - chunk.start_char]
                units = [(start, end)]
                if text.endswith(":"):
                    last = end
                    for s2, e2 in spans[i + 1 :]:
                        if not _BULLET.match(
                            chunk.text[s2 - chunk.start_char : e2 - chunk.start_char]
                        ):
                            break
                        last = e2
                    if last > end:
                        units.append((start, last))
                for a, b in units:
                    key = (chunk.doc_id, a, b)
                    if key not in seen and b - a >= self.min_chars:
                        seen.add(key)
                        unit = chunk.text[a - chunk.start_char : b - chunk.start_char]
                        heading = heading_before(sections, a)
                        out.append(Sentence(chunk, a, b, unit, before, heading))
                before = text
        return out

    def section_headings(self, chunks: list[RetrievedChunk]) -> dict[str, list[tuple[int, str]]]:
        """The headings (``rag.text.headings``) of the chunks' documents, by doc_id. They are
        remembered by (doc_id, content hash): a document's stored text is read only for a
        version whose headings are not known yet (a chunk carries its document's hash)."""
        if self.documents is None or not chunks:
            return {}
        versions: dict[str, str] = {}
        for c in chunks:
            versions.setdefault(c.doc_id, c.content_hash)
        out: dict[str, list[tuple[int, str]]] = {}
        with self._headings_lock:
            for key in versions.items():
                found = self._headings.get(key)
                if found is not None:
                    self._headings.move_to_end(key)
                    out[key[0]] = found
        missing = [d for d in versions if d not in out]
        for doc_id, (version, text) in (self.documents(missing) if missing else {}).items():
            found = out[doc_id] = headings(text)
            if version:  # a document without a hash (a test fixture) is read every time
                with self._headings_lock:
                    self._headings[(doc_id, version)] = found
                    while len(self._headings) > HEADING_CACHE:
                        self._headings.popitem(last=False)
        return out

    def shortlist(self, question: str, sents: list[Sentence]) -> list[int]:
        """The ``ce_sentences`` best by fused dense + lexical rank (chunk order breaks ties)."""
        if len(sents) <= self.ce_sentences:
            return list(range(len(sents)))
        vectors = self.embedder.embed_texts([question, *(s.text for s in sents)])
        dense = vectors[1:] @ vectors[0]
        lexical = np.array(
            [overlap(question, f"{s.chunk.title} {s.before} {s.text}", self.idf) for s in sents]
        )
        return [int(i) for i in rrf_order([dense, lexical], self.rrf_k)[: self.ce_sentences]]

    def passage(self, s: Sentence) -> str:
        """What the cross-encoder reads for one sentence: its title and section heading, then
        the sentence. (The sentence before it as well made the *next* sentence win: dev top-1
        0.82 -> 0.27 on seed; names pulled in from earlier sentences: 0.82 -> 0.55. A heading
        labels every sentence of its section alike.)"""
        return titled(s.chunk.title, s.text, s.heading)

    def select(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        timings: dict[str, float] | None = None,
        pinned: Sequence[tuple[str, int, int]] = (),
    ) -> list[Evidence]:
        """The best ``max_sentences`` sentences, then the sentences holding the ``pinned``
        (doc_id, start, end) spans (the reader's answers) if not among them;
        ``timings["rerank"]`` gets the cross-encoder's share of the time (the query path's
        costliest model call)."""
        sents = self.sentences(chunks)
        if not sents:
            return []
        picked = self.shortlist(question, sents)
        must = [i for span in pinned if (i := holding(sents, *span)) is not None]
        picked += [i for i in dict.fromkeys(must) if i not in picked]
        passages = [self.passage(sents[i]) for i in picked]
        if self.encoder is not None:
            started = time.perf_counter()
            logits = self.encoder.score(question, passages)
            if timings is not None:
                spent = time.perf_counter() - started
                timings["rerank"] = round(timings.get("rerank", 0.0) + spent, 4)
        else:  # no cross-encoder configured: the fused rank alone, as a descending pseudo-logit
            logits = -np.arange(len(picked), dtype=np.float32)
        # Text addressed to an answerer is data, never the best evidence: it sorts last. The
        # screen reads the sentences that could be shown (the best by logit, and a margin).
        by_logit = sorted(range(len(picked)), key=lambda j: -float(logits[j]))
        shown = by_logit[: self.max_sentences * 2]
        flags = self.flag([sents[picked[j]].text for j in shown])
        suspect = dict.fromkeys(range(len(picked)), False) | dict(zip(shown, flags, strict=True))
        order = sorted(by_logit, key=lambda j: suspect[j])
        kept = order[: self.max_sentences]
        kept += [j for j in order[self.max_sentences :] if picked[j] in must]
        out = []
        for rank, j in enumerate(kept, start=1):
            s = sents[picked[j]]
            out.append(
                Evidence(
                    n=rank,
                    chunk=s.chunk,
                    text=s.text,
                    start_char=s.start,
                    end_char=s.end,
                    score=round(float(sigmoid(logits[j])), 4),
                    ce_score=round(float(logits[j]), 4) if self.encoder is not None else None,
                    suspect=suspect[j],
                    context=s.before,
                    heading=s.heading,
                )
            )
        return out

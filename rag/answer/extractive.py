"""The extractive answerer: no LLM, the answer is built from the selected evidence itself.

It leads with the answering span when the question type says what to look for (a name for
"who", a date for "when", a number for "how many") and one candidate stands out, then quotes
the evidence sentence it came from, cited. Quoting keeps it verifiable by construction.
"""

from __future__ import annotations

from rag.schema import Draft, Evidence
from rag.spans import novel_spans
from rag.text import WORD, stem, strip_citations, terms


def best_span(question: str, sentence: str, reach: int = 60) -> str | None:
    """The candidate of the right type nearest to where the sentence matches the question.

    "Representing India was Union Minister Ashwini Vaishnaw, who oversees Railways, ..." for
    "who represented India": the name right after the matched words wins over later ones.
    Returns None when no candidate sits within ``reach`` characters of a matched term.
    """
    spans = novel_spans(question, sentence)
    if len(spans) <= 1:
        return spans[0] if spans else None
    q_terms = set(terms(question))
    anchors = [m.start() for m in WORD.finditer(sentence) if stem(m.group(0)) in q_terms]
    best: tuple[int, str] | None = None
    for span in spans:
        at = sentence.find(span)
        distance = min((abs(at - a) for a in anchors), default=reach + 1)
        if distance <= reach and (best is None or distance < best[0]):
            best = (distance, span)
    return best[1] if best else None


class ExtractiveAnswerer:
    """Always available and fast; its sentences are quotes, so verification passes by design."""

    name = "extractive"

    def __init__(self, max_sentences: int = 2, margin: float = 0.04) -> None:
        self.max_sentences = max_sentences
        self.margin = margin

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        if not evidence:
            return Draft(text="", answerer=self.name)
        top = evidence[0]
        chosen = [top] + [
            e for e in evidence[1 : self.max_sentences] if e.score >= top.score - self.margin
        ]
        parts = []
        span = best_span(question, top.text)
        for i, ev in enumerate(chosen):
            sentence = strip_citations(ev.text)  # a document's own [n] must not pass for ours
            if i == 0 and span:
                sentence = f"{span}: \u201c{sentence}\u201d"
            parts.append(f"{sentence} [{ev.n}]")
        return Draft(text=" ".join(parts), answerer=self.name)

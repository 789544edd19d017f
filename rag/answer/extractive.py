"""The extractive answerer: no LLM, the answer is built from the selected evidence itself.

It leads with the answering span when the question type says what to look for (a name for
"who", a date for "when", a number for "how many") and one candidate stands out, then quotes
the evidence sentence it came from, cited. Quoting keeps it verifiable by construction.
"""

from __future__ import annotations

from rag.schema import Draft, Evidence
from rag.spans import novel_spans


def best_span(question: str, sentence: str) -> str | None:
    """The answering span, only when exactly one candidate of the right type stands out."""
    spans = novel_spans(question, sentence)
    return spans[0] if len(spans) == 1 else None


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
            sentence = ev.text.rstrip()
            if i == 0 and span:
                sentence = f"{span}: \u201c{sentence}\u201d"
            parts.append(f"{sentence} [{ev.n}]")
        return Draft(text=" ".join(parts), answerer=self.name)

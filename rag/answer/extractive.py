"""The extractive answerer: no LLM, the answer is built from the selected evidence itself.

It quotes the evidence sentence judged most likely to answer (``rag.decide`` ordered them),
cited, and a second one when it is judged nearly as likely (two-sentence answers). When the
service found a confident short answer it leads with it: "Ilse Darrow: “...” [1]". Quoting
keeps it verifiable by construction.
"""

from __future__ import annotations

from rag.schema import Draft, Evidence
from rag.text import strip_citations


class ExtractiveAnswerer:
    """Always available and fast; its sentences are quotes, so verification passes by design."""

    name = "extractive"

    def __init__(self, max_sentences: int = 2, margin: float = 0.1) -> None:
        self.max_sentences = max_sentences
        self.margin = margin

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        return self.quote(question, evidence)

    def quote(self, question: str, evidence: list[Evidence], lead: str | None = None) -> Draft:
        """The best sentence quoted and cited (two when the second is nearly as likely),
        led by ``lead`` (the decision's short answer) when given."""
        if not evidence:
            return Draft(text="", answerer=self.name)
        top = evidence[0]
        chosen = [top] + [
            e for e in evidence[1 : self.max_sentences] if e.score >= top.score - self.margin
        ]
        parts = []
        for i, ev in enumerate(chosen):
            sentence = strip_citations(ev.text)  # a document's own [n] must not pass for ours
            if i == 0 and lead:
                sentence = f"{lead}: \u201c{sentence}\u201d"
            parts.append(f"{sentence} [{ev.n}]")
        return Draft(text=" ".join(parts), answerer=self.name, short_answer=lead)

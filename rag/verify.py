"""Verify: is each answer sentence backed by the quotes it cites?

Support mixes two signals: lexical coverage (the sentence's content terms found in its quotes)
and embedding similarity (catches paraphrase). A sentence that is a verbatim part of a quote is
fully supported. A sentence naming a person, place or number its quotes never mention is not
supported whatever its similarity: "Darrow represented Calvania [1]" against a quote about Dravia
reads as very similar, and is exactly the invented fact this step exists to catch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from rag.embed import Embedder
from rag.schema import Citation, SentenceSupport
from rag.text import STOPWORDS, WORD, citation_numbers, source_line, stem, strip_citations, terms

_QUOTES = re.compile(r"[\u201c\u201d\"]")


def names_missing(claim: str, quotes: list[str]) -> list[str]:
    """Capitalised words and numbers of the claim that no quote contains."""
    present = {stem(w) for q in quotes for w in WORD.findall(q)}
    return [
        w
        for w in WORD.findall(claim)
        if (w[0].isupper() or w[0].isdigit())
        and w.lower() not in STOPWORDS
        and stem(w) not in present
    ]


def _normalize(text: str) -> str:
    return " ".join(_QUOTES.sub("", text).lower().split())


class SupportVerifier:
    def __init__(
        self,
        embedder: Embedder,
        threshold: float,
        coverage_weight: float = 0.6,
        unnamed_cap: float = 0.25,
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.coverage_weight = coverage_weight  # the rest of the weight is similarity's
        self.unnamed_cap = unnamed_cap  # support of a claim naming what its quotes don't

    def score(self, sentence: str, quotes: list[str], named: Sequence[str] = ()) -> float:
        """``named``: how the answer may name the cited documents (``rag.text.source_line``)."""
        claim = strip_citations(sentence)
        if not quotes or not claim:
            return 0.0
        joined = " ".join(quotes)
        # An extractive answer is "span: “quote”" (or "Document (date): “quote”"): each part
        # must be verbatim in the quotes, or name a cited document as the store has it.
        parts = [_normalize(p).strip(" .") for p in re.split(r":\s*\u201c", claim)]
        backing = [_normalize(joined), *(_normalize(n) for n in named)]
        if all(any(p in b for b in backing) for p in parts if p):
            return 1.0
        if names_missing(claim, quotes):
            return self.unnamed_cap
        claim_terms = set(terms(claim))
        coverage = len(claim_terms & set(terms(joined))) / len(claim_terms) if claim_terms else 0.0
        vecs = self.embedder.embed_texts([claim, *quotes])
        similarity = float(np.max(vecs[1:] @ vecs[0]))
        w = self.coverage_weight
        return round(w * coverage + (1 - w) * max(similarity, 0.0), 4)

    def check(self, sentences: list[str], citations: list[Citation]) -> list[SentenceSupport]:
        quotes = {c.n: c.quote for c in citations}
        out = []
        for sentence in sentences:
            numbers = [n for n in citation_numbers(sentence) if n in quotes]
            named = [
                source_line(c.title or c.doc_id, c.date, c.source)
                for c in citations
                if c.n in numbers
            ]
            support = self.score(sentence, [quotes[n] for n in numbers], named)
            out.append(
                SentenceSupport(
                    sentence=sentence,
                    citations=numbers,
                    support=support,
                    supported=bool(numbers) and support >= self.threshold,
                )
            )
        return out

"""Select evidence: split retrieved chunks into sentences and keep the few that best answer.

Answerers only ever see these sentences, so their quality bounds the answer's; the top score
also drives abstention.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rag.embed import Embedder
from rag.guard import reads_as_instructions
from rag.schema import Evidence, RetrievedChunk
from rag.spans import novel_spans, question_kind
from rag.text import sentence_spans, stem, terms, words

W_DENSE, W_LEXICAL, W_PREDICATE, W_TYPE = 0.4, 0.3, 0.15, 0.15
QUESTION_PENALTY = 0.6  # a sentence that is itself a question answers nothing
SUSPECT_PENALTY = 0.6  # text addressed to an answerer is data, never the best evidence
CONTEXT_WEIGHT = 0.8
Idf = Callable[[str], float]


def entities(text: str) -> set[str]:
    """Stemmed capitalised words and numbers after the first word: names, places, dates."""
    toks = words(text)
    return {stem(t) for t in toks[1:] if t[0].isupper() or t[0].isdigit()}


def lexical_scores(
    question: str, sentence: str, context: str = "", idf: Idf = lambda _t: 1.0
) -> tuple[float, float]:
    """(topic, predicate) overlap, each an idf-weighted share of the question's terms.

    Named things may be matched in the surrounding sentences (answers often sit two sentences
    after the one naming the event: "... a Finance Ministerial ... Representing India was");
    the other terms (the relation asked about: "represented", "hosted") must be in the sentence.
    """
    q_terms = set(terms(question))
    if not q_terms:
        return 0.0, 0.0
    # Numbers (years, counts) pin the fact asked about: they must be in the sentence itself.
    named = {t for t in entities(question) & q_terms if not t.isdigit()}
    relation = q_terms - named
    own, near = set(terms(sentence)), set(terms(context))

    def share(subset: set[str], weight_of: Callable[[str], float]) -> float:
        total = sum(idf(t) for t in subset)
        return sum(idf(t) * weight_of(t) for t in subset) / total if total else 0.0

    topic = share(
        q_terms,
        lambda t: 1.0 if t in own else CONTEXT_WEIGHT if t in near and t in named else 0.0,
    )
    predicate = share(relation, lambda t: 1.0 if t in own else 0.0) if relation else topic
    return topic, predicate


def missing_share(question: str, chunk: RetrievedChunk, idf: Idf) -> float:
    """Idf-weighted share of the question's terms found nowhere in the chunk or its title.

    High when the question asks about something the passage never mentions ("the capital of
    France", "the hotel"), even if the passage is otherwise on topic: a reason to abstain.
    """
    q_terms = set(terms(question))
    total = sum(idf(t) for t in q_terms)
    if not total:
        return 0.0
    present = set(terms(f"{chunk.title} {chunk.text}"))
    return sum(idf(t) for t in q_terms - present) / total


class EvidenceSelector:
    """Scores sentences by embedding similarity plus lexical and entity overlap."""

    def __init__(
        self,
        embedder: Embedder,
        max_sentences: int = 4,
        min_chars: int = 12,
        idf: Idf = lambda _t: 1.0,
    ) -> None:
        self.embedder = embedder
        self.idf = idf
        self.max_sentences = max_sentences
        self.min_chars = min_chars

    def candidates(
        self, chunks: list[RetrievedChunk]
    ) -> list[tuple[RetrievedChunk, int, int, str]]:
        """Sentences as (chunk, doc start, doc end, context); each sentence only once.

        The context is the title and the two sentences before, within the chunk.
        """
        seen: set[tuple[str, int]] = set()
        out = []
        for chunk in chunks:
            before: list[str] = []
            for start, end in sentence_spans(chunk.text, base=chunk.start_char):
                text = chunk.text[start - chunk.start_char : end - chunk.start_char]
                key = (chunk.doc_id, start)
                if key not in seen and end - start >= self.min_chars:
                    seen.add(key)
                    out.append((chunk, start, end, " ".join([chunk.title, *before[-2:]])))
                before.append(text)
        return out

    def select(self, question: str, chunks: list[RetrievedChunk]) -> list[Evidence]:
        cands = self.candidates(chunks)
        if not cands:
            return []
        texts = [c.text[s - c.start_char : e - c.start_char] for c, s, e, _ in cands]
        vectors = self.embedder.embed_texts([question, *texts])
        dense = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
        typed = question_kind(question) != "other"
        scores = []
        suspect = [reads_as_instructions(text) for text in texts]
        for (_, _, _, context), text, d, odd in zip(cands, texts, dense, suspect, strict=True):
            topic, predicate = lexical_scores(question, text, context, self.idf)
            # Untyped questions get the type credit for free, so thresholds mean the same.
            has_type = 1.0 if not typed or novel_spans(question, text) else 0.0
            score = W_DENSE * float(d) + W_LEXICAL * topic + W_PREDICATE * predicate
            score += W_TYPE * has_type
            if text.rstrip().endswith("?"):
                score *= QUESTION_PENALTY
            if odd:
                score *= SUSPECT_PENALTY
            scores.append(score)
        order = np.argsort(-np.array(scores), kind="stable")[: self.max_sentences]
        return [
            Evidence(
                n=rank,
                chunk=cands[i][0],
                text=texts[i],
                start_char=cands[i][1],
                end_char=cands[i][2],
                score=round(float(scores[i]), 4),
                suspect=suspect[i],
            )
            for rank, i in enumerate(order, start=1)
        ]

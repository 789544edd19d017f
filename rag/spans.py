"""Answer types: what kind of span a question asks for, and where such spans are in a sentence.

Shared by evidence selection (prefer sentences holding an answer of the right type) and the
extractive answerer (lead with that span).
"""

from __future__ import annotations

import re

from rag.text import STOPWORDS, terms

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:\s*(?:to|-|–|and)\s*\d{{1,2}})?\s+{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:\s*(?:-|–|to)\s*\d{{1,2}})?(?:,?\s+\d{{4}})?"
    rf"|(?:early|mid|late|earlier this|this|last|next)\s+(?:month|week|year)"
    rf"|{_MONTH}\s+\d{{4}}|(?:in\s+)?(?:19|20)\d{{2}})\b"
)
_NUMBER = re.compile(
    r"(?:(?:over|nearly|about|around|more than|almost|up to)\s+)?\$?\d[\d,.]*\s*"
    r"(?:per\s+cent|percent|%|million|billion|trillion|thousand|hundred)?(?:[- ]year)?"
)
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of|the|and|de|van|von|bin)?\s*[A-Z][\w'’.-]*)*")
_TITLES = {
    "union",
    "minister",
    "secretary",
    "president",
    "prime",
    "chairman",
    "chair",
    "ambassador",
    "defence",
    "defense",
    "external",
    "affairs",
    "treasury",
    "us",
    "state",
    "house",
    "armed",
    "services",
    "committee",
    "mr",
    "mrs",
    "ms",
    "dr",
    "sir",
    "general",
    "governor",
    "senator",
    "chief",
    "councillor",
    "councilor",
    "mayor",
    "judge",
    "astronomer",
    "professor",
    "captain",
    "minister's",
    "deputy",
    "vice",
    "senior",
    "spokesperson",
    "commissioner",
    "executive",
    "ceo",
    "director",
    "head",
    "king",
    "queen",
    "foreign",
}


_CONNECTORS = {"of", "the", "and", "de", "van", "von", "bin"}


def question_kind(question: str) -> str:
    q = question.lower()
    if re.search(r"\b(when|what date|which date|what day|what month|what year|how long)\b", q):
        return "date"
    if re.search(r"\b(how many|how much|what (?:percentage|share|number|proportion))\b", q):
        return "number"
    if re.search(r"\bwho\b|\bwhom\b|\bwhich (?:minister|official|person|secretary|leader)\b", q):
        return "name"
    if re.search(r"\bwhere\b|\bwhich (?:city|country|place)\b", q):
        return "place"
    return "other"


def candidate_spans(kind: str, sentence: str) -> list[str]:
    if kind == "date":
        return [m.group(0) for m in _DATE.finditer(sentence)]
    if kind == "number":
        return [
            m.group(0).strip()
            for m in _NUMBER.finditer(sentence)
            if any(ch.isdigit() for ch in m.group(0))
        ]
    if kind in ("name", "place"):
        out = []
        for m in _NAME.finditer(sentence):
            tokens = m.group(0).split()
            # Drop leading titles: "Union Minister Ashwini Vaishnaw" -> "Ashwini Vaishnaw".
            while len(tokens) > 1 and tokens[0].lower().strip(".") in _TITLES | _CONNECTORS:
                tokens.pop(0)
            if tokens and (m.start() > 0 or len(tokens) > 1):
                out.append(" ".join(tokens).rstrip(".,"))
        return out
    return []


def novel_spans(question: str, sentence: str) -> list[str]:
    """Candidates of the question's type that the question doesn't already mention."""
    kind = question_kind(question)
    q_terms = set(terms(question))
    spans: list[str] = []
    for span in candidate_spans(kind, sentence):
        span_terms = set(terms(span))
        if not span_terms or span_terms <= q_terms or span.lower() in STOPWORDS:
            continue
        if span not in spans:
            spans.append(span)
    return spans

"""Small text utilities shared by BM25, evidence selection, answering and verification."""

from __future__ import annotations

import re
from collections.abc import Iterator

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "on",
        "or",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "any",
        "because",
        "before",
        "below",
        "between",
        "both",
        "during",
        "each",
        "few",
        "further",
        "here",
        "just",
        "only",
        "other",
        "once",
        "also",
        "s",
        "t",
        "don",
        "now",
        "tell",
        "please",
        "know",
        "say",
        "said",
    ]
)
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
# A sentence ends at . ! ? (optionally followed by quotes/brackets) before whitespace and an
# upper-case letter, digit or quote, or at a line break. Abbreviations like "US" carry no dot here.
_SENT_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])|\n+")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Sr|Jr|No|Gen|Col|Lt|Sen|Rep|Gov|Inc|Co|vs|U\.S|e\.g|i\.e)\.|\b[A-Z]\.)$"
)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stem(word: str) -> str:
    """A deliberately light stemmer: plural and common verb endings, no dictionary needed."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, keep in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            return w[: -len(suffix)] + keep
    return w


def terms(text: str) -> list[str]:
    """Content terms for lexical matching: lower-cased, stemmed, stopwords removed."""
    return [stem(w) for w in words(text) if w.lower() not in STOPWORDS]


def sentence_spans(text: str, base: int = 0) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each sentence in ``text`` (offsets shifted by ``base``).

    Spans are trimmed of surrounding whitespace so that ``text[start:end]`` is the sentence.
    """
    start = 0
    for match in _SENT_END.finditer(text):
        after_abbreviation = _ABBREV.search(text[max(0, match.start() - 6) : match.start()])
        if "\n" not in match.group(0) and after_abbreviation:
            continue
        end = match.start()
        yield from _trimmed(text, start, end, base)
        start = match.end()
    yield from _trimmed(text, start, len(text), base)


def _trimmed(text: str, start: int, end: int, base: int) -> Iterator[tuple[int, int]]:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        yield base + start + lead, base + start + lead + len(stripped)


CITE_MARK = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")


def citation_numbers(sentence: str) -> list[int]:
    """The [n] / [n, m] markers in one answer sentence, in order, without repeats."""
    found: list[int] = []
    for group in CITE_MARK.findall(sentence):
        for n in group.split(","):
            if int(n) not in found:
                found.append(int(n))
    return found


def strip_citations(sentence: str) -> str:
    return CITE_MARK.sub("", sentence).strip()

"""Small text utilities shared by BM25, evidence selection, answering and verification."""

from __future__ import annotations

import bisect
import importlib.util
import os
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache, partial
from pathlib import Path

STOPWORDS = frozenset(
    """
    a about above after again against all also an and any are as at
    be because been before being below between both but by can could date day
    did do does doing don during each few for from further had has have
    having he her here hers him his how i if in into is it
    its itself just kind know long many me month more most much my no
    nor not now number of on once only or other our ours out over
    own please s said same say she should so some such t tell than
    that the their theirs them then there these they this those through time to
    too type under until up very was we were what when where which while
    who whom why will with would year you your yours
    """.split()
)
WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
# A sentence ends at . ! ? (optionally followed by quotes/brackets) before whitespace and an
# upper-case letter, digit or quote, or at a line break. Abbreviations like "US" carry no dot here.
_SENT_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])|\n+")
# JSON may spell any UTF-16 code unit ("\ud800"), so parsed input can hold lone surrogates:
# valid Python text that no UTF-8 encoder (tokenizer, Chroma, a JSON response) accepts.
_SURROGATE = re.compile("[\ud800-\udfff]")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Sr|Jr|No|Gen|Col|Lt|Sen|Rep|Gov|Inc|Co|vs|U\.S|e\.g|i\.e)\.|\b[A-Z]\.)$"
)


def scrub_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, one for one, so offsets into the
    text stay exact and it always encodes as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def words(text: str) -> list[str]:
    return WORD.findall(text)


_ES_PLURAL = re.compile(r"(?:s|x|z|ch|sh)es$")


def stem(word: str) -> str:
    """A deliberately light stemmer (plurals, -ed, -ing, final e), no dictionary needed.

    It only has to make a question's words meet the document's: "names"/"name",
    "convened"/"convene", "succeeds"/"succeed", "ministries"/"ministry". Irregular forms
    (met/meet) are left to the dense retriever.
    """
    w = word.lower().replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif _ES_PLURAL.search(w):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        w = w[:-1]
    if w.endswith("eed"):
        pass
    elif w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    return w[:-1] if w.endswith("e") and len(w) > 3 else w


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


# A heading is a paragraph of one short line that does not end like a sentence
# ("2. Eastgate tram extension", "Application by Tessel Lithium Ltd"): minutes, memos and
# reports name a section's subject there and nowhere else in it.
_ONE_LINE_PARAGRAPH = re.compile(r"(?:\A|\n[ \t]*\n)[ \t]*([^\n]+?)[ \t]*(?=\n[ \t]*\n|\Z)")
HEADING_MAX_WORDS = 20  # a label, not body text that lacks its full stop
BULLET_MARKS = "-*\u2022\u2013"  # how a bulleted list item starts (hyphen, star, bullet, dash)
_NOT_HEADING_END = tuple(".!?;:,\"'\u201d)]")  # a sentence, or a line leading into a list


def headings(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each heading of ``text``, in order."""
    out = []
    for m in _ONE_LINE_PARAGRAPH.finditer(text):
        line = m.group(1)
        if (
            len(line.split()) <= HEADING_MAX_WORDS
            and not line.startswith(tuple(BULLET_MARKS))
            and not line.endswith(_NOT_HEADING_END)
        ):
            out.append((m.start(1), line))
    return out


def heading_before(found: list[tuple[int, str]], offset: int) -> str:
    """The last heading of ``found`` (``headings``) that starts before ``offset``: the section
    a sentence at ``offset`` sits in ("" when none; a heading's own is the one before it)."""
    i = bisect.bisect_left(found, (offset, "")) - 1
    return found[i][1] if i >= 0 else ""


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


Idf = Callable[[str], float]  # a term's inverse document frequency (BM25's, or 1.0)


def titled(title: str, text: str, heading: str = "") -> str:
    """What the cross-encoder and the reader read for a passage: ``"{title}. {heading}. {text}"``
    (the title and the section heading often name what the text leaves implicit), skipping
    empty ones."""
    return ". ".join(p for p in (title, heading, text) if p)


def entity_terms(text: str) -> list[str]:
    """Stemmed capitalised words after the first, and numbers: what a question is about."""
    toks = WORD.findall(text)
    return [
        stem(t)
        for i, t in enumerate(toks)
        if (t[0].isdigit() or (i > 0 and t[0].isupper())) and t.lower() not in STOPWORDS
    ]


def weighted_share(wanted: Iterable[str], present: set[str], idf: Idf, empty: float = 1.0) -> float:
    """Idf-weighted share of ``wanted`` terms found in ``present`` (``empty`` when none)."""
    wanted = list(wanted)
    total = sum(idf(t) for t in wanted)
    return sum(idf(t) for t in wanted if t in present) / total if total else empty


def overlap(question: str, text: str, idf: Idf) -> float:
    """Idf-weighted share of the question's terms present in ``text``."""
    return weighted_share(set(terms(question)), set(terms(text)), idf, empty=0.0)


@cache
def cl100k() -> Callable[[str], list[int]]:
    """The tokenizer llama-index's ``get_tokenizer`` returns (tiktoken cl100k from the cache
    llama-index-core ships, so nothing downloads), without importing llama-index itself."""
    spec = importlib.util.find_spec("llama_index.core")
    assert spec is not None and spec.origin is not None, "llama-index-core is not installed"
    import tiktoken

    cache_dir = str(Path(spec.origin).parent / "_static" / "tiktoken_cache")
    borrowed = "TIKTOKEN_CACHE_DIR" not in os.environ
    if borrowed:
        os.environ["TIKTOKEN_CACHE_DIR"] = cache_dir
    try:
        encoding = tiktoken.get_encoding("cl100k_base")
    finally:
        if borrowed:
            del os.environ["TIKTOKEN_CACHE_DIR"]
    return partial(encoding.encode, allowed_special="all")


def lead_in(text: str, start: int, chars: int) -> str:
    """Up to ``chars`` characters of ``text`` before ``start``, from a sentence or line start
    (nothing when no boundary falls in that stretch)."""
    if chars <= 0 or start <= 0:
        return ""
    before = text[max(0, start - chars) : start]
    if start - chars <= 0:
        return before.strip()
    cuts = [at + len(mark) for mark in (". ", "\n") if (at := before.find(mark)) >= 0]
    return before[min(cuts) :].strip() if cuts else ""


def source_line(title: str, date: str | None, source: str | None) -> str:
    """How an answer names a document: "Title (date, source)", "Title (undated)"."""
    return f"{title} ({', '.join(x for x in (date, source) if x) or 'undated'})"

"""Compose answers of other kinds than one fact (issue 28) from cited sentences.

- ``mentions``: for "which briefings mention X", the first sentence of each retrieved
  document that names every content term of X, as evidence, best-ranked document first.
- ``newest_first``: for "the latest on X", the same sentences of the newest documents first.
- ``oldest_first``: for "a timeline of X", all of them in date order.
- ``documents_draft``: those sentences as a list, one line per document with its title, date
  and source, each quoted and cited; it then goes through citation read-back and verification
  like any draft.
- ``summary_evidence``: for "summarize X", the document's most central sentences, chosen by
  maximal marginal relevance (close to the document's mean sentence vector, far from the
  sentences already chosen), in document order.
- ``list_items``: for "which countries ...", the items of the enumeration that holds the
  reader's span ("Dravia, Ostrelle and Keld"), each to be cited on its own line.
- ``naming_sentences`` / ``sides_draft``: for "compare X and Y", the sentences that name each
  side, and one cited line per side's sentence.
- ``merge_parts``: the answers to the parts of a several-questions-in-one question, one line
  each, citations renumbered so they stay distinct.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from rag.schema import AnswerResult, Citation, Draft, Evidence, RetrievedChunk, SentenceSupport
from rag.text import (
    CITE_MARK,
    STOPWORDS,
    headings,
    sentence_spans,
    source_line,
    strip_citations,
    terms,
)


def mentions(topic: str, chunks: Sequence[RetrievedChunk], limit: int) -> list[Evidence]:
    """One sentence per document that names every content term of ``topic`` (stemmed, as
    BM25 matches them), in retrieval order; at most ``limit`` documents."""
    wanted = set(terms(topic))
    if not wanted:
        return []
    out: list[Evidence] = []
    seen: set[str] = set()
    for chunk in chunks:
        if chunk.doc_id in seen:
            continue
        for start, end in sentence_spans(chunk.text):
            if wanted <= set(terms(chunk.text[start:end])):
                seen.add(chunk.doc_id)
                out.append(
                    Evidence(
                        n=len(out) + 1,
                        chunk=chunk,
                        text=chunk.text[start:end],
                        start_char=chunk.start_char + start,
                        end_char=chunk.start_char + end,
                        score=1.0,
                    )
                )
                break
        if len(out) >= limit:
            break
    return out


def newest_first(evidence: Sequence[Evidence], limit: int) -> list[Evidence]:
    """The ``limit`` newest documents' evidence, newest first (undated last), renumbered."""
    dated = sorted(evidence, key=lambda e: e.chunk.date or "", reverse=True)
    return [e.model_copy(update={"n": i}) for i, e in enumerate(dated[:limit], start=1)]


def oldest_first(evidence: Sequence[Evidence]) -> list[Evidence]:
    """A timeline: the dated documents' evidence in date order, undated ones after, renumbered."""
    dated = sorted(evidence, key=lambda e: (e.chunk.date is None, e.chunk.date or ""))
    return [e.model_copy(update={"n": i}) for i, e in enumerate(dated, start=1)]


def documents_draft(evidence: Sequence[Evidence], answerer: str) -> Draft:
    """One line per document: "Title (date, source): “sentence” [n]"."""
    lines = []
    for ev in evidence:
        c = ev.chunk
        named = source_line(c.title or c.doc_id, c.date, c.source)
        lines.append(f"{named}: \u201c{strip_citations(ev.text)}\u201d [{ev.n}]")
    return Draft(text="\n".join(lines), answerer=answerer)


def central_sentences(
    vectors: np.ndarray, k: int, diversity: float, lead: float = 0.0
) -> list[int]:
    """Indices of ``k`` rows of unit ``vectors`` by maximal marginal relevance: each pick
    maximises (1 - diversity) * (similarity to the mean vector + lead * how early the row
    stands, 1 for the first and 0 past the last) - diversity * its highest similarity to a row
    already picked; returned in row order. ``lead`` is news style: the first sentences say
    what the story is."""
    if not len(vectors) or k <= 0:
        return []
    centre = vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    early = 1.0 - np.arange(len(vectors)) / len(vectors)
    relevance = vectors @ centre + lead * early
    picked: list[int] = []
    while len(picked) < min(k, len(vectors)):
        redundancy = (vectors @ vectors[picked].T).max(axis=1) if picked else 0.0
        score = (1 - diversity) * relevance - diversity * redundancy
        score[picked] = -np.inf
        picked.append(int(np.argmax(score)))
    return sorted(picked)


def summary_sentences(text: str, min_words: int) -> list[tuple[int, int]]:
    """(start, end) of the sentences a summary may quote: not headings, at least
    ``min_words`` words long."""
    heads = {offset for offset, _ in headings(text)}
    return [
        (a, b)
        for a, b in sentence_spans(text)
        if a not in heads and len(text[a:b].split()) >= min_words
    ]


def summary_evidence(
    doc: RetrievedChunk, spans: Sequence[tuple[int, int]], picked: Sequence[int]
) -> list[Evidence]:
    """The picked sentences of a whole stored document (``doc``: its text from offset 0) as
    numbered evidence."""
    return [
        Evidence(
            n=i,
            chunk=doc,
            text=doc.text[spans[j][0] : spans[j][1]],
            start_char=spans[j][0],
            end_char=spans[j][1],
            score=1.0,
        )
        for i, j in enumerate(picked, start=1)
    ]


def lines_draft(evidence: Sequence[Evidence], answerer: str) -> Draft:
    """Each sentence on its own line, cited."""
    return Draft(
        text="\n".join(f"{strip_citations(ev.text)} [{ev.n}]" for ev in evidence), answerer=answerer
    )


# Between two items of an enumeration: ", ", ", and ", " and ", "; ", " or ".
_ITEM_SEP = re.compile(r"\s*(?:,\s*(?:and|or)\s+|,\s*|;\s*|\s+(?:and|or)\s+)")
# Between two names of a chain: a separator, maybe with "the" ("..., Japan, the Republic of").
_CHAIN_SEP = re.compile(rf"(?:{_ITEM_SEP.pattern})(?:the\s+)?")
# A name: capitalised words, with "of", "the", "de" ... between them ("Bank of Calvania").
_NAME = re.compile(
    r"[A-Z0-9](?:[\w'\u2019&-]|\.(?=\w))*(?:\s+(?:(?:of|the|de|del|la|le|van|von|for|du|al)\s+)*"
    r"[A-Z0-9](?:[\w'\u2019&-]|\.(?=\w))*)*"
)


def _pieces(text: str, offset: int) -> list[tuple[int, int]]:
    """(start, end) of the pieces of ``text`` between item separators, shifted by ``offset``."""
    out, at = [], 0
    for m in _ITEM_SEP.finditer(text):
        out.append((offset + at, offset + m.start()))
        at = m.end()
    out.append((offset + at, offset + len(text)))
    return [(a, b) for a, b in out if b > a]


def _enumerates(text: str, pieces: Sequence[tuple[int, int]], offset: int) -> bool:
    """Several items: a comma or semicolon separates them, or "and" joins two names."""
    if len(pieces) < 2:
        return False
    if re.search(r"[,;]", text):
        return True
    # Two proper names joined by "and" are two items in a list answer ("Yara Nwosu and Piet
    # Halvorsen"); two plain words are one phrase ("research and development").
    return len(pieces) == 2 and all(
        _NAME.fullmatch(text[a - offset : b - offset]) for a, b in pieces
    )


def _names(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of each name in ``sentence``, less a capitalised function word before it
    ("When Yara Nwosu ..." names Yara Nwosu)."""
    out = []
    for m in _NAME.finditer(sentence):
        start, words = m.start(), m.group(0).split()
        while len(words) > 1 and words[0].lower() in STOPWORDS:
            start = sentence.index(words[1], start + len(words[0]))
            words = words[1:]
        out.append((start, m.end()))
    return out


def list_items(sentence: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each item of the enumeration in ``sentence`` that holds the span
    ``[start, end)``: the span's own items when it is a list, else the chain of names joined
    by separators that the span stands in; just the span when it stands alone."""
    span = sentence[start:end]
    own = _pieces(span, start)
    if _enumerates(span, own, start):
        return own
    chains: list[list[tuple[int, int]]] = []
    for name in _names(sentence):
        if chains and _CHAIN_SEP.fullmatch(sentence[chains[-1][-1][1] : name[0]]):
            chains[-1].append(name)
        else:
            chains.append([name])
    for spans in chains:
        text = sentence[spans[0][0] : spans[-1][1]]
        holds = any(a < end and start < b for a, b in spans)
        if holds and _enumerates(text, spans, spans[0][0]):
            return spans
    return [(start, end)]


def naming_sentences(name: str, chunks: Sequence[RetrievedChunk]) -> list[Evidence]:
    """Every sentence of ``chunks`` that names all content terms of ``name``, unnumbered (n=0),
    each once."""
    wanted = set(terms(name))
    out: list[Evidence] = []
    seen: set[tuple[str, int]] = set()
    for chunk in chunks:
        for a, b in sentence_spans(chunk.text):
            place = (chunk.doc_id, chunk.start_char + a)
            if wanted and place not in seen and wanted <= set(terms(chunk.text[a:b])):
                seen.add(place)
                out.append(
                    Evidence(
                        n=0,
                        chunk=chunk,
                        text=chunk.text[a:b],
                        start_char=place[1],
                        end_char=chunk.start_char + b,
                        score=1.0,
                    )
                )
    return out


def sides_draft(sides: Sequence[tuple[str, Sequence[Evidence]]], answerer: str) -> Draft:
    """One line per sentence of each side, "Side: sentence [n]" (a side with none has no
    line: the caller says the briefings don't say, which needs no verifying)."""
    lines = [
        f"{name}: {strip_citations(ev.text)} [{ev.n}]"
        for name, evidence in sides
        for ev in evidence
    ]
    return Draft(text="\n".join(lines), answerer=answerer)


def _shift(text: str, by: int) -> str:
    def moved(m: object) -> str:
        group = m.group(1)  # type: ignore[attr-defined]
        return " [" + ", ".join(str(int(n) + by) for n in group.split(",")) + "]"

    return CITE_MARK.sub(moved, text)


def merge_parts(parts: Sequence[str], results: Sequence[AnswerResult]) -> dict:
    """The fields of one answer made of the parts' answers (``AnswerResult`` updates): each
    part on its own line after its question, its citations renumbered after the previous
    parts'. Refused parts say so; the caller refuses the whole when every part is refused."""
    lines: list[str] = []
    citations: list[Citation] = []
    support: list[SentenceSupport] = []
    shorts: list[str] = []
    for part, r in zip(parts, results, strict=True):
        by = len(citations)
        lines.append(f"{part} {_shift(r.answer, by).strip()}")
        citations += [c.model_copy(update={"n": c.n + by}) for c in r.citations]
        support += [
            s.model_copy(update={"citations": [n + by for n in s.citations]}) for s in r.support
        ]
        if r.short_answer:
            shorts.append(r.short_answer)
    answered = [r for r in results if not r.abstained]
    refused = [f"part {i}: {r.note}" for i, r in enumerate(results, start=1) if r.abstained]
    return {
        "answer": "\n".join(lines),
        "citations": citations,
        "support": support,
        "grounded": all(r.grounded for r in answered),
        "abstained": False,
        "short_answer": "; ".join(shorts) or None,
        "leads": False,
        "confidence": min((r.confidence for r in answered), default=0.0),
        "tier": "answer" if all(r.tier == "answer" for r in answered) else "guess",
        "retrieved": [c for r in results for c in r.retrieved],
        "note": "; ".join(refused) or None,
        "answerer": answered[0].answerer if answered else results[0].answerer,
    }

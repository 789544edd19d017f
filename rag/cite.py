"""Cite: turn an answer's [n] markers into verbatim quotes read back from the stored documents.

A citation's ``quote`` is the stored cleaned text at ``[start_char:end_char]``, never the
answerer's copy, so a citation can only point at what the document really says.
"""

from __future__ import annotations

import re

from rag.schema import Citation, Evidence
from rag.store.base import DocumentStore
from rag.text import CITE_MARK, citation_numbers, sentence_spans

# An answer sentence ends after its citation group (and any closing punctuation). Only a
# real marker ("[2]", "[1, 3]") ends one: brackets inside a quoted document sentence ("the
# mayor [Jane Doe] opened it") do not.
_AFTER_MARKS = re.compile(r"\[\d+(?:\s*,\s*\d+)*\][.!?]?(?=\s+\S)")


# What a citation repeats of its document's metadata.
CITED_META = {"doc_id", "title", "source", "date", "url"}


def answer_sentences(answer: str) -> list[str]:
    """Split an answer into its cited sentences; quoted evidence stays in one piece."""
    cuts = [m.end() for m in _AFTER_MARKS.finditer(answer)]
    bounds = zip([0, *cuts], [*cuts, len(answer)], strict=True)
    pieces = [answer[a:b].strip() for a, b in bounds if answer[a:b].strip()]
    out: list[str] = []
    for piece in pieces:
        if citation_numbers(piece):
            out.append(piece)
        else:  # uncited prose: split it normally so each sentence is judged on its own
            out.extend(piece[s:e] for s, e in sentence_spans(piece))
    return out


def build_citations(
    answer: str, evidence: list[Evidence], store: DocumentStore
) -> tuple[str, list[Citation]]:
    """Attach quotes read from the store to the evidence the answer cites, then renumber.

    Markers pointing at no evidence, or at a chunk whose document changed since retrieval,
    are removed from the answer.
    """
    by_n = {e.n: e for e in evidence}
    used = [n for n in citation_numbers(answer) if n in by_n]
    docs = store.get_documents(by_n[n].chunk.doc_id for n in used)
    citations: list[Citation] = []
    for n in used:
        ev = by_n[n]
        meta_text = docs.get(ev.chunk.doc_id)
        if meta_text is None or meta_text[0].content_hash != ev.chunk.content_hash:
            continue
        meta, text = meta_text
        quote = text[ev.start_char : ev.end_char]
        if quote != ev.text:
            continue
        citations.append(
            Citation(
                n=n,
                **meta.model_dump(include=CITED_META),
                chunk_id=ev.chunk.chunk_id,
                start_char=ev.start_char,
                end_char=ev.end_char,
                quote=quote,
                page=meta.page_at(ev.start_char),
            )
        )
    return keep_cited(answer, citations)


def keep_cited(answer: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """Renumber citations 1..m in order of first use; drop unused ones and unknown markers."""
    by_n = {c.n: c for c in citations}
    order = [n for n in citation_numbers(answer) if n in by_n]
    renumber = {old: new for new, old in enumerate(order, start=1)}

    def rewrite(match: re.Match[str]) -> str:
        kept = [renumber[int(n)] for n in match.group(1).split(",") if int(n) in renumber]
        return f" [{', '.join(map(str, kept))}]" if kept else ""

    text = CITE_MARK.sub(rewrite, answer).strip()
    return text, [by_n[old].model_copy(update={"n": renumber[old]}) for old in order]

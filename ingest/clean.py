"""Strip page boilerplate and lift credit lines into metadata.

Blog exports end with chrome such as "No comments:" / "Post a Comment"; retrieval would
otherwise match it and answers would quote it. Credit lines ("Based On ANI Report") carry the
real source, so they become ``source`` metadata instead of text. Markup is dropped from every
format: documents are untrusted, and a ``<script>`` in a .txt body (or an ``&lt;img ...&gt;``
that unescaped to one) would otherwise be stored, quoted and echoed by every answer citing it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from ingest.dates import dateline_date, iso_date
from ingest.loaders import PAGE_BREAK, SourceDocument

_PAGE_MARK = PAGE_BREAK.strip("\n")

BOILERPLATE = re.compile(
    r"""^(?:
        no\ comments?:?
      | \d+\ comments?:?
      | post\ a\ comment
      | newer\ post | older\ post | home
      | subscribe\ to:?.*
      | share\ this(?:\ post|\ article)?:?
      | posted\ by\ .{1,60}
      | labels?:.{0,200}
      | email\ this | blogthis! | share\ to\ (?:twitter|facebook|pinterest)
      | (?:read|see)\ more:?
      | advertisement
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
CREDIT = re.compile(
    r"^(?:based\s+on|(?:with\s+)?inputs?\s+from|source:?)\s+(?:an?\s+)?(?P<src>[\w .&'-]{1,60}?)"
    r"(?:\s+reports?)?\.?$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\u00a0]+")
_MARKUP_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
# A tag name may be followed by whitespace or "/" ("<img/src=x onerror=...>" is a real tag).
_TAG = re.compile(r"<!--.*?(?:-->|$)|</?[A-Za-z][A-Za-z0-9-]*(?:[\s/][^<>]*)?>", re.DOTALL)


def strip_markup(text: str) -> str:
    """Text without HTML tags, comments, or script/style blocks (each replaced by a space)."""
    return _TAG.sub(" ", _MARKUP_BLOCK.sub(" ", text))


def clean_document(doc: SourceDocument) -> SourceDocument:
    """Return the document with normalized whitespace, trailing chrome removed, source lifted,
    a date (its own, else a dateline's) in ISO form, and page breaks turned into offsets."""
    text = strip_markup(unicodedata.normalize("NFC", doc.text))
    if doc.page_kind is None:  # only paged loaders may place page breaks
        text = text.replace(_PAGE_MARK, "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    source = doc.source
    # Chrome and credits sit at the end of an article: peel lines off the tail until content.
    while lines:
        tail = lines[-1]
        if not tail or BOILERPLATE.match(tail):
            lines.pop()
            continue
        credit = CREDIT.match(tail)
        if credit:
            source = source or credit.group("src").strip()
            lines.pop()
            continue
        break
    body = "\n".join(lines).strip()
    body = re.sub(r"\n{3,}", "\n\n", body)
    page_starts = None
    if doc.page_kind is not None:
        body, page_starts = split_pages(body)
    title = _one_line(unicodedata.normalize("NFC", doc.title))
    source = (_one_line(source) or None) if source else source
    date = iso_date(doc.date) or (None if doc.date else dateline_date(body))
    return replace(
        doc, title=title, text=body, source=source, date=date or doc.date, page_starts=page_starts
    )


def split_pages(body: str) -> tuple[str, list[int]]:
    """Text without page marks, and the offset where each page (1, 2, ...) starts in it."""
    pages = [piece.strip("\n") for piece in body.split(_PAGE_MARK)]
    starts: list[int] = []
    pos = 0
    for i, page in enumerate(pages):
        pos += 2 if i else 0  # the "\n\n" between pages
        starts.append(pos)
        pos += len(page)
    return "\n\n".join(pages), starts


def _one_line(text: str) -> str:
    """A metadata field as one tidy line: no markup, single spaces."""
    return _SPACES.sub(" ", strip_markup(text)).strip()

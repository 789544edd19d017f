"""PDF -> one document whose pages are kept apart, so chunks and citations know their page.

pypdf extracts each page's text in content-stream order (column by column for the usual
two-column layouts). Around that: running headers and footers (a line that recurs at the top
or bottom of most pages, digits aside) and bare page numbers are dropped, lines are unwrapped
into paragraphs (a line break is a sentence break downstream), and a word hyphenated across a
line end is joined. Title and date come from the PDF's metadata, else the first line and a
dateline. Encrypted, corrupt and scanned (text-less) files are named errors.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
import statistics
from collections import Counter
from collections.abc import Iterator

from ingest.dates import iso_date
from ingest.loaders import PAGE_BREAK, LoadError, SourceDocument, TooLarge

MAX_PAGES = 2000
EDGE_LINES = 2  # how many lines at the top and bottom of a page may be running headers
RUNNING_MAX_CHARS = 90  # headers and footers are short; a long recurring line is content
NO_TEXT = "no extractable text; scanned PDFs need OCR, which is not supported"
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*[-–—])?$", re.I
)
_JUNK_TITLES = re.compile(
    r"^(?:untitled|microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|pdf))$", re.I
)
_HYPHENATED = re.compile(r"[a-zà-ÿ]-$")
_SENTENCE_END = re.compile(r"[.!?:;\"'”’)\]]$")

logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-object warnings are noise here


def read_pdf(data: bytes, doc_id: str, name: str) -> Iterator[SourceDocument]:
    """One paged document; raises ``LoadError`` for encrypted, corrupt or text-less files."""
    reader = _open(data, name)
    try:
        n_pages = len(reader.pages)
        if n_pages > MAX_PAGES:
            raise TooLarge(f"{name}: {n_pages} pages, more than the {MAX_PAGES} we read")
        raw = [_page_lines(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except LoadError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise LoadError(f"{name}: corrupt or truncated PDF ({type(exc).__name__})") from exc
    pages = [paragraphs(lines) for lines in strip_running_lines(raw)]
    if not any(page.strip() for page in pages):
        raise LoadError(f"{name}: {NO_TEXT}")
    title = _meta(info, "title")
    if not title or _JUNK_TITLES.match(title):
        title = next((p.split("\n", 1)[0] for p in pages if p.strip()), "")[:300]
    yield SourceDocument(
        doc_id=doc_id,
        title=title,
        text=PAGE_BREAK.join(pages),
        date=iso_date(_meta(info, "/CreationDate")),
        source=_meta(info, "author"),
        path=name,
        page_kind="page",
    )


def _open(data: bytes, name: str):  # -> pypdf.PdfReader
    from pypdf import PdfReader

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise LoadError(f"{name}: not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(f"{name}: encrypted PDF (password-protected); upload an unlocked copy")
        return reader
    except LoadError:
        raise
    except Exception as exc:
        if "crypt" in str(exc).lower() or "password" in str(exc).lower():
            raise LoadError(f"{name}: encrypted PDF that we cannot open ({exc})") from exc
        raise LoadError(f"{name}: corrupt or truncated PDF ({type(exc).__name__})") from exc


def _meta(info: object, key: str) -> str | None:
    """A metadata field as tidy text (pypdf's properties for standard keys, raw otherwise)."""
    if info is None:
        return None
    try:
        value = getattr(info, key) if not key.startswith("/") else info.get(key)  # type: ignore[attr-defined]
    except Exception:
        return None
    text = " ".join(str(value).split()) if value else ""
    return text or None


def _page_lines(text: str) -> list[str]:
    text = text.replace("\u00ad", "").replace("\r\n", "\n").replace("\r", "\n")
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def _shape(line: str) -> str:
    """A line with its digits masked: "Page 3 of 9" and "Page 4 of 9" are one running line."""
    return re.sub(r"\d+", "#", line.lower())


def strip_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers, and short header/footer lines recurring on half of the pages or more.

    Templated pages ("District 3 counted ...", "District 4 counted ...") recur digits aside
    too, so only short lines count as running lines, and never one that starts in lower case
    (it carries on a sentence from the line before).
    """
    edges = Counter(
        shape
        for lines in pages
        for shape in {
            _shape(line)
            for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:]
            if len(line) <= RUNNING_MAX_CHARS and not line[:1].islower()
        }
    )
    needed = max(2, math.ceil(len(pages) / 2))
    running = {shape for shape, count in edges.items() if count >= needed}

    def chrome(line: str) -> bool:
        return _shape(line) in running or bool(_PAGE_NUMBER.match(line))

    out: list[list[str]] = []
    for lines in pages:
        start, end = 0, len(lines)
        while start < min(end, EDGE_LINES) and chrome(lines[start]):
            start += 1
        while end > max(start, len(lines) - EDGE_LINES) and chrome(lines[end - 1]):
            end -= 1
        out.append(lines[start:end])
    return out


def paragraphs(lines: list[str]) -> str:
    """Unwrap a page's lines: a line that fills the measure continues on the next one.

    A line ends its paragraph when it is short (a heading, a paragraph's last line) or ends
    a sentence well short of the measure; ``exam-`` + ``ple`` becomes ``example``.
    """
    if not lines:
        return ""
    measure = statistics.median(len(line) for line in lines) if len(lines) > 2 else 0
    measure = max(measure, max(len(line) for line in lines) * 0.8)
    out = [lines[0]]
    for prev, line in itertools.pairwise(lines):
        short = len(prev) < 0.6 * measure
        ends = bool(_SENTENCE_END.search(prev)) and len(prev) < 0.9 * measure
        if short or ends:
            out.append("\n" + line)
        elif _HYPHENATED.search(prev) and line[:1].islower():
            out[-1] = out[-1][:-1]
            out.append(line)
        else:
            out.append(" " + line)
    return "".join(out)

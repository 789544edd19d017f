"""PDF -> one document whose pages are kept apart, so chunks and citations know their page.

pypdf extracts each page's text; a page whose layout shows two columns is read column by
column (left, then right; a headline across both ends the block). Around that: running
headers and footers (a line that recurs at the top or bottom of most pages, digits aside)
and bare page numbers are dropped, lines are unwrapped into paragraphs (a line break is a
sentence break downstream), and a word hyphenated across a line end is joined. Title and date
come from the PDF's metadata, else the first line and a dateline. Encrypted, corrupt and
scanned (text-less) files are named errors.
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
from typing import Any

from ingest.dates import iso_date
from ingest.loaders import PAGE_BREAK, LoadError, SourceDocument, TooLarge
from ingest.visibility import WHITE, unseen

MAX_PAGES = 2000
# What a PDF may decode to, all pages' content streams together. Pages may share one stream,
# so a 316 KB file decoded 2 GB of drawing operators (issue 26 item 1); a 2,000-page report
# decodes to a few MB.
MAX_CONTENT_BYTES = 40_000_000
MAX_LAYOUT_WIDTH = 1_000  # characters; a wider layout view is not a page of columns
EDGE_LINES = 2  # how many lines at the top and bottom of a page may be running headers
GUTTER = 4  # blank characters between two columns in pypdf's layout view
MIN_COLUMN_LINES = 6
MIN_COLUMN_CHARS = 25
RUNNING_MAX_CHARS = 90  # headers and footers are short; a long recurring line is content
NO_TEXT = "no extractable text; scanned PDFs need OCR, which is not supported"
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*[-–—])?$", re.I
)
_JUNK_TITLES = re.compile(
    r"^(?:untitled|microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|pdf))$", re.I
)
_BLANKS = re.compile(f" {{{GUTTER},}}")
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
        drawn = 0
        for page in reader.pages:  # decoding is cheap; reading the operators is not
            drawn += _content_bytes(page)
            if drawn > MAX_CONTENT_BYTES:
                raise TooLarge(
                    f"{name}: its pages draw more than {MAX_CONTENT_BYTES:,} bytes of content"
                )
        hidden: list[str] = []
        raw = []
        for page in reader.pages:
            hidden += drop_unseen_text(page)
            raw.append(_page_lines(_reading_order(page)))
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
        hidden_text=hidden,
    )


def drop_unseen_text(page: Any) -> list[str]:
    """Take text a reader can't see off the page before it is read: text drawn in a colour
    that vanishes on the white page (``ingest.visibility``) or in an invisible render mode
    (``3 Tr``, ``7 Tr``). Returns the dropped strings. Text inside form XObjects, and white
    text on a dark box (a page's background is taken as white), are not told apart."""
    from pypdf.generic import ContentStream, NameObject

    contents = page.get_contents()
    if not isinstance(contents, ContentStream):
        return []
    state = {"fill": (0.0, 0.0, 0.0, 1.0), "space": 1, "mode": 0}
    saved: list[dict[str, Any]] = []
    kept: list[tuple[list[Any], bytes]] = []
    dropped: list[str] = []
    for operands, operator in contents.operations:
        op = operator if isinstance(operator, bytes) else str(operator).encode()
        if op == b"q":
            saved.append(dict(state))
        elif op == b"Q" and saved:
            state = saved.pop()
        elif op in (b"g", b"rg", b"k", b"sc", b"scn"):
            state["fill"] = _fill(operands, {b"g": 1, b"rg": 3, b"k": 4}.get(op, state["space"]))
        elif op == b"cs" and operands:
            state["space"] = _COMPONENTS.get(str(operands[0]), 0)
            state["fill"] = (0.0, 0.0, 0.0, 1.0) if state["space"] else None
        elif op == b"Tr" and operands:
            state["mode"] = int(operands[0])
        elif op in _SHOWS and _invisible(state):
            dropped.append(_shown_text(operands))
            if op == b"'":
                kept.append(([], b"T*"))
            elif op == b'"' and len(operands) == 3:
                kept += [([operands[0]], b"Tw"), ([operands[1]], b"Tc"), ([], b"T*")]
            continue
        kept.append((operands, op))
    if not dropped:
        return []
    contents.operations = kept
    page[NameObject("/Contents")] = contents
    return [" ".join(text.split()) for text in dropped if text.strip()]


_SHOWS = (b"Tj", b"TJ", b"'", b'"')
_COMPONENTS = {"/DeviceGray": 1, "/CalGray": 1, "/DeviceRGB": 3, "/CalRGB": 3, "/DeviceCMYK": 4}


def _fill(operands: list[Any], components: int) -> tuple[float, float, float, float] | None:
    """The fill colour set by ``g``/``rg``/``k``/``sc``; None for patterns and the unknown."""
    try:
        values = [float(v) for v in operands]
    except (TypeError, ValueError):
        return None  # a pattern name
    if components == 1 and len(values) == 1:
        return (values[0], values[0], values[0], 1.0)
    if components == 3 and len(values) == 3:
        return (values[0], values[1], values[2], 1.0)
    if components == 4 and len(values) == 4:
        c, m, y, k = values
        return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k), 1.0)
    return None


def _invisible(state: dict[str, Any]) -> bool:
    fill = state["fill"]
    return state["mode"] in (3, 7) or (
        state["mode"] in (0, 2, 4, 6) and fill is not None and unseen(fill, WHITE)
    )


def _shown_text(operands: list[Any]) -> str:
    """The strings a text-showing operator draws (as pypdf decoded them)."""
    strings = operands[-1] if operands else []
    parts = strings if isinstance(strings, list) else [strings]
    text = "".join(
        p if isinstance(p, str) else p.decode("latin-1") if isinstance(p, bytes) else ""
        for p in parts
    )
    return text if sum(ch.isprintable() for ch in text) >= 0.8 * len(text) else ""


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


def _content_bytes(page: Any) -> int:
    """How many bytes the page's content streams decode to (each page counts a shared one)."""
    contents = page.get_contents()
    return 0 if contents is None else len(contents.get_data())


def _reading_order(page: Any) -> str:
    """The page's text, column by column when pypdf's layout view shows two columns."""
    columns = two_columns(page.extract_text(extraction_mode="layout") or "")
    return "\n".join(columns) if columns is not None else page.extract_text() or ""


def two_columns(layout: str) -> list[str] | None:
    """Lines in reading order if ``layout`` (a page drawn as fixed-width text) has two
    columns: a gutter, blank at one position, with text either side on most lines. Lines that
    cross the gutter (a headline) end a column block. None for a one-column page."""
    lines = [line.rstrip() for line in layout.split("\n")]
    body = [line for line in lines if line.strip()]
    if len(body) < MIN_COLUMN_LINES:
        return None
    width = max(len(line) for line in body)
    if width > MAX_LAYOUT_WIDTH:
        return None
    counts = _gutter_counts(body, width // 4, 3 * width // 4)
    best_count = max(counts.values(), default=0)
    if best_count < max(MIN_COLUMN_LINES, len(body) / 2):
        return None
    # The middle of the widest blank band, so a centred headline is seen to cross it.
    first = min(at for at, count in counts.items() if count == best_count)
    last = first
    while counts.get(last + 1) == best_count:
        last += 1
    best = (first + last) // 2
    lefts = [line[:best].strip() for line in body if _split_at(line, best)]
    if sum(map(len, lefts)) / len(lefts) < MIN_COLUMN_CHARS:  # short cells: a table
        return None
    out: list[str] = []
    left: list[str] = []
    right: list[str] = []
    for line in body:
        head, gutter, tail = line[:best], line[best : best + GUTTER], line[best + GUTTER :]
        if gutter.strip():  # crosses the gutter: full width, its own block
            out += [*_blocks(left, right), line.strip(), ""]
            left, right = [], []
            continue
        if head.strip():
            left.append(head.strip())
        if tail.strip():
            right.append(tail.strip())
    return out + _blocks(left, right)


def _blocks(left: list[str], right: list[str]) -> list[str]:
    """The left column, then the right one, each ended by a block break."""
    out: list[str] = []
    for column in (left, right):
        if column:
            out += [*column, ""]
    return out


def _gutter_counts(body: list[str], lo: int, hi: int) -> dict[int, int]:
    """For each position in [lo, hi), how many lines ``_split_at`` it: one pass over each
    line's blank runs (a difference array), linear in the text rather than width x text."""
    diff = [0] * (hi - lo + 1)
    for line in body:
        for run in _BLANKS.finditer(line):
            # a gutter may start anywhere in the run that leaves GUTTER blanks; text before
            # the run (not a leading indent) and after it (lines are right-stripped)
            first = max(run.start(), lo)
            last = min(run.end() - GUTTER, hi - 1)
            if run.start() > 0 and run.end() < len(line) and first <= last:
                diff[first - lo] += 1
                diff[last - lo + 1] -= 1
    counts, running = {}, 0
    for at in range(lo, hi):
        running += diff[at - lo]
        counts[at] = running
    return counts


def _split_at(line: str, at: int) -> bool:
    return (
        len(line) > at + GUTTER
        and not line[at : at + GUTTER].strip()
        and bool(line[:at].strip())
        and bool(line[at + GUTTER :].strip())
    )


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
    """Tidy lines; a blank line (a block break) is kept once, never at either end."""
    text = text.replace("\u00ad", "").replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for raw in text.split("\n"):
        line = " ".join(raw.split())
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


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

    A line ends its paragraph when it is short (a heading, a paragraph's last line), ends
    a sentence well short of the measure, or comes before a blank line (a block break);
    ``exam-`` + ``ple`` becomes ``example``.
    """
    lines = [line for i, line in enumerate(lines) if line or 0 < i < len(lines) - 1]
    if not lines:
        return ""
    text = [line for line in lines if line]
    measure = statistics.median(len(line) for line in text) if len(text) > 2 else 0
    measure = max(measure, max(len(line) for line in text) * 0.8)
    out = [lines[0]]
    for prev, line in itertools.pairwise(lines):
        if not line:  # a block break: the next line starts a paragraph
            continue
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

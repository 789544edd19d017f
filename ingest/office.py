"""Word (.docx) and PowerPoint (.pptx) files -> documents, with title/author/date from the
core properties.

Both are zip archives: the archive's declared sizes are checked before anything is expanded,
so a small file that would inflate to gigabytes (a zip bomb) is refused up front. DOCX keeps
headings, paragraphs, list items and table rows in document order; PPTX gives one section per
slide, cited like a PDF page.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from ingest.dates import iso_date
from ingest.loaders import PAGE_BREAK, LoadError, SourceDocument, TooLarge
from ingest.visibility import MIN_FONT_PX, RGBA, WHITE, unseen

MAX_EXPANDED_BYTES = 200_000_000
MAX_MEMBERS = 10_000
# A DOCX body may hold this many paragraphs (a 1,000-page report has ~30,000), counted in its
# XML before python-docx builds a tree of them: 20 MB of empty paragraphs took 71 s and
# 400 MB that the server kept (issue 26 item 2).
MAX_PARAGRAPHS = 200_000
MAX_TEXT_CHARS = 20_000_000
_PARAGRAPH = re.compile(rb"<(?:[\w.-]+:)?p[\s/>]")


def check_zip(data: bytes, name: str, kind: str) -> None:
    """Refuse a corrupt archive, or one whose members would expand past the limit.

    zipfile never inflates a member past its declared size, so the declared total bounds
    what python-docx/python-pptx can expand.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LoadError(f"{name}: corrupt or truncated {kind} (not a readable zip)") from exc
    total = sum(m.file_size for m in members)
    if len(members) > MAX_MEMBERS or total > MAX_EXPANDED_BYTES:
        raise TooLarge(
            f"{name}: {kind} would expand to {total:,} bytes in {len(members)} parts, "
            f"beyond the {MAX_EXPANDED_BYTES:,}-byte limit; refused before expanding"
        )


def _open(
    opener: Any,
    data: bytes,
    name: str,
    kind: str,
    budget: Callable[[bytes, str], None] | None = None,
) -> Any:
    """The archive opened by ``opener`` once it passes ``check_zip`` and ``budget`` (a
    format's own limit, read from the archive before the parser builds its tree)."""
    check_zip(data, name, kind)
    if budget is not None:
        budget(data, name)
    try:
        return opener(io.BytesIO(data))
    except Exception as exc:  # missing parts, bad XML, wrong content type
        raise LoadError(f"{name}: corrupt or not a {kind} ({type(exc).__name__})") from exc


def _core(props: Any) -> dict[str, str | None]:
    """Title, author and date from the core properties (empty strings become None)."""
    title = (props.title or "").strip() or None
    author = (props.author or "").strip() or None
    when = props.created or props.modified
    return {"title": title, "source": author, "date": iso_date(when) if when else None}


# --- DOCX --------------------------------------------------------------------------------
def read_docx(data: bytes, doc_id: str, name: str) -> Iterator[SourceDocument]:
    import docx

    document = _open(docx.Document, data, name, "DOCX", _count_paragraphs)
    hidden: list[str] = []
    try:
        blocks = _bounded(_docx_blocks(document, hidden), name)
        meta = _core(document.core_properties)
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"{name}: corrupt DOCX ({type(exc).__name__})") from exc
    if not any(b.strip() for b in blocks):
        raise LoadError(f"{name}: no text in the document")
    title = meta["title"] or next(b for b in blocks if b.strip()).lstrip("- ")[:300]
    yield SourceDocument(
        doc_id=doc_id,
        title=title,
        text="\n".join(blocks),
        date=meta["date"],
        source=meta["source"],
        path=name,
        hidden_text=hidden,
    )


def _count_paragraphs(data: bytes, name: str) -> None:
    """Refuse a body of more than ``MAX_PARAGRAPHS`` paragraphs before it is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            body = archive.read("word/document.xml")  # bounded by check_zip
    except KeyError:
        return  # python-docx names what is missing
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise LoadError(f"{name}: corrupt DOCX ({type(exc).__name__})") from exc
    found = sum(1 for _ in itertools.islice(_PARAGRAPH.finditer(body), MAX_PARAGRAPHS + 1))
    if found > MAX_PARAGRAPHS:
        raise TooLarge(f"{name}: more than {MAX_PARAGRAPHS:,} paragraphs; refused before reading")


def _bounded(blocks: Iterator[str], name: str) -> list[str]:
    """The blocks, refused once their text passes ``MAX_TEXT_CHARS``."""
    kept, size = [], 0
    for block in blocks:
        size += len(block)
        if size > MAX_TEXT_CHARS:
            raise TooLarge(f"{name}: more than {MAX_TEXT_CHARS:,} characters of text")
        kept.append(block)
    return kept


def _docx_blocks(document: Any, hidden: list[str]) -> Iterator[str]:
    """Paragraphs and tables in body order; list items as "- item", table rows as cells.
    Text Word would not show goes to ``hidden`` instead."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            text = _shown(para, hidden)
            if not text:
                continue
            style = (para.style.name if para.style is not None else "") or ""
            numbered = child.pPr is not None and child.pPr.numPr is not None
            is_list = numbered or style.lower().startswith("list")
            yield f"- {text}" if is_list else text
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells = list(
                    dict.fromkeys(
                        " ".join(_shown(p, hidden) for p in c.paragraphs).strip() for c in row.cells
                    )
                )
                if any(cells):
                    yield " | ".join(cells)


def _shown(para: Any, hidden: list[str]) -> str:
    """The paragraph's text from the runs Word shows; hidden runs' text goes to ``hidden``."""
    from docx.text.hyperlink import Hyperlink

    shown: list[str] = []
    unseen_text: list[str] = []
    for item in para.iter_inner_content():
        for run in item.runs if isinstance(item, Hyperlink) else [item]:
            (unseen_text if _run_hidden(run, para) else shown).append(run.text)
    if gone := " ".join("".join(unseen_text).split()):
        hidden.append(gone)
    return " ".join("".join(shown).split())


def _run_hidden(run: Any, para: Any) -> bool:
    """A run marked hidden (``w:vanish``, web-hidden), or in the run's or paragraph's style;
    a font under 3 pt; or a colour that can't be seen on the page (no shading or highlight)."""
    from docx.oxml.ns import qn

    fonts = [run.font, *_style_fonts(run.style), *_style_fonts(para.style)]
    for attribute in ("hidden", "web_hidden", "spec_vanish"):
        setting = next((v for f in fonts if (v := getattr(f, attribute)) is not None), None)
        if setting:
            return True
    size = next((f.size for f in fonts if f.size is not None), None)
    if size is not None and size.pt * 4 / 3 < MIN_FONT_PX:
        return True
    properties = run._r.rPr
    shaded = run.font.highlight_color is not None or (
        properties is not None and properties.find(qn("w:shd")) is not None
    )
    colour = next((c for f in fonts if (c := _rgb(f)) is not None), None)
    return colour is not None and not shaded and unseen(colour, WHITE)


def _style_fonts(style: Any) -> list[Any]:
    """A style's font and those of the styles it is based on, nearest first."""
    fonts = []
    while style is not None and len(fonts) < 10:
        fonts.append(style.font)
        style = style.base_style
    return fonts


def _rgb(font: Any) -> RGBA | None:
    try:
        rgb = font.color.rgb if font.color.type is not None else None
    except (ValueError, AttributeError):
        return None
    if rgb is None:
        return None
    return (rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, 1.0)


# --- PPTX --------------------------------------------------------------------------------
def read_pptx(data: bytes, doc_id: str, name: str) -> Iterator[SourceDocument]:
    import pptx

    deck = _open(pptx.Presentation, data, name, "PPTX")
    try:
        slides = [_slide_text(slide) for slide in deck.slides]
        meta = _core(deck.core_properties)
    except Exception as exc:
        raise LoadError(f"{name}: corrupt PPTX ({type(exc).__name__})") from exc
    if not any(s.strip() for s in slides):
        raise LoadError(f"{name}: no text on any slide")
    title = meta["title"] or next(s for s in slides if s.strip()).split("\n", 1)[0][:300]
    yield SourceDocument(
        doc_id=doc_id,
        title=title,
        text=PAGE_BREAK.join(slides),
        date=meta["date"],
        source=meta["source"],
        path=name,
        page_kind="slide",
    )


def _slide_text(slide: Any) -> str:
    """A slide's title first, then its other text frames and table rows, then its notes."""
    lines: list[str] = []
    title_shape = slide.shapes.title
    if title_shape is not None and title_shape.text_frame.text.strip():
        lines.append(" ".join(title_shape.text_frame.text.split()))
    for shape in slide.shapes:
        if title_shape is not None and shape.shape_id == title_shape.shape_id:
            continue
        if shape.has_text_frame:
            for para in shape.text_frame.paragraphs:
                text = " ".join("".join(run.text for run in para.runs).split())
                if text:
                    lines.append(text)
        if getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                if any(cells):
                    lines.append(" | ".join(cells))
    if slide.has_notes_slide:
        notes = " ".join(slide.notes_slide.notes_text_frame.text.split())
        if notes:
            lines.append(notes)
    return "\n".join(lines)

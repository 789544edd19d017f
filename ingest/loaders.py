"""Turn files into ``SourceDocument`` records: one reader per format, chosen from ``FORMATS``.

Every reader takes the file's bytes. ``FORMATS`` maps a suffix to its reader and the media
types that name it, so it is the one place to add a format: the CLI (by suffix), the upload API
(by Content-Type or file name) and e-mail attachments all look formats up there. Text formats
decode through ``decode_text``; binary ones (PDF, DOCX, PPTX, e-mail) never do.

Readers never raise on bad content: they raise ``LoadError`` with a message naming the file,
so the pipeline can skip it with a warning and carry on.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import yaml

from rag.text import scrub_surrogates

MAX_FILE_BYTES = 50_000_000
DOC_ID_MAX = 512
_BAD_ID_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class LoadError(Exception):
    """A file that cannot be read as a briefing; the message says why."""


class Unsupported(LoadError):
    """Not a format we read (unknown type, or binary bytes where text was expected)."""


class TooLarge(LoadError):
    """Bigger than we read: the file itself, its page count, or what its zip expands to."""


@dataclass
class SourceDocument:
    """A document as loaded, before cleaning. ``doc_id`` is stable across runs."""

    doc_id: str
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    path: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Paged formats (PDF pages, PPTX slides): the loader joins pages with ``PAGE_BREAK``;
    # cleaning turns the breaks into ``page_starts``, the offset where each page begins.
    page_kind: str | None = None
    page_starts: list[int] | None = None
    attached_to: str | None = None  # an e-mail attachment names the mail it came with
    # Text the rendered file hides (white on white, hidden runs, 1px fonts, ...): never part
    # of ``text``, so never evidence; kept apart so the user can see what was left out.
    hidden_text: list[str] = field(default_factory=list)


PAGE_BREAK = "\n\ue000\n"  # a private-use character on its own line: survives cleaning


def doc_id_problem(doc_id: str) -> str | None:
    """Why ``doc_id`` can't be a document id (same rule as the upload API's), else None."""
    if not doc_id.strip():
        return "empty doc_id"
    if len(doc_id) > DOC_ID_MAX:
        return f"doc_id longer than {DOC_ID_MAX} characters"
    if _BAD_ID_CHARS.search(doc_id):
        return "doc_id holds control characters or line breaks"
    return None


def contain(docs: list[SourceDocument], container: str) -> list[SourceDocument]:
    """Name every document read from inside ``container`` (an e-mail, a file of a multi-file
    upload) under the container's id, whatever id it claims: a JSONL record saying
    ``"doc_id": "harbor.md"`` inside ``mail.eml/batch.jsonl`` becomes
    ``mail.eml/batch.jsonl/harbor.md``, so an attachment can never replace a document that the
    upload did not name (issue 26 item 3)."""
    scoped = []
    inside = (container + "/", container + "#")
    for doc in docs:
        if doc.doc_id != container and not doc.doc_id.startswith(inside):
            doc = replace(doc, doc_id=f"{container}/{doc.doc_id}")
            if problem := doc_id_problem(doc.doc_id):
                raise LoadError(f"{doc.path or container}: {problem}")
        scoped.append(doc)
    return scoped


def decode_text(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM); refuse bytes that look binary."""
    if b"\x00" in data[:8192]:
        raise Unsupported(f"{name}: binary content (NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{name}: not valid UTF-8 at byte {exc.start}") from exc
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.01 * min(len(text), 8192):
        raise Unsupported(f"{name}: binary content (control characters)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _first_line_title(text: str) -> tuple[str, str]:
    """Plain text: the first non-empty line is the headline, the rest the body."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip():
            return line.strip(), "\n".join(lines[i + 1 :]).strip("\n")
    return "", text


def parse_txt(text: str, doc_id: str, name: str) -> Iterator[SourceDocument]:
    title, body = _first_line_title(text)
    yield SourceDocument(doc_id=doc_id, title=title, text=body, path=name)


def parse_md(text: str, doc_id: str, name: str) -> Iterator[SourceDocument]:
    """Markdown with optional YAML front matter (title, date, source, url)."""
    meta: dict[str, object] = {}
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            try:
                loaded = yaml.safe_load(text[4:end])
            except yaml.YAMLError as exc:
                raise LoadError(f"{name}: malformed front matter ({exc})") from exc
            if isinstance(loaded, dict):
                meta = loaded
            text = text[end + 4 :].lstrip("\n")
    title = str(meta.get("title") or "")
    if not title:
        heading, rest = _first_line_title(text)
        if heading.startswith("#"):
            title, text = heading.lstrip("#").strip(), rest
        else:
            title = heading
    yield SourceDocument(
        doc_id=doc_id,
        title=title,
        text=text,
        date=_opt_str(meta.get("date")),
        source=_opt_str(meta.get("source")),
        url=_opt_str(meta.get("url")),
        path=name,
    )


class _VisibleText(HTMLParser):
    """Collects visible text and the <title>, skipping scripts, styles and other chrome."""

    SKIP: ClassVar[set[str]] = {"script", "style", "noscript", "template", "svg", "head"}
    BLOCK: ClassVar[set[str]] = {
        "p",
        "div",
        "br",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "section",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self._skip += 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP and self._skip:
            self._skip -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


def parse_html(text: str, doc_id: str, name: str) -> Iterator[SourceDocument]:
    parser = _VisibleText()
    parser.feed(text)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    body = "\n".join(line for line in lines if line)
    title = " ".join(parser.title.split())
    if not title:
        title, body = _first_line_title(body)
    yield SourceDocument(doc_id=doc_id, title=title, text=body, path=name)


def json_lines(lines: Iterable[str], name: str) -> Iterator[tuple[int, object]]:
    """Each non-blank line's JSON value with its line number; a malformed line is a
    ``LoadError`` naming ``name:line`` (briefings and gold files alike)."""
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(f"{name}:{lineno}: malformed JSON ({exc.msg})") from exc
        except RecursionError as exc:  # "[[[[..." deeper than the parser's stack
            raise LoadError(f"{name}:{lineno}: JSON nested too deeply") from exc


def parse_jsonl(text: str, doc_id: str, name: str) -> Iterator[SourceDocument]:
    """One document a line; a malformed line is an error naming its line number."""
    for lineno, record in json_lines(text.split("\n"), name):
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise LoadError(f"{name}:{lineno}: expected an object with a string 'text'")
        given = record.get("doc_id")
        if given is not None and not isinstance(given, str | int):
            raise LoadError(f"{name}:{lineno}: doc_id must be a string")
        own = given not in (None, "")  # without one, the id derives from the file's
        record_id = scrub_surrogates(str(given) if own else f"{doc_id}#{lineno}")
        if own and (problem := doc_id_problem(record_id)):
            raise LoadError(f"{name}:{lineno}: {problem}")
        yield SourceDocument(
            doc_id=record_id,
            title=scrub_surrogates(str(record.get("title") or "")),
            text=scrub_surrogates(record["text"]),
            date=_opt_str(record.get("date")),
            source=_opt_str(record.get("source")),
            url=_opt_str(record.get("url")),
            path=name,
        )


def _opt_str(value: object) -> str | None:
    return None if value is None or value == "" else scrub_surrogates(str(value))


Reader = Callable[[bytes, str, str], Iterator[SourceDocument]]  # (data, doc_id, name)


def _text(parse: Callable[[str, str, str], Iterator[SourceDocument]]) -> Reader:
    """A text format's reader: decode (refusing binary), then parse."""

    def read(data: bytes, doc_id: str, name: str) -> Iterator[SourceDocument]:
        return parse(decode_text(data, name), doc_id, name)

    return read


def _lazy(module: str, function: str) -> Reader:
    """A reader imported on first use (pypdf, python-docx and friends take a while)."""

    def read(data: bytes, doc_id: str, name: str) -> Iterator[SourceDocument]:
        return getattr(importlib.import_module(module), function)(data, doc_id, name)

    return read


@dataclass(frozen=True)
class Format:
    """How to read one kind of file, and the media types an upload may name it by."""

    reader: Reader
    media_types: tuple[str, ...] = ()


FORMATS: dict[str, Format] = {
    ".txt": Format(_text(parse_txt), ("text/plain",)),
    ".md": Format(_text(parse_md), ("text/markdown", "text/x-markdown")),
    ".markdown": Format(_text(parse_md)),
    ".html": Format(_lazy("ingest.web", "read_html"), ("text/html", "application/xhtml+xml")),
    ".htm": Format(_lazy("ingest.web", "read_html")),
    ".jsonl": Format(
        _text(parse_jsonl),
        ("application/jsonl", "application/x-ndjson", "application/x-jsonlines"),
    ),
    ".pdf": Format(_lazy("ingest.pdf", "read_pdf"), ("application/pdf",)),
    ".docx": Format(
        _lazy("ingest.office", "read_docx"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    ),
    ".pptx": Format(
        _lazy("ingest.office", "read_pptx"),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation",),
    ),
    ".eml": Format(_lazy("ingest.mail", "read_eml"), ("message/rfc822",)),
}
PARSERS = FORMATS  # the suffixes we read (older name, kept for callers)
MEDIA_TYPES: dict[str, str] = {
    media: suffix for suffix, fmt in FORMATS.items() for media in fmt.media_types
}


def parse_bytes(data: bytes, suffix: str, doc_id: str, name: str) -> list[SourceDocument]:
    """Parse in-memory bytes as if they were a file with that suffix."""
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        raise Unsupported(f"{name}: unsupported file type '{suffix or '(none)'}'")
    if not data.strip():
        raise LoadError(f"{name}: empty document")
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(f"{name}: larger than {MAX_FILE_BYTES} bytes")
    return list(fmt.reader(data, doc_id, name))


def discover(paths: list[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every file under the given paths, sorted for stable order.

    ``root`` is what doc ids are relative to: the directory given, or a file's parent.
    """
    for given in paths:
        if given.is_dir():
            for file in sorted(p for p in given.rglob("*") if p.is_file()):
                if not any(part.startswith(".") for part in file.relative_to(given).parts):
                    yield file, given
        else:
            yield given, given.parent


Parse = Callable[[bytes, str, str, str], list[SourceDocument]]  # (data, suffix, doc_id, name)


def load_file(path: Path, root: Path, parse: Parse | None = None) -> list[SourceDocument]:
    """Load every document in one file; raises ``LoadError`` for unknown types or bad content.
    ``parse`` defaults to ``parse_bytes`` (the pipeline passes ``ingest.sandbox``'s)."""
    if path.suffix.lower() not in FORMATS:
        raise Unsupported(f"{path}: unsupported file type '{path.suffix or '(none)'}'")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path}: unreadable ({exc.strerror or exc})") from exc
    parse = parse or parse_bytes
    return parse(data, path.suffix, path.relative_to(root).as_posix(), str(path))

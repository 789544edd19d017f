"""Fuzzing the loaders (``parse_bytes``, ``load_file``): random bytes, markup soup, odd
encodings and huge lines either load as documents or raise ``LoadError``, never anything else,
and never take long. Bounded: a fixed number of examples, derandomized."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.clean import clean_document
from ingest.loaders import PARSERS, LoadError, SourceDocument, load_file, parse_bytes

SUFFIXES = sorted(PARSERS)
FUZZ = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Fragments that stress each parser: front matter, HTML (scripts, entities, comments, bad
# character references), JSONL (escapes, lone surrogates), BOMs, NULs and line endings.
PIECES = [
    "---\n",
    "title: [unclosed",
    "title: Ok\n",
    "date: 2031-02-30\n",
    "# Heading\n",
    "<p>",
    "</p>",
    "<script>alert('x')</script>",
    "<style>p{}</style>",
    "<title>",
    "</title>",
    "<!--",
    "-->",
    "<![CDATA[",
    "&amp;",
    "&#0;",
    "&#xD800;",
    "&#x110000;",
    "&nosuchentity;",
    '{"text": "a"}\n',
    '{"text": "\\ud800"}\n',
    '{"doc_id": 5, "text": "b", "date": null}\n',
    "[1, 2]\n",
    "{",
    "\ufeff",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\r",
    "\n",
    "\u2028",
    "Vellmark",
    " ",
]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"]


def check(data: bytes, suffix: str) -> list[SourceDocument]:
    """The contract: documents with string fields that clean without error, or LoadError."""
    try:
        docs = parse_bytes(data, suffix, "fuzz-id", "fuzz" + suffix)
    except LoadError as exc:
        assert str(exc).startswith("fuzz")  # the message names the file
        return []
    for doc in docs:
        assert isinstance(doc.doc_id, str) and isinstance(doc.title, str)
        assert isinstance(doc.text, str)
        cleaned = clean_document(doc)
        for text in (cleaned.text, cleaned.title, cleaned.doc_id):
            text.encode("utf-8")  # storable: no lone surrogates, whatever JSON spelt
    return docs


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(data: bytes, suffix: str) -> None:
    check(data, suffix)


@FUZZ
@given(
    parts=st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=40)), max_size=40),
    encoding=st.sampled_from(ENCODINGS),
    suffix=st.sampled_from(SUFFIXES),
)
def test_markup_soup_in_odd_encodings(parts: list[str], encoding: str, suffix: str) -> None:
    check("".join(parts).encode(encoding, errors="replace"), suffix)


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("utf-16 with BOM", "Title\nThe harbour reopened.".encode("utf-16")),
        ("utf-32", "Title\nThe harbour reopened.".encode("utf-32")),
        ("latin-1", "Café news\nThe café reopened.".encode("latin-1")),
        ("mixed utf-8 and latin-1", "Café\n".encode() + "crème brûlée".encode("latin-1")),
        ("utf-8 with BOM", "\ufeffTitle\nThe harbour reopened.".encode()),
        ("lone surrogate bytes", b"Title\n\xed\xa0\x80 text"),
        ("overlong encoding", b"Title\n\xc0\xaf text"),
    ],
)
def test_odd_encodings_are_load_errors_or_text(suffix: str, label: str, data: bytes) -> None:
    docs = check(data, suffix)
    if label.startswith(("utf-16", "utf-32", "latin-1", "mixed", "lone", "overlong")):
        assert docs == [], label  # refused with a LoadError, not mis-decoded
    if label == "utf-8 with BOM" and suffix in (".txt", ".md"):
        assert docs and not docs[0].title.startswith("\ufeff")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_huge_lines_load_quickly(suffix: str) -> None:
    """A 4 MB single line (no newline) and 200k short lines: parsed or refused in seconds of
    this process's CPU time (not wall time, which a busy machine stretches)."""
    word = "harbour "
    payloads = {
        ".jsonl": ('{"text": "' + word * 500_000 + '"}').encode(),
        ".html": ("<p>" + word * 500_000 + "</p>").encode(),
    }
    one_line = payloads.get(suffix, (word * 500_000).encode())
    many_lines = ("x\n" * 200_000).encode()
    for data in (one_line, many_lines):
        started = time.process_time()
        check(data, suffix)
        assert time.process_time() - started < 10


def test_load_file_refuses_unreadable_and_oversized(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-file.txt"
    folder.mkdir()
    with pytest.raises(LoadError, match="unreadable"):
        load_file(folder, tmp_path)
    with pytest.raises(LoadError, match="unsupported file type"):
        load_file(tmp_path / "x.xlsx", tmp_path)
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(60_000_000)  # sparse: no disk used; all NUL bytes
    with pytest.raises(LoadError):
        load_file(big, tmp_path)


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_load_file_matches_parse_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str
) -> None:
    root = tmp_path_factory.mktemp("files")
    path = root / f"doc{suffix}"
    path.write_bytes(data)
    try:
        docs = load_file(path, root)
    except LoadError:
        return
    assert all(isinstance(d, SourceDocument) for d in docs)


def test_deeply_nested_jsonl_is_a_load_error() -> None:
    data = b'{"text": "x", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(LoadError, match="nested too deeply"):
        parse_bytes(data, ".jsonl", "deep", "deep.jsonl")


def test_jsonl_lone_surrogates_become_replacement_characters() -> None:
    (doc,) = parse_bytes(b'{"title": "T\\udc00", "text": "a \\ud800 b"}', ".jsonl", "s", "s.jsonl")
    assert (doc.title, doc.text) == ("T\ufffd", "a \ufffd b")

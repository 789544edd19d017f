"""Each format yields the documented fields; bad files raise LoadError naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoadError, discover, load_file, parse_bytes
from tests.conftest import CORPUS, SEED


def test_markdown_front_matter_becomes_metadata() -> None:
    [doc] = load_file(CORPUS / "harbor-council.md", CORPUS)
    assert doc.doc_id == "harbor-council.md"
    assert doc.title == "Harbor Council Approves Lantern Bridge Repairs"
    assert (doc.date, doc.source) == ("2031-05-14", "Vellmark Gazette")
    assert doc.url == "https://example.invalid/vellmark/lantern-bridge"
    assert doc.text.startswith("The Vellmark Harbor Council voted")
    assert "---" not in doc.text


def test_txt_first_line_is_title() -> None:
    [doc] = load_file(CORPUS / "orchard-festival.txt", CORPUS)
    assert doc.title == "Brisk Turnout At The Quillon Orchard Festival"
    assert not doc.text.startswith("Brisk Turnout")


def test_html_keeps_visible_text_and_title_only() -> None:
    [doc] = load_file(CORPUS / "observatory.html", CORPUS)
    assert doc.title == "Kestrel Observatory Names New Director"
    assert "Priya Valcourt" in doc.text
    assert "tracking" not in doc.text and "color: red" not in doc.text


def test_jsonl_one_document_per_line_with_its_own_ids() -> None:
    docs = load_file(CORPUS / "wire.jsonl", CORPUS)
    assert [d.doc_id for d in docs] == ["wire-001", "wire-002"]
    assert docs[0].source == "Dunmore Wire" and docs[0].date == "2031-06-02"


def test_jsonl_malformed_line_names_the_line() -> None:
    with pytest.raises(LoadError, match=r"x.jsonl:2: malformed JSON"):
        parse_bytes(b'{"text": "ok"}\n{broken\n', ".jsonl", "x.jsonl", "x.jsonl")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\t\n", "empty"),
        (b"\x00\x01\x02binary\x00stuff", "binary"),
        (b"caf\xe9 latin-1 text", "not valid UTF-8"),
    ],
)
def test_bad_content_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(LoadError, match=reason):
        parse_bytes(data, ".txt", "bad.txt", "bad.txt")


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(LoadError, match="unsupported file type"):
        load_file(tmp_path / "sheet.xlsx", tmp_path)


def test_discover_skips_hidden_files_and_sorts(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("B\nbody")
    (tmp_path / "a.txt").write_text("A\nbody")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.txt").write_text("C\nbody")
    assert [f.name for f, _ in discover([tmp_path])] == ["a.txt", "b.txt"]


def test_seed_briefing_loads() -> None:
    [doc] = load_file(SEED / "000_ca9448a2e7e84a10.txt", SEED)
    assert doc.doc_id == "000_ca9448a2e7e84a10.txt"
    assert doc.title.startswith("Jaishankar Heads To US")

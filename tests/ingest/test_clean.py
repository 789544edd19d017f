"""Boilerplate is stripped and credit lines become the source."""

from __future__ import annotations

from ingest.clean import clean_document
from ingest.loaders import SourceDocument, load_file
from tests.conftest import SEED


def test_seed_footer_removed_and_source_lifted() -> None:
    [raw] = load_file(SEED / "000_ca9448a2e7e84a10.txt", SEED)
    doc = clean_document(raw)
    assert doc.source == "ANI"
    assert (
        doc.title == "Jaishankar Heads To US For Critical Minerals Summit Amid Surging India Ties"
    )
    for chrome in ("No comments", "Post a Comment", "Based On ANI Report"):
        assert chrome not in doc.text
    assert doc.text.endswith("green energy targets, and strategic autonomy.")


def test_existing_source_is_kept_and_body_lines_untouched() -> None:
    raw = SourceDocument(
        doc_id="d",
        title="  Quiet   Harbour ",
        text="Post a Comment is a phrase in this body.\nLast line.\nBased On Kestrel Wire Report\n",
        source="Vellmark Gazette",
    )
    doc = clean_document(raw)
    assert doc.source == "Vellmark Gazette"
    assert doc.title == "Quiet Harbour"
    assert doc.text == "Post a Comment is a phrase in this body.\nLast line."


def test_credit_line_without_existing_source() -> None:
    doc = clean_document(
        SourceDocument("d", "T", "Body text here.\nBased on Ashgrove Times report")
    )
    assert doc.source == "Ashgrove Times"
    assert doc.text == "Body text here."

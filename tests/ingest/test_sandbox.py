"""Reading untrusted files within a budget (issue 26 items 1 and 2): the readers' own limits
(content a PDF draws, paragraphs a DOCX holds) and a child process that is stopped past its
time, or when the upload is dropped, and that gives its memory back when it ends."""

from __future__ import annotations

import multiprocessing

import pytest

from ingest.loaders import LoadError, TooLarge, parse_bytes
from ingest.pdf import _gutter_counts, _split_at
from ingest.sandbox import Cancelled, ParseLimits, parse_limited
from tests.fixtures import formats


def test_a_pdf_whose_pages_share_one_huge_stream_is_refused_before_it_is_read() -> None:
    """2,000 pages drawing one 1 MB stream: 2 GB of operators, hours of CPU before."""
    data = formats.shared_stream_pdf(2_000, 1_000_000)
    assert len(data) < 500_000
    with pytest.raises(TooLarge, match="draw more than"):
        parse_bytes(data, ".pdf", "bomb.pdf", "bomb.pdf")


def test_a_page_drawn_far_off_to_the_side_is_read_as_one_column() -> None:
    """Its layout view is thousands of characters wide; the column finder was quadratic in
    that width (35 CPU seconds for this page); now it is linear and bounded."""
    [doc] = parse_bytes(formats.shared_stream_pdf(1, 20_000), ".pdf", "wide.pdf", "wide.pdf")
    assert "w1" in doc.text


@pytest.mark.parametrize(
    "lines",
    [
        ["Left text here    Right text there", "    indented only", "a    b    c"],
        ["x" * 10 + " " * 6 + "y" * 10, "no gutter at all", "  lead    mid  end"],
    ],
)
def test_gutter_counts_are_the_per_position_rule(lines: list[str]) -> None:
    width = max(map(len, lines))
    counts = _gutter_counts(lines, width // 4, 3 * width // 4)
    assert counts == {
        at: sum(_split_at(line, at) for line in lines) for at in range(width // 4, 3 * width // 4)
    }


def test_a_docx_of_millions_of_empty_paragraphs_is_refused_before_parsing() -> None:
    data = formats.empty_paragraphs_docx()
    assert len(data) < 100_000
    with pytest.raises(TooLarge, match="paragraphs"):
        parse_bytes(data, ".docx", "bomb.docx", "bomb.docx")


def test_the_child_reads_what_the_server_would() -> None:
    for data, suffix in ((formats.docx_bytes(), ".docx"), (formats.pdf_bytes(), ".pdf")):
        assert parse_limited(data, suffix, "d", "d") == parse_bytes(data, suffix, "d", "d")
    with pytest.raises(LoadError, match="not a PDF") as refused:
        parse_limited(b"hello", ".pdf", "d", "d")
    assert type(refused.value) is LoadError  # the child's error class comes back


def test_a_parse_past_its_time_is_stopped_and_413() -> None:
    with pytest.raises(TooLarge, match="took longer than"):
        parse_limited(formats.long_pdf(40), ".pdf", "d", "d", ParseLimits(seconds=0.001))
    assert not multiprocessing.active_children()  # killed and reaped


def test_a_dropped_upload_stops_its_parse() -> None:
    with pytest.raises(Cancelled):
        parse_limited(formats.long_pdf(40), ".pdf", "d", "d", cancelled=lambda: True)
    assert not multiprocessing.active_children()


def test_text_formats_and_isolation_off_parse_in_process() -> None:
    off = ParseLimits(isolate=False)
    [doc] = parse_limited(b"Title\nBody text.", ".txt", "t", "t")
    assert doc.title == "Title"
    with pytest.raises(TooLarge, match="paragraphs"):
        parse_limited(formats.empty_paragraphs_docx(), ".docx", "d", "d", off)

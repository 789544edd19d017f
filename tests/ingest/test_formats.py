"""PDF, DOCX, PPTX, e-mail and web pages: what each loader keeps, what it drops, how it fails.

Fixtures are built in code (tests/fixtures/formats.py); every document is loaded and cleaned
as the pipeline does, since page offsets and dates are settled by cleaning.
"""

from __future__ import annotations

import zipfile

import pytest

from ingest.clean import clean_document
from ingest.dates import dateline_date, iso_date
from ingest.loaders import (
    FORMATS,
    MEDIA_TYPES,
    LoadError,
    SourceDocument,
    TooLarge,
    Unsupported,
    parse_bytes,
)
from ingest.pdf import paragraphs, strip_running_lines
from tests.fixtures import formats


def load(data: bytes, suffix: str, doc_id: str = "doc") -> list[SourceDocument]:
    return [clean_document(d) for d in parse_bytes(data, suffix, doc_id + suffix, doc_id + suffix)]


def page_of(doc: SourceDocument, phrase: str) -> int:
    """The 1-based page on which ``phrase`` starts, from the document's page offsets."""
    assert doc.page_starts is not None
    at = doc.text.index(phrase)
    return sum(1 for start in doc.page_starts if start <= at)


# --- the table -----------------------------------------------------------------------------
def test_one_table_names_every_format_by_suffix_and_media_type() -> None:
    for suffix in (".txt", ".md", ".html", ".jsonl", ".pdf", ".docx", ".pptx", ".eml"):
        assert suffix in FORMATS
    assert MEDIA_TYPES["application/pdf"] == ".pdf"
    assert MEDIA_TYPES["message/rfc822"] == ".eml"
    assert MEDIA_TYPES["text/plain"] == ".txt"


def test_binary_formats_never_go_through_text_decoding() -> None:
    # A PDF is full of bytes that decode_text would call binary; it loads all the same.
    data = formats.pdf_bytes()
    assert b"\x00" in data or any(b > 127 for b in data)
    [doc] = load(data, ".pdf")
    assert "Odile Ferncastle" in doc.text


# --- PDF -----------------------------------------------------------------------------------
def test_pdf_pages_metadata_and_running_lines() -> None:
    [doc] = load(formats.pdf_bytes(), ".pdf")
    assert doc.title == "Brannock Canal Authority Quarterly Report"
    assert (doc.date, doc.source) == ("2031-03-04", "Brannock Canal Authority")
    assert doc.page_kind == "page" and doc.page_starts is not None
    assert len(doc.page_starts) == 3
    assert page_of(doc, "The Brannock Canal Authority met in Tillford") == 1
    assert page_of(doc, "Odile Ferncastle") == 2
    assert page_of(doc, "Jorund Haverleigh") == 3
    # The running header and the "Page n of 3" footers are gone; no page mark survives.
    assert "Internal Briefing" not in doc.text
    assert "Page 2 of" not in doc.text and "\ue000" not in doc.text


def test_pdf_lines_are_unwrapped_into_sentences() -> None:
    [doc] = load(formats.pdf_bytes(), ".pdf")
    # multi_cell wrapped this sentence over two lines; it must come back as one line.
    assert (
        "The authority's treasurer, Odile Ferncastle, said the lock-keepers' cottages at "
        "Marrow Bend would be restored" in doc.text
    )


def test_pdf_without_metadata_takes_first_line_and_dateline() -> None:
    pages = [
        "Tillford Lock Notice\n\nTILLFORD, June 2, 2031 - The Tillford lock closes for repairs."
    ]
    data = formats.pdf_bytes(pages, title=None, author=None, created=None, header=None)
    [doc] = load(data, ".pdf")
    assert doc.title == "Tillford Lock Notice"
    assert doc.date == "2031-06-02"
    assert doc.source is None


def test_pdf_hyphenated_words_are_joined_across_lines() -> None:
    text = (
        "The Brannock engineers found that the old aqueduct needed careful strength-\n"
        "ening before the winter floods arrived in the valley of the river Wend this year,\n"
        "and the works will be finished by the spring."
    )
    [doc] = load(formats.pdf_bytes([text], header=None), ".pdf")
    assert "strengthening before the winter floods" in doc.text
    assert "strength-" not in doc.text


def test_running_lines_need_to_recur_and_page_numbers_go() -> None:
    pages = [
        ["Canal Report", "Body one about locks.", "- 1 -"],
        ["Canal Report", "Body two about barges.", "- 2 -"],
        ["Canal Report", "Body three about bridges.", "3"],
    ]
    assert strip_running_lines(pages) == [
        ["Body one about locks."],
        ["Body two about barges."],
        ["Body three about bridges."],
    ]
    # A heading seen on one page only is content, not a header.
    single = [["Only Heading", "Body."], ["Other page.", "More."]]
    assert strip_running_lines(single) == single


def test_paragraphs_join_wrapped_lines_and_break_after_short_ones() -> None:
    lines = [
        "A heading",
        "This line is long enough to fill the whole measure of the column and it",
        "continues here, ending the first paragraph of the page right about now.",
        "Short end.",
        "A second paragraph starts on a fresh line and it runs over the measure",
        "too.",
    ]
    assert paragraphs(lines).split("\n") == [
        "A heading",
        # A full line ending a sentence may go on: joined (the sentence splitter still splits).
        "This line is long enough to fill the whole measure of the column and it continues "
        "here, ending the first paragraph of the page right about now. Short end.",
        "A second paragraph starts on a fresh line and it runs over the measure too.",
    ]


def test_encrypted_pdf_is_a_named_error() -> None:
    with pytest.raises(LoadError, match="encrypted PDF"):
        load(formats.encrypted_pdf(), ".pdf")


def test_pdf_without_text_layer_needs_ocr() -> None:
    with pytest.raises(LoadError, match="no extractable text; scanned PDFs need OCR"):
        load(formats.pdf_bytes(text_layer=False), ".pdf")


@pytest.mark.parametrize("cut", [200, 1500, -400])
def test_truncated_pdf_is_a_named_error(cut: int) -> None:
    data = formats.pdf_bytes()
    with pytest.raises(LoadError, match=r"doc\.pdf: (corrupt or truncated PDF|no extractable)"):
        load(data[:cut], ".pdf")


def test_not_a_pdf_at_all() -> None:
    with pytest.raises(LoadError, match="not a PDF"):
        load(b"hello, I am text", ".pdf")


def test_500_page_pdf_loads_every_page() -> None:
    data = formats.long_pdf(500)
    [doc] = load(data, ".pdf")
    assert doc.page_starts is not None and len(doc.page_starts) == 500
    assert page_of(doc, "District 377 of") == 377
    assert "Orrin Valley Survey\n" not in doc.text  # the running header went from every page
    # Each page's last line recurs on every page too, but it carries on a sentence: content.
    assert doc.text.count("and that the hives were moved uphill") == 500


# --- DOCX ----------------------------------------------------------------------------------
def test_docx_keeps_headings_paragraphs_lists_and_tables_in_order() -> None:
    [doc] = load(formats.docx_bytes(), ".docx")
    assert doc.title == "Memo on the Quillhaven Lighthouse Keepers"
    assert (doc.source, doc.date) == ("Quillhaven Harbour Office", "2031-07-09")
    assert doc.text.split("\n") == [
        "Lighthouse keepers for the summer season",
        "The Quillhaven Harbour Office has appointed Maelis Tarrow as head keeper of the "
        "Gannet Rock lighthouse for the summer season.",
        "Duties of the keepers:",
        "- Light the lamp at dusk and log the weather.",
        "- Report passing ships to the harbour master.",
        "Keeper | Watch",
        "Brisk Olander | Night watch",
        "The season opens on June 21 and closes on September 30.",
    ]
    assert doc.page_starts is None


@pytest.mark.parametrize(("suffix", "kind"), [(".docx", "DOCX"), (".pptx", "PPTX")])
def test_truncated_office_files_are_named_errors(suffix: str, kind: str) -> None:
    data = formats.docx_bytes() if suffix == ".docx" else formats.pptx_bytes()
    with pytest.raises(LoadError, match=f"corrupt or truncated {kind}"):
        load(data[: len(data) // 2], suffix)


def test_zip_that_is_not_a_docx_is_a_named_error() -> None:
    data = formats.zip_bomb(expanded=1_000_000)  # a valid zip without Word's parts
    with pytest.raises(LoadError, match="corrupt or not a DOCX"):
        load(data, ".docx")


@pytest.mark.parametrize(
    ("suffix", "member"), [(".docx", "word/document.xml"), (".pptx", "ppt/presentation.xml")]
)
def test_zip_bombs_are_refused_before_expanding(
    suffix: str, member: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = formats.zip_bomb(member, expanded=300_000_000)
    assert len(data) < 1_000_000  # 300 MB of zeros in under a megabyte

    def inflate(*_: object) -> bytes:
        raise AssertionError("a member was inflated")

    monkeypatch.setattr(zipfile.ZipExtFile, "read", inflate)
    with pytest.raises(TooLarge, match="refused before expanding"):
        load(data, suffix)  # refused from the directory, nothing inflated


# --- PPTX ----------------------------------------------------------------------------------
def test_pptx_one_section_per_slide_cited_like_pages() -> None:
    [doc] = load(formats.pptx_bytes(), ".pptx")
    assert doc.title == "Fenwick Valley Rail Update"
    assert (doc.source, doc.date) == ("Fenwick Rail Board", "2031-09-15")
    assert doc.page_kind == "slide" and doc.page_starts is not None
    assert len(doc.page_starts) == 3
    assert page_of(doc, "Trains to Harrowgate") == 2
    assert page_of(doc, "Pell Crossing") == 3
    assert doc.text.count("Timetable") == 1  # the slide title once, not once per shape view


# --- e-mail --------------------------------------------------------------------------------
def test_eml_subject_sender_and_date() -> None:
    [doc] = load(formats.eml_bytes(), ".eml", "mail")
    assert doc.title == "Skerrin ferry timetable change"
    assert (doc.source, doc.date) == ("Dunmore Harbour Office", "2031-05-06")
    assert doc.text == "The ferry to Skerrin Isle now leaves Dunmore pier at 07:15 each day."


def test_eml_html_body_goes_through_the_html_loader() -> None:
    html = (
        "<html><body><p>The Skerrin ferry leaves at 07:15.</p>"
        "<p style='display:none'>It really leaves at noon.</p></body></html>"
    )
    [doc] = load(formats.eml_bytes(body=None, html=html), ".eml", "mail")
    assert doc.text == "The Skerrin ferry leaves at 07:15."


def test_eml_attachments_become_linked_documents() -> None:
    attachments = [
        ("memo.docx", formats.docx_bytes(), "application/octet-stream"),
        ("report.pdf", formats.pdf_bytes(), "application/pdf"),
        ("sheet.xlsx", b"PK\x03\x04", "application/octet-stream"),
    ]
    docs = load(formats.eml_bytes(body="See the attached.", attachments=attachments), ".eml")
    assert [d.doc_id for d in docs] == ["doc.eml", "doc.eml/memo.docx", "doc.eml/report.pdf"]
    mail, memo, report = docs
    assert mail.attached_to is None
    assert memo.attached_to == report.attached_to == "doc.eml"
    assert "Maelis Tarrow" in memo.text
    assert report.page_kind == "page" and page_of(report, "Jorund Haverleigh") == 3


def test_eml_with_only_an_unsupported_attachment_is_a_named_error() -> None:
    data = formats.eml_bytes(body=None, attachments=[("data.xlsx", b"PK\x03\x04", "app/x")])
    with pytest.raises(LoadError, match=r"no text body.*data\.xlsx: unsupported type"):
        load(data, ".eml")


# --- HTML ----------------------------------------------------------------------------------
ARTICLE = """<!doctype html><html><head><title>Harbour News | Vellmark Gazette</title>
<meta property="article:published_time" content="2031-04-12T08:00:00Z">
<meta name="author" content="Tamsin Orlo">
<meta property="og:site_name" content="Vellmark Gazette">
<style>.sr-note {{ display: none }} #promo {{ visibility: hidden }}</style>
</head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sub">Subscribe</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. Cookie settings.</div>
<article><h1>Harbour Council Picks New Pilot</h1>
<p>The Vellmark Harbour Council on Tuesday chose Edric Sallow as the port's new chief pilot,
replacing Wenna Hale, who retires after twenty years guiding ships past the Lantern shoals.</p>
{hidden}
<p>Sallow, 44, has piloted ships in the harbour since 2019 and trained at the Dunmore
nautical school. He takes up the post in May, the council said in a statement.</p>
<p>The council also approved new buoys for the Lantern shoals and a second pilot boat, which
will be built at the Corvane yard over the winter and named after the retiring pilot.</p>
</article>
<footer>&copy; 2031 Vellmark Gazette. All rights reserved. Privacy | Cookie settings</footer>
</body></html>"""


def test_html_main_text_and_metadata_only() -> None:
    [doc] = load(ARTICLE.format(hidden="").encode(), ".html")
    assert doc.title == "Harbour Council Picks New Pilot"
    assert (doc.date, doc.source) == ("2031-04-12", "Vellmark Gazette")
    assert "Edric Sallow" in doc.text and "second pilot boat" in doc.text
    for chrome in ("Subscribe", "Cookie settings", "All rights reserved", "Home |"):
        assert chrome not in doc.text


@pytest.mark.parametrize(
    "hidden",
    [
        '<p class="sr-note">The new chief pilot is Mallory Grift.</p>',
        '<p id="promo">The new chief pilot is Mallory Grift.</p>',
        '<p style="display:none">The new chief pilot is Mallory Grift.</p>',
        '<p style="visibility: hidden">The new chief pilot is Mallory Grift.</p>',
        "<p hidden>The new chief pilot is Mallory Grift.</p>",
        '<div aria-hidden="true"><p>The new chief pilot is Mallory Grift.</p></div>',
        '<p style="font-size:0">The new chief pilot is Mallory Grift.</p>',
        '<p style="opacity: 0">The new chief pilot is Mallory Grift.</p>',
        '<p style="position:absolute; left:-9999px">The new chief pilot is Mallory Grift.</p>',
        '<p style="color:#ffffff">The new chief pilot is Mallory Grift.</p>',
        '<div style="background:#000"><p style="color:black">The pilot is Mallory Grift.</p></div>',
        "<template><p>The new chief pilot is Mallory Grift.</p></template>",
        "<noscript><p>The new chief pilot is Mallory Grift.</p></noscript>",
    ],
)
def test_text_a_browser_would_not_show_is_never_stored(hidden: str) -> None:
    [doc] = load(ARTICLE.format(hidden=hidden).encode(), ".html")
    assert "Grift" not in doc.text
    assert "Edric Sallow" in doc.text


def test_visible_coloured_text_is_kept() -> None:
    shown = '<p style="color:#333">Deputy pilot Mallory Grift will assist Sallow.</p>'
    [doc] = load(ARTICLE.format(hidden=shown).encode(), ".html")
    assert "Mallory Grift" in doc.text


def test_no_markup_survives_in_text_title_or_source() -> None:
    page = (
        b"<html><head><title>Tide &lt;img/src=x onerror=alert(1)&gt; tables</title>"
        b'<meta property="og:site_name" content="&lt;b&gt;Gull&lt;/b&gt; Post"></head><body>'
        b"<p>The spring tide at Gullrock reaches 5.1 metres &lt;img/src=x onerror=alert(1)&gt; "
        b"on Friday morning, the harbour office said.</p>"
        b'<img src=x onerror="alert(1)"><p>&lt;script&gt;alert(2)&lt;/script&gt;ok</p>'
        b"</body></html>"
    )
    [doc] = load(page, ".html")
    for field in (doc.text, doc.title, doc.source or ""):
        assert "<" not in field and "onerror" not in field, field
    assert "5.1 metres" in doc.text


def test_xhtml_with_an_xml_declaration_loads() -> None:
    page = b'<?xml version="1.0" encoding="utf-8"?>\n<html><body><p>Gull census done.</p>'
    [doc] = load(page, ".html")
    assert doc.text == "Gull census done."


def test_tiny_page_keeps_its_visible_text() -> None:
    [doc] = load(b"<html><head><title>Ferry</title></head><body><p>Leaves 23:40.</p>", ".html")
    assert (doc.title, doc.text) == ("Ferry", "Leaves 23:40.")


# --- dates and ids -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2031-05-14", "2031-05-14"),
        ("2031-05-14T08:00:00+02:00", "2031-05-14"),
        ("D:20310514093000Z", "2031-05-14"),
        ("May 14, 2031", "2031-05-14"),
        ("14 May 2031", "2031-05-14"),
        ("2031", None),
        ("last week", None),
        ("2031-02-30", None),
    ],
)
def test_iso_date(value: str, iso: str | None) -> None:
    assert iso_date(value) == iso


def test_dateline_only_near_the_top() -> None:
    assert dateline_date("VELLMARK, Sept. 3, 2031 - The council met.") == "2031-09-03"
    assert dateline_date("Harbour notes\n\n4 October 2031\nBody.") == "2031-10-04"
    assert dateline_date("Published: Friday, 9 May 2031\nBody.") == "2031-05-09"
    assert dateline_date("One.\nTwo.\nThree.\nFour, on May 14, 2031.") is None
    # A date the first sentence mentions is an event, not the document's date.
    assert dateline_date("The minister visits from 2 February to 4 February 2026.") is None
    assert dateline_date("The festival opened on 3 September 2031 in Ashgrove.") is None


def test_txt_dateline_becomes_the_date_and_metadata_wins() -> None:
    [doc] = load(b"Gull census\nGULLROCK, April 2, 2031 - 4,100 gulls counted.", ".txt")
    assert doc.date == "2031-04-02"
    front = b"---\ndate: 2031-01-05\n---\n# Gulls\nGULLROCK, April 2, 2031 - counted."
    [doc] = load(front, ".md")
    assert doc.date == "2031-01-05"


@pytest.mark.parametrize(
    ("doc_id", "reason"),
    [
        ('"a\\nb"', "line breaks"),
        ('"tab\\there"', "control characters"),
        ('"   "', "empty doc_id"),
        ('"' + "x" * 600 + '"', "longer than 512"),
        ("[1]", "must be a string"),
    ],
)
def test_jsonl_bad_ids_are_errors_for_their_line(doc_id: str, reason: str) -> None:
    data = b'{"doc_id": "ok", "text": "fine"}\n{"doc_id": ' + doc_id.encode() + b', "text": "t"}\n'
    with pytest.raises(LoadError, match=rf"w\.jsonl:2: .*{reason}"):
        parse_bytes(data, ".jsonl", "w.jsonl", "w.jsonl")


def test_error_kinds_map_to_statuses() -> None:
    with pytest.raises(Unsupported):
        parse_bytes(b"x", ".xlsx", "a", "a.xlsx")
    with pytest.raises(Unsupported):
        parse_bytes(b"\x00\x01binary", ".txt", "a", "a.txt")


def test_two_column_page_is_read_column_by_column() -> None:
    [doc] = load(formats.two_column_pdf(), ".pdf")
    # The headline, then each column whole (its lines unwrapped into one paragraph).
    assert doc.text.split("\n") == ["Marrowby Harbour Bulletin", *formats.TWO_COLUMNS]
    assert doc.title == "Marrowby Harbour Bulletin"


def test_one_column_text_and_tables_are_not_split_into_columns() -> None:
    from ingest.pdf import two_columns

    prose = "\n".join(
        "The Brannock engineers inspected the locks and found the gates sound enough."
        for _ in range(8)
    )
    assert two_columns(prose) is None
    table = "\n".join(f"Keeper {i}        Night watch" for i in range(8))
    assert two_columns(table) is None

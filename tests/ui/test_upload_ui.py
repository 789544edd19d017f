"""Uploading PDF, Word and other files in a real browser: several at once with per-file status,
drag and drop, a citation that opens its page with the quote highlighted, and the note on
undated documents a date filter leaves out. Every test removes what it uploaded (the live
store is shared by the package's browser tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[test]'")

from playwright.sync_api import Page, expect

from tests.fixtures import formats
from tests.ui.conftest import LiveServer


@pytest.fixture
def cleanup(live: LiveServer) -> Iterator[list[str]]:
    """Doc ids to delete after the test, whatever it left behind."""
    doc_ids: list[str] = []
    yield doc_ids
    for doc_id in doc_ids:
        httpx.delete(f"{live.url}/v1/documents/{doc_id}")


def test_upload_a_pdf_ask_and_open_the_cited_page(
    page: Page, live: LiveServer, tmp_path: Path, cleanup: list[str]
) -> None:
    cleanup += ["canal-report.pdf", "sheet.xlsx"]
    pdf = tmp_path / "canal-report.pdf"
    pdf.write_bytes(formats.pdf_bytes())
    sheet = tmp_path / "sheet.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    page.goto("/")
    expect(page.locator("#doc-list li")).to_have_count(6)
    page.set_input_files("#upload-file", [str(pdf), str(sheet)])  # multi-select
    with page.expect_request("**/v1/documents/files") as info:
        page.click("#upload-button")
    assert info.value.headers["content-type"].startswith("multipart/form-data")
    results = page.locator("#upload-results li")
    expect(results).to_have_count(2)
    expect(results.nth(0)).to_have_text("canal-report.pdf: stored as canal-report.pdf")
    expect(results.nth(1)).to_contain_text("sheet.xlsx: 415")
    expect(results.nth(1)).to_have_class("error")
    expect(page.locator("#upload-status")).to_contain_text("1 new")
    item = page.locator("#doc-list li[data-doc-id='canal-report.pdf']")
    expect(item).to_contain_text("Brannock Canal Authority Quarterly Report")
    expect(item).to_contain_text("3 pages")

    page.fill("#question", "Who is the chief engineer of the Brannock Canal?")
    page.click("#ask-button")
    message = page.locator(".message.assistant").last
    expect(message.locator(".answer")).to_contain_text("Jorund Haverleigh")
    expect(message.locator(".sources")).to_contain_text("p. 3")
    message.locator(".answer .cite").first.click()
    expect(page.locator("#viewer-title")).to_have_text("Brannock Canal Authority Quarterly Report")
    expect(page.locator("#viewer-note")).to_contain_text("page 3")
    expect(page.locator("#viewer-meta")).to_contain_text("3 pages")
    mark = page.locator("#viewer-text mark")
    expect(mark).to_contain_text("Jorund Haverleigh")
    expect(mark).to_be_in_viewport()


def test_the_viewer_lists_hidden_text_that_was_left_out(
    page: Page, live: LiveServer, tmp_path: Path, cleanup: list[str]
) -> None:
    """Issue 26 item 4: a user sees what a file hid (here, white text) and that it was not
    stored."""
    cleanup.append("pilot-notice.pdf")
    notice = tmp_path / "pilot-notice.pdf"
    notice.write_bytes(formats.hidden_text_pdf())
    page.goto("/")
    page.set_input_files("#upload-file", [str(notice)])
    page.click("#upload-button")
    expect(page.locator("#upload-results li")).to_have_count(1)
    page.locator("#doc-list li[data-doc-id='pilot-notice.pdf'] .doc-open").click()
    expect(page.locator("#viewer-text")).to_contain_text("Edric Sallow")
    expect(page.locator("#viewer-text")).not_to_contain_text("Mallory Grift")
    hidden = page.locator("#viewer-meta .hidden-text")
    expect(hidden.locator("summary")).to_have_text("3 hidden passages left out (never quoted)")
    hidden.locator("summary").click()
    expect(hidden.locator("li").first).to_contain_text("(white) The new chief pilot is Mallory")


def test_drag_and_drop_uploads_each_file(page: Page, live: LiveServer, cleanup: list[str]) -> None:
    cleanup += ["lighthouse-memo.docx", "rail-update.pptx"]
    page.goto("/")
    expect(page.locator("#doc-list li")).to_have_count(6)
    files = [
        ("lighthouse-memo.docx", list(formats.docx_bytes())),
        ("rail-update.pptx", list(formats.pptx_bytes())),
    ]
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const [name, bytes] of files) {
                dt.items.add(new File([new Uint8Array(bytes)], name));
            }
            return dt;
        }""",
        files,
    )
    page.dispatch_event("#upload-form", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#upload-form")).to_have_class("upload dropzone dragging")
    page.dispatch_event("#upload-form", "drop", {"dataTransfer": transfer})
    results = page.locator("#upload-results li")
    expect(results.nth(0)).to_have_text("lighthouse-memo.docx: stored as lighthouse-memo.docx")
    expect(results.nth(1)).to_have_text("rail-update.pptx: stored as rail-update.pptx")
    expect(page.locator("#doc-list li")).to_have_count(8)
    expect(page.locator("#doc-list li[data-doc-id='rail-update.pptx']")).to_contain_text("3 slides")


def test_date_filter_says_how_many_undated_documents_it_leaves_out(page: Page) -> None:
    page.goto("/")
    expect(page.locator("#doc-list li")).to_have_count(6)
    undated = page.locator("#doc-list li").filter(has_text="undated").count()
    assert undated > 0  # the fixture corpus has documents without a date
    note = page.locator("#undated-note")
    expect(note).to_be_hidden()
    page.fill("#filter-from", "2031-01-01")
    page.dispatch_event("#filter-from", "change")
    expect(note).to_be_visible()
    expect(note).to_contain_text(f"{undated} undated")
    expect(note).to_contain_text("left out")
    page.check("#filter-undated")
    expect(note).to_contain_text("searched too")
    with page.expect_request("**/v1/chat/completions") as info:
        page.fill("#question", "When is the Quillon Orchard Festival?")
        page.click("#ask-button")
    filters = info.value.post_data_json["filters"]
    assert filters == {"date_from": "2031-01-01", "include_undated": True}

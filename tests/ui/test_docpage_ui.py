"""The documents page (#documents): the whole collection in a table, sorted and filtered,
shown 100 rows at a time, with edit and delete; works at 390 px too."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[test]'")

from playwright.sync_api import Browser, Page, expect

from tests.ui.conftest import LiveServer, screenshot_path


def test_documents_page_lists_sorts_filters_and_opens(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    docs = httpx.get(f"{live.url}/v1/documents").json()
    page.goto("/")
    page.click("#documents-link")
    expect(page.locator("#documents-page")).to_be_visible()
    expect(page.locator("main.layout")).to_be_hidden()
    rows = page.locator("#docpage-rows tr")
    expect(rows).to_have_count(len(docs))
    expect(page.locator("#docpage-count")).to_have_text(f"{len(docs)} of {len(docs)} shown")
    newest = max((d for d in docs if d["date"]), key=lambda d: d["date"])
    expect(rows.first.locator(".docpage-date")).to_have_text(newest["date"])
    page.select_option("#docpage-sort", "title")
    shown = page.locator("#docpage-rows .docpage-open").all_text_contents()
    assert shown == sorted(shown)
    page.fill("#docpage-filter", "2031-05")
    may = [d for d in docs if (d["date"] or "").startswith("2031-05")]
    expect(rows).to_have_count(len(may))
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-documents-page.png"))
    rows.first.locator(".docpage-open").click()  # back to the chat, the document open
    expect(page.locator("#documents-page")).to_be_hidden()
    expect(page.locator("#viewer")).to_be_visible()


def test_documents_page_shows_100_rows_then_more(page: Page, live: LiveServer) -> None:
    many = [
        {
            "doc_id": f"memo-{i:03d}.txt",
            "title": f"Memo {i:03d}",
            "date": None,
            "source": "Registry",
            "n_chunks": 1,
        }
        for i in range(230)
    ]
    page.route("**/v1/documents", lambda route: route.fulfill(json=many))
    page.goto("/#documents")
    rows = page.locator("#docpage-rows tr")
    expect(rows).to_have_count(100)
    expect(page.locator("#docpage-count")).to_have_text("100 of 230 shown")
    page.click("#docpage-more")
    expect(rows).to_have_count(200)
    page.click("#docpage-more")
    expect(rows).to_have_count(230)
    expect(page.locator("#docpage-more")).to_be_hidden()


def test_documents_page_at_390px_has_no_sideways_scroll(browser: Browser, live: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live.url)
    try:
        tab = context.new_page()
        tab.goto("/#documents")
        expect(tab.locator("#docpage-rows tr").first).to_be_visible()
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    finally:
        context.close()

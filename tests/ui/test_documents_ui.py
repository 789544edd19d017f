"""The document list in the browser: sorted newest first or by title, filtered by text, date
and source on every row, and title/date/source edited in place (PATCH)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[test]'")

from playwright.sync_api import Page, expect

from tests.ui.conftest import LiveServer, screenshot_path

DOC_ID = "kestrel-ferry-timetable.txt"
TEXT = """Winter Ferry Timetable Published

The Kestrel Sound ferry will run every forty minutes from the first of December.
The last crossing leaves Pellham quay at 22:10.
"""


@pytest.fixture
def uploaded(live: LiveServer) -> Iterator[str]:
    stored = httpx.post(
        f"{live.url}/v1/documents",
        params={"doc_id": DOC_ID},
        content=TEXT,
        headers={"Content-Type": "text/plain"},
        timeout=60,
    )
    assert stored.status_code == 200, stored.text
    try:
        yield DOC_ID
    finally:
        httpx.delete(f"{live.url}/v1/documents/{DOC_ID}", timeout=60)


def titles(page: Page) -> list[str]:
    return page.locator("#doc-list .doc-open").all_text_contents()


def test_sort_and_filter(page: Page, live: LiveServer, tmp_path: Path) -> None:
    docs = httpx.get(f"{live.url}/v1/documents").json()
    page.goto("/")
    expect(page.locator("#doc-list li")).to_have_count(len(docs))
    dated = sorted((d for d in docs if d["date"]), key=lambda d: d["date"], reverse=True)
    shown = titles(page)
    assert shown[0] == dated[0]["title"]  # newest first by default
    undated = {d["title"] for d in docs if not d["date"]}
    assert set(shown[-len(undated) :]) == undated  # undated ones last
    first = page.locator("#doc-list li").first
    expect(first.locator(".doc-date")).to_have_text(dated[0]["date"])
    expect(first.locator(".doc-source")).to_have_text(dated[0]["source"])

    page.select_option("#doc-sort", "title")
    assert titles(page) == sorted(shown)

    page.fill("#doc-filter", "gazette")
    gazette = [d for d in docs if "gazette" in (d["source"] or "").lower()]
    expect(page.locator("#doc-list li")).to_have_count(len(gazette))
    expect(page.locator("#doc-count")).to_have_text(f"({len(gazette)} of {len(docs)})")
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-documents.png"))
    page.fill("#doc-filter", "")
    expect(page.locator("#doc-list li")).to_have_count(len(docs))


def test_edit_title_date_and_source(page: Page, live: LiveServer, uploaded: str) -> None:
    page.goto("/")
    row = page.locator("#doc-list li", has_text="Winter Ferry Timetable Published")
    expect(row.locator(".doc-date")).to_have_text("undated")
    row.locator(".doc-edit").click()
    form = page.locator(".doc-edit-form")
    form.locator("input[name=title]").fill("Kestrel Sound winter ferry timetable")
    form.locator("input[name=date]").fill("2031-11-20")
    form.locator("input[name=source]").fill("Pellham Quay Notices")
    with page.expect_response(lambda r: r.request.method == "PATCH") as info:
        form.locator("button[type=submit]").click()
    assert info.value.status == 200
    assert info.value.request.post_data_json == {
        "title": "Kestrel Sound winter ferry timetable",
        "date": "2031-11-20",
        "source": "Pellham Quay Notices",
    }
    edited = page.locator("#doc-list li", has_text="Kestrel Sound winter ferry timetable")
    expect(edited.locator(".doc-date")).to_have_text("2031-11-20")
    expect(edited.locator(".doc-source")).to_have_text("Pellham Quay Notices")
    meta = httpx.get(f"{live.url}/v1/documents/{uploaded}").json()
    assert (meta["title"], meta["date"], meta["source"]) == (
        "Kestrel Sound winter ferry timetable",
        "2031-11-20",
        "Pellham Quay Notices",
    )
    assert meta["text"].startswith("The Kestrel Sound ferry")  # text unchanged

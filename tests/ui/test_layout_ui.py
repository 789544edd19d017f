"""The chat page from 360 px up: no sideways scroll at 390 px, the ask box on screen, filters
and documents in a drawer; the desktop layout at 1280 px; example questions from the stored
documents' titles; the API-key box only once the server asks for a key."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[test]'")

from playwright.sync_api import Browser, Page, Route, expect

from tests.ui.conftest import LiveServer, screenshot_path

PHONE = {"width": 390, "height": 844}
SMALLEST = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def sized(browser: Browser, live: LiveServer) -> Iterator[object]:
    """Open the chat at a given viewport; every context is closed after the test."""
    contexts = []

    def open_at(viewport: dict[str, int]) -> Page:
        context = browser.new_context(viewport=viewport, base_url=live.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto("/")
        expect(tab.locator("#doc-list li").first).to_be_attached()
        tab.errors = errors  # type: ignore[attr-defined]
        return tab

    yield open_at
    for context in contexts:
        context.close()


def horizontal_overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@pytest.mark.parametrize("viewport", [PHONE, SMALLEST], ids=["390px", "360px"])
def test_phone_has_no_sideways_scroll_and_filters_live_in_a_drawer(
    sized, viewport: dict[str, int], tmp_path: Path
) -> None:
    page: Page = sized(viewport)
    assert horizontal_overflow(page) <= 0
    header = page.locator(".topbar").bounding_box()
    assert header is not None and header["height"] < 60  # one line, not wrapped
    expect(page.locator("#question")).to_be_in_viewport()
    expect(page.locator("#ask-button")).to_be_in_viewport()
    expect(page.locator("#filter-source")).not_to_be_visible()
    expect(page.locator("#key-form")).to_be_hidden()  # no auth on this server
    if viewport is PHONE:
        page.screenshot(path=screenshot_path(tmp_path, "screenshot-390.png"))
    page.click("#drawer-toggle")
    expect(page.locator("#sidebar")).to_have_class(re.compile(r"\bopen\b"))
    page.wait_for_function(
        "() => document.getElementById('sidebar').getBoundingClientRect().left >= 0"
    )
    expect(page.locator("#filter-source")).to_be_visible()
    expect(page.locator("#filter-source")).to_be_in_viewport()
    expect(page.locator("#doc-list li").first).to_be_visible()
    assert horizontal_overflow(page) <= 0
    if viewport is PHONE:
        page.screenshot(path=screenshot_path(tmp_path, "screenshot-390-drawer.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#filter-source")).not_to_be_visible()
    # A document opened from the drawer closes it and fills the screen.
    page.click("#drawer-toggle")
    page.locator("#doc-list .doc-open").first.click()
    expect(page.locator("#viewer")).to_be_visible()
    expect(page.locator("#sidebar")).not_to_have_class(re.compile(r"\bopen\b"))
    assert horizontal_overflow(page) <= 0
    assert page.errors == []  # type: ignore[attr-defined]


def test_desktop_shows_sidebar_chat_and_viewer_side_by_side(sized, tmp_path: Path) -> None:
    page: Page = sized(DESKTOP)
    assert horizontal_overflow(page) <= 0
    expect(page.locator("#drawer-toggle")).to_be_hidden()
    expect(page.locator("#filter-source")).to_be_visible()
    expect(page.locator("#question")).to_be_in_viewport()
    page.locator("#doc-list .doc-open").first.click()
    expect(page.locator("#viewer")).to_be_visible()
    side = page.locator("#sidebar").bounding_box()
    chat = page.locator(".chat").bounding_box()
    viewer = page.locator("#viewer").bounding_box()
    assert side and chat and viewer
    assert (
        side["x"] + side["width"] <= chat["x"] + 1 and chat["x"] + chat["width"] <= viewer["x"] + 1
    )
    assert horizontal_overflow(page) <= 0
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-desktop.png"))


def test_example_questions_come_from_titles_and_clicking_asks(page: Page, live: LiveServer) -> None:
    titles = {d["title"] for d in httpx.get(f"{live.url}/v1/documents").json() if d["title"]}
    asked: list[str] = []

    def record(route: Route) -> None:
        asked.append(json.loads(route.request.post_data or "{}")["messages"][-1]["content"])
        route.continue_()

    page.route("**/v1/chat/completions", record)
    page.goto("/")
    examples = page.locator("#examples .example")
    expect(examples.first).to_be_visible()
    texts = examples.all_text_contents()
    assert 1 <= len(texts) <= 3
    assert all(any(title in text for title in titles) for text in texts)
    examples.first.click()
    expect(page.locator(".message.user .bubble")).to_have_text(texts[0])
    expect(page.locator(".message.assistant .answer-status")).not_to_contain_text("Answering")
    assert asked == [texts[0]]
    page.click("#new-chat")  # the hint and examples come back
    expect(page.locator("#examples .example")).to_have_count(len(texts))


def test_key_box_appears_only_after_a_401(page: Page) -> None:
    page.goto("/")
    expect(page.locator("#doc-list li").first).to_be_attached()
    expect(page.locator("#key-form")).to_be_hidden()

    def refuse(route: Route) -> None:
        route.fulfill(status=401, json={"detail": "missing API key"})

    page.route(re.compile(r".*/v1/documents$"), refuse)
    page.reload()
    expect(page.locator("#key-dialog")).to_be_visible()
    page.click("#key-dialog button[value='cancel']")
    expect(page.locator("#key-form")).to_be_visible()


def test_key_box_fits_a_phone_when_shown(sized) -> None:
    page: Page = sized(SMALLEST)
    page.evaluate("window.dispatchEvent(new CustomEvent('briefqa:auth'))")
    expect(page.locator("#key-form")).to_be_visible()
    expect(page.locator("#api-key")).to_be_in_viewport()
    assert horizontal_overflow(page) <= 0
    expect(page.locator("#question")).to_be_in_viewport()

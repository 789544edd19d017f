"""Saved conversations in the browser: an answered question appears in the sidebar, survives a
reload (reopened as it was answered), and can be renamed, exported as Markdown with its
citations, and deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[test]'")

from playwright.sync_api import Dialog, Page, expect

from tests.ui.conftest import LiveServer, screenshot_path
from tests.ui.test_answer_ui import QUOTE, SHORT, citation, serve, stream

QUESTION = "Who said the ferry terminal would stay open during the works?"


def test_conversation_is_saved_reopened_renamed_exported_and_deleted(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    cited = citation(live)
    answer = f"{SHORT}: \u201c{QUOTE}\u201d [1]"
    serve(
        page,
        stream(
            answer,
            citations=[cited],
            grounded=True,
            short_answer=SHORT,
            leads=True,
            confidence=0.88,
        ),
    )
    page.goto("/")
    page.fill("#question", QUESTION)
    page.click("#ask-button")
    row = page.locator("#history-list .conversation", has_text=QUESTION)
    expect(row).to_have_count(1)
    expect(row).to_have_class("conversation current")

    page.reload()  # the conversation comes back, rendered as answered
    expect(page.locator(".message.user .bubble")).to_have_text(QUESTION)
    message = page.locator(".message.assistant").last
    expect(message.locator(".short-answer strong")).to_have_text(SHORT)
    expect(message.locator(".answer-status")).to_contain_text(
        "Confidence that this answers the question: 88%"
    )
    message.locator(".cited .cite").click()
    expect(page.locator("#viewer-text mark")).to_have_text(QUOTE)
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-history.png"))

    def rename(dialog: Dialog) -> None:
        dialog.accept("Quell ferry notes")

    page.once("dialog", rename)
    row.locator(".conversation-rename").click()
    renamed = page.locator("#history-list .conversation", has_text="Quell ferry notes")
    expect(renamed).to_have_count(1)

    with page.expect_download() as info:
        renamed.locator(".conversation-export").click()
    download = info.value
    assert download.suggested_filename == "quell-ferry-notes.md"
    markdown = Path(download.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# Quell ferry notes\n")
    assert f"## 1. {QUESTION}" in markdown and f"> {QUOTE}" in markdown
    assert "`harbor-council.md` characters" in markdown

    page.once("dialog", lambda dialog: dialog.accept())
    renamed.locator(".conversation-delete").click()
    expect(renamed).to_have_count(0)
    expect(page.locator(".message")).to_have_count(0)  # the open conversation was cleared
    page.reload()
    expect(page.locator("#examples .example").first).to_be_visible()  # nothing to reopen


def test_new_chat_starts_a_separate_conversation(page: Page, live: LiveServer) -> None:
    serve(page, stream("The briefings don't say.", abstained=True, note="no evidence"))
    page.goto("/")
    for question in ("First unanswerable question here?", "Second unanswerable question here?"):
        page.fill("#question", question)
        page.click("#ask-button")
        expect(page.locator("#history-list .conversation", has_text=question)).to_have_count(1)
        page.click("#new-chat")
    expect(page.locator(".message")).to_have_count(0)
    first = page.locator("#history-list .conversation", has_text="First unanswerable")
    first.locator(".conversation-open").click()
    expect(page.locator(".message.user")).to_have_count(1)
    expect(page.locator(".refusal-reason")).to_have_text("Why: no evidence.")

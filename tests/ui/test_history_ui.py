"""Saved conversations in the browser: an answered question appears in the sidebar, survives a
reload (reopened as it was answered), and can be renamed, exported as Markdown with its
citations, and deleted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[test]'")

from playwright.sync_api import Dialog, Page, Response, Route, expect

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


def test_a_question_asked_while_the_page_loads_is_not_replaced_by_the_reopened_one(
    page: Page, live: LiveServer
) -> None:
    """A reload reopens the conversation left open once the page has loaded its documents; a
    question the user asked before that stays on screen. (The reopened conversation used to
    replace it, and the answer then streamed into a detached message.)"""
    refusal = stream("The briefings don't say.", abstained=True, note="no evidence")
    serve(page, refusal)
    page.goto("/")
    page.fill("#question", QUESTION)
    page.click("#ask-button")
    expect(page.locator("#history-list .conversation", has_text=QUESTION)).to_have_count(1)

    # Reload with the documents list and the next answer held back: the page is still loading
    # and the user's question is in flight when the documents arrive.
    documents: list[Route] = []
    answers: list[Route] = []
    page.route(re.compile(r"/v1/documents$"), lambda route: documents.append(route))
    page.route("**/v1/chat/completions", lambda route: answers.append(route))
    page.reload()
    later = "Which berth does the Quell ferry use in winter?"
    page.fill("#question", later)
    page.click("#ask-button")
    expect(page.locator(".message.assistant .answer-status")).to_contain_text("Answering")
    assert documents and answers, "the requests were not held"

    def listed(response: Response) -> bool:
        return response.url.endswith("/v1/conversations") and response.request.method == "GET"

    with page.expect_response(listed):  # the page finishes loading: init's refresh
        for route in documents:
            route.continue_()
    expect(page.locator(".message.user .bubble")).to_have_text([later])
    answers[0].fulfill(status=200, content_type="text/event-stream", body=refusal)
    expect(page.locator(".message.assistant .answer-status")).to_contain_text(["Abstained"])
    expect(page.locator(".message.user .bubble")).to_have_text([later])

"""How one answer reads, on canned streams over a real stored document: the short answer in
bold only when it leads, the cited sentence once (not again in its source card) with a marker
that opens the viewer, confidence apart from quote verification, a refusal with its reason,
and OpenAI-shaped errors (an unknown model) shown as their message."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[test]'")

from playwright.sync_api import Page, Route, expect

from tests.ui.conftest import LiveServer, screenshot_path

QUOTE = "Mayor Tobias Quell said the ferry terminal would stay open throughout the works."
SHORT = "Mayor Tobias Quell"


def citation(live: LiveServer) -> dict[str, Any]:
    doc = httpx.get(f"{live.url}/v1/documents/harbor-council.md").json()
    start = doc["text"].index(QUOTE)
    return {
        "n": 1,
        "doc_id": "harbor-council.md",
        "title": doc["title"],
        "source": "Vellmark Gazette",
        "date": "2031-05-14",
        "url": None,
        "chunk_id": "harbor-council.md:0",
        "start_char": start,
        "end_char": start + len(QUOTE),
        "quote": QUOTE,
    }


def stream(answer: str, **final: Any) -> str:
    """An SSE body as the server sends it: role, one delta, the final chunk, [DONE]."""
    base = {"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 0, "model": "x"}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": answer}}]},
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "answer": answer,
            "citations": [],
            "grounded": False,
            "abstained": False,
            "short_answer": None,
            "leads": False,
            "confidence": 0.0,
            "note": None,
            **final,
        },
    ]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def serve(page: Page, body: str) -> None:
    def canned(route: Route) -> None:
        route.fulfill(status=200, content_type="text/event-stream", body=body)

    page.route("**/v1/chat/completions", canned)


def ask(page: Page, question: str):
    page.goto("/")
    page.fill("#question", question)
    page.click("#ask-button")
    message = page.locator(".message.assistant").last
    expect(message.locator(".answer-status")).not_to_contain_text("Answering")
    return message


def test_leading_short_answer_is_bold_and_the_quote_is_shown_once(
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
            tier="answer",
            confidence=0.93,
        ),
    )
    message = ask(page, "Who said the ferry terminal would stay open?")
    expect(message.locator(".short-answer strong")).to_have_text(SHORT)
    expect(message.locator(".guess-label")).to_have_count(0)
    expect(message.locator(".cited")).to_have_text(f"{QUOTE} [1]")
    assert message.inner_text().count(QUOTE) == 1  # not again in the source card
    expect(message.locator(".sources .quote")).to_have_count(0)
    expect(message.locator(".sources")).to_contain_text("Vellmark Gazette")
    status = message.locator(".answer-status")
    expect(status).to_contain_text("Quotes verified")
    expect(status).to_contain_text("Confidence that this answers the question: 93%")
    message.locator(".cited .cite").click()
    expect(page.locator("#viewer-text mark")).to_have_text(QUOTE)
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-short-answer.png"))


def test_low_confidence_answer_is_a_guess_not_bold(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    cited = citation(live)
    note = "low confidence (0.31)"
    serve(
        page,
        stream(
            f"{QUOTE} [1]",
            citations=[cited],
            grounded=True,
            short_answer=SHORT,
            leads=False,
            tier="guess",
            confidence=0.31,
            note=note,
        ),
    )
    message = ask(page, "Who keeps the ferry terminal open?")
    # A best guess (below the answer threshold, above the floor) says so before anything else.
    expect(message.locator(".guess-label")).to_contain_text("Best guess")
    expect(message.locator(".short-answer")).to_have_text(f"Best guess: {SHORT}")
    expect(message.locator(".short-answer strong")).to_have_count(0)
    status = message.locator(".answer-status")
    expect(status).to_contain_text("Quotes verified")  # the quotes hold ...
    expect(status).to_contain_text("Low confidence (31%)")  # ... but it may not answer
    expect(status).to_have_class(re.compile(r"\blow-confidence\b"))
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-low-confidence.png"))


def test_refusal_shows_its_reason(page: Page, tmp_path: Path) -> None:
    note = "no evidence strong enough to answer"
    serve(page, stream("The briefings don't say.", abstained=True, note=note, confidence=0.04))
    message = ask(page, "What is the capital of Vellmark's neighbouring kingdom?")
    expect(message).to_have_class(re.compile(r"\babstained\b"))
    expect(message.locator(".answer .cited")).to_have_text("The briefings don't say.")
    expect(message.locator(".refusal-reason")).to_have_text(f"Why: {note}.")
    expect(message.locator(".answer-status")).to_contain_text("Abstained")
    expect(message.locator(".short-answer")).to_have_count(0)
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-refusal.png"))


def test_unknown_model_error_is_shown_as_its_message(page: Page) -> None:
    """The real server's 404 for a model it doesn't have, through the picker."""

    def pick_missing(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        route.continue_(post_data=json.dumps({**body, "model": "gpt-4o-mini"}))

    page.route("**/v1/chat/completions", pick_missing)
    message = ask(page, "Who said the ferry terminal would stay open?")
    expect(message.locator(".answer-status")).to_contain_text("404")
    expect(message.locator(".answer-status")).to_contain_text("'gpt-4o-mini' does not exist")

"""The chat page in a real browser: streamed answers, citations that open the highlighted quote,
upload / ask / delete, filters, the unverified and abstained states, and the API-key prompt."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[test]'")

from playwright.sync_api import Page, Route, expect

from rag.schema import Draft, Evidence
from tests.api.conftest import SEED_ANSWER, SEED_QUESTION
from tests.ui.conftest import LiveServer, screenshot_path

SEED_QUOTE = "External Affairs Minister S Jaishankar is set to visit the United States"

LIGHTHOUSE = """Quillmere Lighthouse Gets A New Keeper

The Quillmere Lighthouse on Sable Point has appointed Odile Brannock as its head keeper.
Brannock replaces Fergus Tallow, who tended the light for twenty-two years.
The lighthouse lamp was converted to solar power in 2030.
"""


def last_answer(page: Page):
    return page.locator(".message.assistant").last


def ask(page: Page, question: str) -> None:
    page.fill("#question", question)
    page.click("#ask-button")


def test_seed_question_answer_streams_in_and_its_citation_opens_the_quote(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    page.goto("/")
    expect(page.locator("#doc-list li")).to_have_count(6)  # 5 fixtures + the seed briefing
    with page.expect_response("**/v1/chat/completions") as info:
        ask(page, SEED_QUESTION)
    response = info.value
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.request.post_data_json["stream"] is True
    message = last_answer(page)
    expect(message.locator(".answer")).to_contain_text(SEED_ANSWER)
    expect(message.locator(".answer-status")).to_contain_text("Quotes verified")
    expect(message.locator(".answer")).to_contain_text(SEED_QUOTE)
    expect(message.locator(".quote")).to_have_count(0)  # shown once: in the answer, not the card

    message.locator(".answer .cite", has_text="[1]").click()
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(page.locator("#viewer-title")).to_contain_text("Critical Minerals")
    mark = page.locator("#viewer-text mark")
    expect(mark).to_have_count(1)
    expect(mark).to_contain_text(SEED_QUOTE)
    expect(mark).to_be_in_viewport()
    # The highlighted span is exactly the cited quote, read back at its offsets.
    doc = httpx.get(f"{live.url}/v1/documents/000_ca9448a2e7e84a10.txt").json()
    assert response.request.post_data_json["messages"][-1]["content"] == SEED_QUESTION
    assert mark.text_content() in doc["text"]
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-chat.png"))


class GatedStreamer:
    """An LLM-like answerer that streams half an answer, then waits for the test to release it,
    so the test can see the partial text on the page before the answer is final."""

    name = "gated"

    def __init__(self) -> None:
        self.release = threading.Event()

    def parts(self, evidence: list[Evidence]) -> list[str]:
        best = next((e for e in evidence if SEED_ANSWER in e.text), evidence[0])
        return ["Jaishankar will visit ", "from 2 to 4 February 2026", f" [{best.n}]."]

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        return Draft(text="".join(self.parts(evidence)), answerer=self.name)

    def stream(self, question: str, evidence: list[Evidence]) -> Iterator[str]:
        first, *rest = self.parts(evidence)
        yield first
        self.release.wait(timeout=20)
        yield from rest


def test_answer_text_appears_while_it_is_still_being_generated(
    page: Page, live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    gated = GatedStreamer()
    monkeypatch.setitem(live.app.state.service.answerers, "gated", gated)
    try:
        page.goto("/")
        expect(page.locator("#answerer option[value='gated']")).to_have_count(1)
        page.select_option("#answerer", "gated")
        ask(page, SEED_QUESTION)
        message = last_answer(page)
        expect(message.locator(".answer")).to_have_text("Jaishankar will visit ")
        expect(message.locator(".answer-status")).to_contain_text("Answering")
        expect(message.locator(".cite")).to_have_count(0)
    finally:
        gated.release.set()
    expect(message.locator(".answer")).to_contain_text("from 2 to 4 February 2026")
    expect(message.locator(".answer-status")).to_contain_text("Quotes verified")
    expect(message.locator(".answer .cite")).to_have_count(1)


def test_upload_a_document_ask_about_it_then_delete_it(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    path = tmp_path / "quillmere-lighthouse.txt"
    path.write_text(LIGHTHOUSE, encoding="utf-8")
    question = "Who is the head keeper of the Quillmere Lighthouse?"
    page.goto("/")
    expect(page.locator("#doc-list li")).to_have_count(6)
    page.set_input_files("#upload-file", str(path))
    with page.expect_request("**/v1/documents/files") as info:
        page.click("#upload-button")
    assert info.value.headers["content-type"].startswith("multipart/form-data")
    expect(page.locator("#upload-results li")).to_have_text(
        "quillmere-lighthouse.txt: stored as quillmere-lighthouse.txt"
    )
    expect(page.locator("#upload-status")).to_contain_text("1 new")
    item = page.locator("#doc-list li[data-doc-id='quillmere-lighthouse.txt']")
    expect(item).to_contain_text("Quillmere Lighthouse Gets A New Keeper")

    ask(page, question)
    message = last_answer(page)
    expect(message.locator(".answer")).to_contain_text("Odile Brannock")
    expect(message.locator(".answer-status")).to_contain_text("Quotes verified")
    message.locator(".answer .cite").first.click()
    expect(page.locator("#viewer-title")).to_have_text("Quillmere Lighthouse Gets A New Keeper")
    expect(page.locator("#viewer-text mark")).to_contain_text("Odile Brannock")

    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Delete quillmere-lighthouse.txt").click()
    expect(item).to_have_count(0)
    expect(page.locator("#doc-list li")).to_have_count(6)
    expect(page.locator("#viewer")).to_be_hidden()
    assert httpx.get(f"{live.url}/v1/documents/quillmere-lighthouse.txt").status_code == 404

    ask(page, question)  # gone from the index too
    message = last_answer(page)
    expect(message.locator(".answer-status")).to_contain_text("Abstained")
    expect(message.locator(".answer .cited")).to_have_text("The briefings don't say.")
    expect(message.locator(".answer .refusal-reason")).to_contain_text("Why: ")


def test_filters_are_sent_and_narrow_the_answer(page: Page) -> None:
    question = "Who chairs the works committee?"
    page.goto("/")
    expect(page.locator("#filter-source option[value='Vellmark Gazette']")).to_have_count(1)
    page.select_option("#filter-source", "Vellmark Gazette")
    page.fill("#filter-from", "2031-05-01")
    page.fill("#filter-to", "2031-05-31")
    with page.expect_request("**/v1/chat/completions") as info:
        ask(page, question)
    assert info.value.post_data_json["filters"] == {
        "sources": ["Vellmark Gazette"],
        "date_from": "2031-05-01",
        "date_to": "2031-05-31",
    }
    message = last_answer(page)
    expect(message.locator(".answer")).to_contain_text("Odessa Prane")
    user = page.locator(".message.user").last
    expect(user.locator(".filters")).to_contain_text("source: Vellmark Gazette")

    page.fill("#filter-from", "2031-06-01")  # after the council meeting: nothing to cite
    page.fill("#filter-to", "")
    ask(page, question)
    message = last_answer(page)
    expect(message.locator(".answer-status")).to_contain_text("Abstained")

    page.click("#filter-clear")
    page.select_option("#filter-source", "ANI")
    ask(page, SEED_QUESTION)
    expect(last_answer(page).locator(".answer")).to_contain_text(SEED_ANSWER)


def sse_body(answer: str, citations: list[dict], grounded: bool, abstained: bool) -> str:
    base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": "x"}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": answer}}]},
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "citations": citations,
            "grounded": grounded,
            "abstained": abstained,
            "answer": answer,
        },
    ]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def test_unverified_answer_is_flagged_and_server_text_is_never_markup(
    page: Page, live: LiveServer
) -> None:
    doc = httpx.get(f"{live.url}/v1/documents/harbor-council.md").json()
    quote = "Mayor Tobias Quell said the ferry terminal would stay open throughout the works."
    start = doc["text"].index(quote)
    hostile = '<img src=x onerror="window.__pwned=1"><b>Quell</b> kept the terminal open [1].'
    citation = {
        "n": 1,
        "doc_id": "harbor-council.md",
        "title": "<script>window.__pwned=2</script>",
        "source": "Vellmark Gazette",
        "date": "2031-05-14",
        "url": None,
        "chunk_id": "harbor-council.md:0",
        "start_char": start,
        "end_char": start + len(quote),
        "quote": quote,
    }

    def canned(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="text/event-stream",
            body=sse_body(hostile, [citation], grounded=False, abstained=False),
        )

    page.route("**/v1/chat/completions", canned)
    page.goto("/")
    ask(page, "Will the ferry terminal stay open?")
    message = last_answer(page)
    expect(message.locator(".answer-status")).to_contain_text("Unverified")
    expect(message).to_have_class(re.compile(r"\bunverified\b"))
    expect(message.locator(".answer")).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(message.locator(".source-title")).to_have_text("<script>window.__pwned=2</script>")
    assert message.locator("img, b, script").count() == 0
    message.locator(".answer .cite").click()
    expect(page.locator("#viewer-text mark")).to_have_text(quote)
    assert page.evaluate("window.__pwned") is None


def test_document_text_is_shown_as_text(page: Page, live: LiveServer) -> None:
    """Tags are stripped at ingest; what markup-like text remains (entities in a .txt, a doc id
    that looks like a tag) is displayed literally, never parsed."""
    doc_id = '<img src=x onerror="window.__pwned=3">.txt'
    text = "Markup Test\n\n&lt;img src=x onerror=alert(1)&gt; <b>bold</b> a < b > c"
    stored = httpx.post(
        f"{live.url}/v1/documents",
        params={"doc_id": doc_id},
        content=text,
        headers={"Content-Type": "text/plain"},
    )
    assert stored.status_code == 200, stored.text
    assert httpx.get(f"{live.url}/v1/documents/{doc_id}").json()["text"] == (
        "&lt;img src=x onerror=alert(1)&gt; bold a < b > c"
    )
    try:
        page.goto("/")
        item = page.locator("#doc-list li").filter(has_text="onerror")
        expect(item).to_contain_text(doc_id)
        item.locator(".doc-open").click()
        expect(page.locator("#viewer-text")).to_contain_text("&lt;img src=x onerror=alert(1)&gt;")
        expect(page.locator("#viewer-text")).to_contain_text("a < b > c")
        assert page.locator("#doc-list img, #viewer img, #viewer-text b").count() == 0
        assert page.evaluate("window.__pwned") is None
    finally:
        httpx.delete(f"{live.url}/v1/documents/{doc_id}")


def test_key_is_asked_for_on_401_then_sent_on_every_call(page: Page) -> None:
    """Simulated auth (the page routes /v1/* through a gate), so this checks the page alone."""
    seen: list[tuple[str, str | None]] = []

    def gate(route: Route) -> None:
        auth = route.request.headers.get("authorization")
        seen.append((route.request.url, auth))
        if auth == "Bearer ui-secret":
            route.continue_()
        else:
            route.fulfill(status=401, json={"detail": "missing API key"})

    page.route(re.compile(r".*/v1/.*"), gate)
    page.goto("/")
    expect(page.locator("#key-dialog")).to_be_visible()
    expect(page.locator("#key-dialog-message")).to_contain_text("needs an API key")
    page.fill("#key-dialog-input", "ui-secret")
    page.click("#key-dialog-ok")
    expect(page.locator("#doc-list li")).to_have_count(6)
    assert page.evaluate("localStorage.getItem('briefqa.apiKey')") == "ui-secret"
    expect(page.locator("#key-status")).to_have_text("key saved")
    ask(page, SEED_QUESTION)
    expect(last_answer(page).locator(".answer")).to_contain_text(SEED_ANSWER)
    first_keyed = next(i for i, (_, auth) in enumerate(seen) if auth)
    assert all(auth == "Bearer ui-secret" for _, auth in seen[first_keyed:])
    assert any(url.endswith("/v1/chat/completions") for url, _ in seen[first_keyed:])


def test_with_real_api_keys(browser, ui_settings, ui_components, tmp_path: Path) -> None:
    """Against the real auth middleware: the page stays public, the data needs the key."""
    from api.main import create_app
    from tests.helpers import live_server

    keyed = ui_settings.model_copy(update={"api_keys": ["real-key"], "admin_keys": ["admin"]})
    with live_server(create_app(keyed, ui_components)) as url:
        assert httpx.get(f"{url}/").status_code == 200
        assert httpx.get(f"{url}/eval").status_code == 200
        assert httpx.get(f"{url}/v1/documents").status_code == 401
        context = browser.new_context(base_url=url)
        try:
            page = context.new_page()
            page.goto("/")
            expect(page.locator("#key-dialog")).to_be_visible()
            page.fill("#key-dialog-input", "wrong")
            page.click("#key-dialog-ok")
            expect(page.locator("#key-dialog-message")).to_contain_text("refused")
            page.fill("#key-dialog-input", "real-key")
            page.click("#key-dialog-ok")
            expect(page.locator("#doc-list li")).to_have_count(6)
            page.reload()  # the key is remembered
            expect(page.locator("#doc-list li")).to_have_count(6)
            expect(page.locator("#key-dialog")).to_be_hidden()
            upload = tmp_path / "note.txt"
            upload.write_text("A note\n\nNothing to see.", encoding="utf-8")
            page.set_input_files("#upload-file", str(upload))
            page.click("#upload-button")  # a reader key may not write
            expect(page.locator("#upload-status")).to_contain_text("403")
            expect(page.locator("#upload-status")).to_contain_text("admin key")
        finally:
            context.close()


def test_eval_page_renders_the_report_and_its_charts(
    page: Page, eval_report: Path, tmp_path: Path
) -> None:
    page.goto("/eval")
    report = page.locator("article.report").first
    expect(report.locator("h2", has_text="Briefing QA evaluation")).to_be_visible()
    expect(report.locator("table").first).to_contain_text("answer_accuracy")
    for chart in ("seed/metrics.png", "seed/latency.png"):
        img = report.locator(f"img[data-path='{chart}']")
        expect(img).to_have_count(1)
        expect(img).to_have_attribute("src", re.compile(r"^blob:"))
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=img.element_handle()
        )
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-eval.png"))


def test_documents_and_two_part_answers_are_shown_as_cited_bullets(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    page.goto("/")
    ask(page, "Which briefings mention Dunmore?")
    items = last_answer(page).locator(".answer-list li")
    expect(items).to_have_count(1, timeout=120_000)
    expect(items.first).to_contain_text("Rail strike ends in Dunmore (2031-06-02, Dunmore Wire)")
    expect(items.first.locator(".cite")).to_have_count(1)
    ask(page, "Who chairs the works committee and how much will the repairs cost?")
    expect(page.locator(".message.assistant")).to_have_count(2)
    status = last_answer(page).locator(".answer-status")
    expect(status).to_contain_text("Quotes verified", timeout=120_000)  # two answers, busy CI
    items = last_answer(page).locator(".answer-list li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Odessa Prane")
    expect(items.nth(1)).to_contain_text("4.2 million")
    expect(items.nth(1).locator(".cite")).to_have_count(1)
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-kinds.png"))

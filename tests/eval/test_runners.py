"""Both runners satisfy the Runner protocol and speak the service / HTTP contracts."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from eval.runners import HttpRunner, HttpRunnerError, InProcessRunner, Runner
from rag.schema import AnswerResult, ChatTurn, Filters

RESULT = AnswerResult(
    question="Who hosted it?",
    standalone_question="Who hosted the Finance Ministerial?",
    answer="Scott Bessent hosted it [1].",
    answerer="extractive",
    abstained=False,
)
HISTORY = [
    ChatTurn(role="user", content="What was the Finance Ministerial about?"),
    ChatTurn(role="assistant", content="Critical mineral supply chains."),
]


class RecordingService:
    """Stands in for rag.service.QAService and remembers how it was called."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def ask(self, question: str, **options: Any) -> AnswerResult:
        self.calls.append({"question": question, **options})
        return RESULT


def test_in_process_runner_passes_history_filters_and_top_k() -> None:
    service = RecordingService()
    filters = Filters(doc_ids=["000_ca9448a2e7e84a10.txt"])
    runner = InProcessRunner(service, filters=filters, top_k=3)
    assert isinstance(runner, Runner)
    assert runner.ask("Who hosted it?", HISTORY) is RESULT
    assert service.calls == [
        {
            "question": "Who hosted it?",
            "history": HISTORY,
            "filters": filters,
            "top_k": 3,
        }
    ]


def test_http_runner_posts_question_history_and_parses_result() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=RESULT.model_dump(mode="json"))

    with HttpRunner(
        "http://qa.test/",
        api_key="k3y",
        answerer="extractive",
        transport=httpx.MockTransport(handler),
    ) as runner:
        assert isinstance(runner, Runner)
        result = runner.ask("Who hosted it?", HISTORY)
    assert result == RESULT
    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == "http://qa.test/v1/ask"
    assert request.headers["Authorization"] == "Bearer k3y"
    assert request.headers["X-API-Key"] == "k3y"
    assert json.loads(request.content) == {
        "question": "Who hosted it?",
        "history": [t.model_dump() for t in HISTORY],
        "answerer": "extractive",
    }


def test_http_runner_without_key_or_history_sends_minimal_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=RESULT.model_dump(mode="json"))

    runner = HttpRunner("http://qa.test", transport=httpx.MockTransport(handler))
    runner.ask("Q?")
    runner.close()
    assert json.loads(seen[0].content) == {"question": "Q?", "history": []}
    assert "authorization" not in seen[0].headers and "x-api-key" not in seen[0].headers


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(401, json={"detail": "bad key"}), "401"),
        (httpx.Response(200, text="not json"), "bad response body"),
        (httpx.Response(200, json={"answer": "missing fields"}), "bad response body"),
    ],
)
def test_http_runner_raises_clear_errors(response: httpx.Response, message: str) -> None:
    runner = HttpRunner("http://qa.test", transport=httpx.MockTransport(lambda _req: response))
    with pytest.raises(HttpRunnerError, match=message):
        runner.ask("Q?")

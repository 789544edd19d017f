"""Ways to put a question to a QA system, behind one ``Runner`` protocol.

The harness only knows ``Runner.ask``; whether the answer comes from an in-process
``QAService`` or a deployed HTTP API is a runner detail, so the same gold set can gate
both a library change and a running deployment.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, runtime_checkable

import httpx

from rag.schema import AnswerResult, ChatTurn, Filters


@runtime_checkable
class Runner(Protocol):
    """Anything that answers one (possibly follow-up) question with an ``AnswerResult``."""

    def ask(self, question: str, history: list[ChatTurn] | None = None) -> AnswerResult:
        """Answer ``question`` given the earlier chat ``history`` (oldest first)."""
        ...


class SupportsAsk(Protocol):
    """The one method of ``rag.service.QAService`` the evaluation relies on."""

    def ask(
        self,
        question: str,
        history: list[ChatTurn] | None = None,
        filters: Filters | None = None,
        top_k: int | None = None,
        answerer: str | None = None,
    ) -> AnswerResult:
        """Answer a question; see ``rag.service.QAService.ask``."""
        ...


class InProcessRunner:
    """Runs questions through a service object in this process (no network, real timings)."""

    def __init__(
        self,
        service: SupportsAsk,
        filters: Filters | None = None,
        top_k: int | None = None,
        answerer: str | None = None,
    ) -> None:
        self.service = service
        self.filters = filters
        self.top_k = top_k
        self.answerer = answerer

    def ask(self, question: str, history: list[ChatTurn] | None = None) -> AnswerResult:
        """Delegate to ``service.ask``; filters/top_k/answerer are fixed per runner."""
        extra = {"answerer": self.answerer} if self.answerer else {}
        return self.service.ask(
            question, history=history, filters=self.filters, top_k=self.top_k, **extra
        )


class HttpRunnerError(RuntimeError):
    """The API answered, but not with a usable ``AnswerResult``."""


class HttpRunner:
    """POSTs questions to a running API's ``/v1/ask`` and parses the JSON ``AnswerResult``.

    ``api_key`` is sent both as ``Authorization: Bearer`` and ``X-API-Key`` so the runner works
    whichever header the API checks. ``answerer`` (e.g. ``"extractive"``) is added to the body
    only when given, letting one deployment be evaluated per answerer.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        answerer: str | None = None,
        timeout_s: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
            headers["X-API-Key"] = api_key
        self.base_url = base_url.rstrip("/")
        self.answerer = answerer
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout_s,
            transport=transport,
        )

    def payload(self, question: str, history: list[ChatTurn] | None) -> dict[str, Any]:
        """The request body; public so tests and debugging can see exactly what is sent."""
        body: dict[str, Any] = {
            "question": question,
            "history": [turn.model_dump() for turn in history or []],
        }
        if self.answerer is not None:
            body["answerer"] = self.answerer
        return body

    def ask(self, question: str, history: list[ChatTurn] | None = None) -> AnswerResult:
        """One POST per question; HTTP and schema errors raise so the harness records them."""
        response = self._client.post("/v1/ask", json=self.payload(question, history))
        if response.is_error:
            raise HttpRunnerError(
                f"POST {self.base_url}/v1/ask -> {response.status_code}: {response.text[:300]}"
            )
        try:
            return AnswerResult.model_validate(response.json())
        except ValueError as exc:  # JSONDecodeError and pydantic.ValidationError
            raise HttpRunnerError(f"POST {self.base_url}/v1/ask: bad response body: {exc}") from exc

    def close(self) -> None:
        """Release the connection pool (the harness calls this when a runner has it)."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

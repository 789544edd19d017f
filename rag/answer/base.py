"""What an answerer is, and the abilities some have beyond it, as run-time-checkable
Protocols: the service asks ``isinstance(impl, Streaming)`` rather than probing attributes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rag.schema import ChatTurn, Draft, Evidence

if TYPE_CHECKING:
    from rag.answer.judge import LLMJudge


@runtime_checkable
class Answerer(Protocol):
    """Phrases an answer from numbered evidence; every sentence must cite it as [n]."""

    name: str

    def answer(self, question: str, evidence: list[Evidence]) -> Draft: ...


@runtime_checkable
class Quoting(Protocol):
    """Answers by quoting the evidence, in process: it may be shown evidence that addresses an
    answerer (a quote never follows it), may lead with the decision's span, and needs no time
    bound."""

    def quote(self, question: str, evidence: list[Evidence], lead: str | None = None) -> Draft: ...


@runtime_checkable
class Streaming(Protocol):
    """Streams its answer as text deltas."""

    def stream(self, question: str, evidence: list[Evidence]) -> Iterator[str]: ...


@runtime_checkable
class Drafting(Protocol):
    """Turns a streamed text into its ``Draft`` (markers, notes); without it, the text as is."""

    def to_draft(self, text: str, evidence: list[Evidence]) -> Draft: ...


@runtime_checkable
class Rewriting(Protocol):
    """Rewrites a follow-up into a standalone question from the conversation."""

    def rewrite(self, question: str, history: list[ChatTurn]) -> str: ...


@runtime_checkable
class Judging(Protocol):
    """Carries an LLM judge (yes/no on a sentence) for the judged decision model; None when
    it has none."""

    judge: LLMJudge | None

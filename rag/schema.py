"""Typed records passed between pipeline steps and returned by the API.

The data path: ingest -> store -> retrieve (``RetrievedChunk``) -> select evidence
(``Evidence``) -> answer (``Draft``) -> cite (``Citation``) -> verify (``SentenceSupport``)
-> ``AnswerResult``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DocumentMeta(BaseModel):
    """What we know about one stored document, without its text."""

    doc_id: str
    title: str = ""
    date: str | None = None
    source: str | None = None
    url: str | None = None
    content_hash: str = ""
    n_chunks: int = 0


class RetrievedChunk(BaseModel):
    """A chunk returned by retrieval, with offsets into its document's cleaned text."""

    chunk_id: str
    doc_id: str
    text: str
    start_char: int
    end_char: int
    title: str = ""
    date: str | None = None
    source: str | None = None
    url: str | None = None
    content_hash: str = ""
    score: float = 0.0
    dense_score: float | None = None
    bm25_score: float | None = None


class Evidence(BaseModel):
    """One sentence chosen to answer from; ``n`` is its 1-based number shown to answerers."""

    n: int
    chunk: RetrievedChunk
    text: str
    start_char: int = Field(description="offset into the document's cleaned text")
    end_char: int
    score: float


class Draft(BaseModel):
    """An answerer's raw output: text whose sentences cite evidence as [n]."""

    text: str
    answerer: str
    fell_back: bool = False
    note: str | None = None


class Citation(BaseModel):
    """A verbatim quote: ``quote == stored_text(doc_id)[start_char:end_char]``."""

    n: int
    doc_id: str
    title: str
    source: str | None = None
    date: str | None = None
    url: str | None = None
    chunk_id: str
    start_char: int
    end_char: int
    quote: str


class SentenceSupport(BaseModel):
    """How well one answer sentence is backed by the quotes it cites."""

    sentence: str
    citations: list[int]
    support: float
    supported: bool


class Filters(BaseModel):
    """Optional retrieval filters; dates are ISO ``YYYY-MM-DD``."""

    sources: list[str] | None = None
    doc_ids: list[str] | None = None
    date_from: str | None = None
    date_to: str | None = None


class ChatTurn(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: str


class AnswerResult(BaseModel):
    """The full response of one question."""

    question: str
    standalone_question: str
    answer: str
    citations: list[Citation] = []
    grounded: bool = False
    abstained: bool = False
    answerer: str
    support: list[SentenceSupport] = []
    retrieved: list[RetrievedChunk] = []
    timings: dict[str, float] = {}
    note: str | None = None

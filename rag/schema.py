"""Typed records passed between pipeline steps and returned by the API.

The data path: ingest -> store -> retrieve (``RetrievedChunk``) -> select evidence
(``Evidence``) -> answer (``Draft``) -> cite (``Citation``) -> verify (``SentenceSupport``)
-> ``AnswerResult``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from rag.text import scrub_surrogates

# Text that arrives in a request: lone surrogates (legal in JSON) become U+FFFD on the way in.
InputText = Annotated[str, AfterValidator(scrub_surrogates)]


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
    rerank_score: float | None = None  # cross-encoder logit (rag.rerank), when reranked


class Evidence(BaseModel):
    """One sentence chosen to answer from; ``n`` is its 1-based number shown to answerers."""

    n: int
    chunk: RetrievedChunk
    text: str
    start_char: int = Field(description="offset into the document's cleaned text")
    end_char: int
    score: float
    suspect: bool = Field(
        default=False, description="reads as instructions to an answerer: quote only"
    )


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

    sources: list[InputText] | None = None
    doc_ids: list[InputText] | None = None
    date_from: InputText | None = None
    date_to: InputText | None = None


class ChatTurn(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: InputText


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

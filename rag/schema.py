"""Typed records passed between pipeline steps and returned by the API.

The data path: ingest -> store -> retrieve (``RetrievedChunk``) -> select evidence
(``Evidence``) -> answer (``Draft``) -> cite (``Citation``) -> verify (``SentenceSupport``)
-> ``AnswerResult``.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, PrivateAttr

from rag.text import scrub_surrogates

# Text that arrives in a request: lone surrogates (legal in JSON) become U+FFFD on the way in.
InputText = Annotated[str, AfterValidator(scrub_surrogates)]


# What kind of answer a question wants (rag.kinds recognises it from the wording).
AnswerType = Literal[
    "fact", "documents", "latest", "timeline", "summary", "parts", "list", "reason", "compare"
]


class Provenance(BaseModel):
    """Where a text comes from: the same fields on a stored document and on its chunks."""

    title: str = ""
    date: str | None = None
    source: str | None = None
    url: str | None = None
    content_hash: str = ""


class DocumentMeta(Provenance):
    """What we know about one stored document, without its text."""

    doc_id: str
    n_chunks: int = 0
    page_kind: str | None = Field(default=None, description='"page" (PDF) or "slide" (PPTX)')
    page_starts: list[int] | None = Field(
        default=None, description="offset in the text where page (slide) 1, 2, ... begins"
    )
    attached_to: str | None = Field(default=None, description="the e-mail it came attached to")
    hidden_text: list[str] = Field(
        default_factory=list,
        description="text the file hides from its reader (white on white, hidden runs, tiny "
        "fonts): never stored as evidence or quoted, listed so you see what was left out",
    )

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding ``offset``; None for documents without pages."""
        if not self.page_starts:
            return None
        return max(1, bisect_right(self.page_starts, offset))


class RetrievedChunk(Provenance):
    """A chunk returned by retrieval, with offsets into its document's cleaned text."""

    chunk_id: str
    doc_id: str
    text: str
    start_char: int
    end_char: int
    score: float = 0.0
    dense_score: float | None = None
    bm25_score: float | None = None
    page: int | None = None  # the page (or slide) the chunk starts on, for paged documents
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
    ce_score: float | None = Field(
        default=None, description="cross-encoder logit of (question, context + sentence)"
    )
    context: str = Field(default="", description="the sentence before it, in its chunk")
    heading: str = Field(default="", description="the heading of the section it sits in")
    reader_margin: float | None = Field(
        default=None,
        description="the reader's best span in this sentence over 'no answer here' (logits), "
        "read with its whole chunk; None when its chunk was not read",
    )
    reader_start: int | None = Field(default=None, description="that span's offset in text")
    reader_end: int | None = None
    reader_rank: int = Field(
        default=0,
        description="1 when it holds the reader's best span of all chunks read, "
        "2 for the second-best chunk's, 0 otherwise",
    )

    # The reader's logits over the chunk this sentence was read in (rag.extract.PassageReading,
    # document offsets): any other span of it can be scored (an LLM's short answer, rag.read).
    _reading: Any = PrivateAttr(default=None)

    def before(self, chars: int) -> str:
        """Up to ``chars`` of its chunk's text before the sentence: names an answer sentence
        leaves implicit ("Representing Dravia was ...") are usually set up a few sentences
        before."""
        offset = self.start_char - self.chunk.start_char
        return self.chunk.text[max(0, offset - chars) : max(0, offset)]

    @property
    def reader_span(self) -> str | None:
        """The reader's best span of this sentence, or None when it was not read."""
        if self.reader_start is None or self.reader_end is None:
            return None
        return self.text[self.reader_start : self.reader_end]


class Draft(BaseModel):
    """An answerer's raw output: text whose sentences cite evidence as [n]."""

    text: str
    answerer: str
    fell_back: bool = False
    note: str | None = None
    short_answer: str | None = Field(
        default=None, description="the answerer's proposed answer span; used only if cited"
    )
    confidence: float | None = Field(
        default=None, description="the answerer's own confidence in [0, 1], when it has one"
    )


class Citation(BaseModel):
    """A verbatim quote: ``quote == stored_text(doc_id)[start_char:end_char]``."""

    n: int
    doc_id: InputText
    title: InputText
    source: InputText | None = None
    date: InputText | None = None
    url: InputText | None = None
    chunk_id: InputText
    start_char: int
    end_char: int
    quote: InputText
    page: int | None = Field(default=None, description="page (or slide) the quote starts on")


class SentenceSupport(BaseModel):
    """How well one answer sentence is backed by the quotes it cites."""

    sentence: str
    citations: list[int]
    support: float
    supported: bool


# Each value becomes one SQL variable in Chroma's metadata query; 33,000 of them broke it
# ("too many SQL variables"). Bounded here, so a request over it is a 422 naming the limit.
MAX_FILTER_VALUES = 1000


class Filters(BaseModel):
    """Optional retrieval filters; dates are ISO ``YYYY-MM-DD``."""

    sources: list[InputText] | None = Field(default=None, max_length=MAX_FILTER_VALUES)
    doc_ids: list[InputText] | None = Field(default=None, max_length=MAX_FILTER_VALUES)
    date_from: InputText | None = None
    date_to: InputText | None = None
    include_undated: bool = Field(
        default=False, description="with a date range, also search documents without a date"
    )


class ChatTurn(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: InputText


def last_exchange(history: list[ChatTurn] | None) -> tuple[str | None, str]:
    """The last user question in the history (None if there is none) and the last answer."""
    turns = history or []
    previous = next((t.content for t in reversed(turns) if t.role == "user"), None)
    answer = next((t.content for t in reversed(turns) if t.role == "assistant"), "")
    return previous, answer


class AnswerResult(BaseModel):
    """The full response of one question."""

    question: str
    standalone_question: str
    answer: str
    citations: list[Citation] = []
    short_answer: str | None = Field(
        default=None,
        description="the exact span that answers, copied from a cited quote; null when the "
        "question wants an explanation or no span is certain enough to lead with",
    )
    confidence: float = Field(
        default=0.0,
        description="calibrated probability that the answer answers the question (rag.decide)",
    )
    grounded: bool = Field(
        default=False,
        description="quotes verified: every answer sentence is backed by its verbatim quotes "
        "(says nothing about whether it answers the question: see confidence)",
    )
    abstained: bool = False
    tier: Literal["answer", "guess", "refusal"] = Field(
        default="refusal",
        description="answer: confidence at or above the decision's threshold; guess: below it "
        "but above its floor (shown, labelled a best guess); refusal: 'The briefings don't say.'",
    )
    refusal: str | None = Field(
        default=None,
        description="why it refused (rag.refusal.Refusal): out_of_scope, no_evidence, "
        "low_confidence, unsupported; null when it answered",
    )
    answerer: str
    support: list[SentenceSupport] = []
    retrieved: list[RetrievedChunk] = []
    timings: dict[str, float] = Field(
        default={},
        description="seconds per step: rewrite, retrieve, read (the reader over the best "
        "chunks), select_evidence (which includes rerank, the cross-encoder's share), decide, "
        "span (the short answer), answer, cite, verify, total",
    )
    note: str | None = None
    answer_type: AnswerType = Field(
        default="fact",
        description="fact: one answer; documents: the briefings that name what was asked "
        "about, one cited line each; latest: the newest of them first, with their dates; "
        "timeline: all of them in date order; "
        "summary: the central sentences of the document asked about, one cited line each; "
        "parts: several questions in one, answered one per line; list: every item the "
        "evidence gives, one cited line each (short_answer is the list as written); reason: "
        "the sentences that state why or how, cited, with no short_answer; compare: each "
        "side's cited sentences, one line each",
    )
    leads: bool = Field(
        default=False,
        description="the short answer is sure enough to lead with (the extractive answer "
        "starts with it; the UI shows it in bold); otherwise it is a best guess",
    )
    undated_left_out: int | None = Field(
        default=None,
        description="undated documents a date range left out (set filters.include_undated "
        "to search them too); null without a date range",
    )


class Query(BaseModel):
    """One question as the service takes it: the text, the conversation before it (for a
    follow-up), filters on what may be searched, how many chunks to keep, and who answers."""

    question: str
    history: list[ChatTurn] | None = None
    filters: Filters | None = None
    top_k: int | None = None
    answerer: str | None = None

    @classmethod
    def of(cls, query: Query | str, **fields: object) -> Query:
        """``query`` itself, or a new one for the text, with ``fields`` set over it."""
        if isinstance(query, Query):
            return query.model_copy(update=fields) if fields else query
        return cls(question=query, **fields)  # type: ignore[arg-type]

"""Request and response bodies of the HTTP API (``AnswerResult`` and friends live in rag.schema).

Limits that come from settings (question length, history turns, ``top_k`` ceiling) are checked
in the routes, because pydantic field constraints are fixed at import time.
"""

from __future__ import annotations

from datetime import date as Date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.usage import Usage
from rag.schema import ChatTurn, Citation, DocumentMeta, Filters, InputText
from rag.text import scrub_surrogates


# --- /v1/ask --------------------------------------------------------------------------------
class AskRequest(BaseModel):
    """One question, optionally with the conversation so far (follow-ups are resolved)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt "topk" should fail, not be ignored

    question: InputText = Field(examples=["Who represented India at the Finance Ministerial?"])
    history: list[ChatTurn] = Field(default_factory=list)
    filters: Filters | None = None
    top_k: int | None = Field(default=None, description="chunks to retrieve (1..max_top_k)")
    answerer: InputText | None = Field(default=None, description="extractive, local-llm or openai")

    @field_validator("question")
    @classmethod
    def question_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("question must not be empty")
        return value


# --- /v1/documents --------------------------------------------------------------------------
class DocumentDetail(DocumentMeta):
    """A stored document with its cleaned text: citations' offsets index into ``text``."""

    text: str


class DocumentEdit(BaseModel):
    """``PATCH /v1/documents/{id}``: only the fields sent change (``null`` is refused)."""

    model_config = ConfigDict(extra="forbid")

    title: InputText | None = Field(default=None, min_length=1, max_length=500)
    date: str | None = Field(
        default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="ISO date (YYYY-MM-DD)"
    )
    source: InputText | None = Field(default=None, max_length=300)

    @field_validator("date")
    @classmethod
    def real_date(cls, value: str | None) -> str | None:
        if value is not None:
            Date.fromisoformat(value)  # 2031-02-30 is a ValueError, so a 422
        return value

    @field_validator("title", "source")
    @classmethod
    def one_line(cls, value: str | None) -> str | None:
        return " ".join(value.split()) if value is not None else None


class SkippedItem(BaseModel):
    name: str
    reason: str


class UploadResult(BaseModel):
    summary: str
    doc_ids: list[str]
    new: int
    updated: int
    unchanged: int
    skipped: list[SkippedItem]
    chunks_written: int
    seconds: float
    hidden: dict[str, int] = Field(
        default_factory=dict,
        description="doc_id -> passages of hidden text left out (GET the document to see them)",
    )


class FileResult(BaseModel):
    """One file of a multi-file upload: stored as ``doc_ids``, or why not."""

    name: str
    status: int = Field(description="the HTTP status this file alone would have got")
    doc_ids: list[str] = []
    error: str | None = None


class FilesResult(BaseModel):
    results: list[FileResult]
    stored: int = Field(description="documents stored, over all files")
    summary: str = Field(description="the ingest report: new, updated, unchanged, skipped")


class DeleteResult(BaseModel):
    doc_id: str
    deleted: bool = True


# --- health ---------------------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    answerers: list[str]
    default_answerer: str


# --- /v1/chat/completions (OpenAI-compatible) -----------------------------------------------
class ChatMessage(BaseModel):
    """An OpenAI chat message; ``content`` may be a string or a list of content parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        """The text of the message; non-text parts (images, audio) are ignored."""
        if isinstance(self.content, str):
            return scrub_surrogates(self.content)
        parts = self.content or []
        text = "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")
        return scrub_surrogates(text)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = Field(default=False, description="a last chunk carrying `usage`")


class ChatCompletionRequest(BaseModel):
    """OpenAI's request body; sampling options (temperature, max_tokens, ...) are accepted and
    ignored, because the answer is grounded text, not a free generation."""

    model_config = ConfigDict(extra="allow")

    messages: list[ChatMessage] = Field(min_length=1)
    model: InputText | None = Field(
        default=None,
        description="an answerer listed by GET /v1/models (omitted: the default); else 404",
    )
    stream: bool = False
    stream_options: StreamOptions | None = None
    filters: Filters | None = Field(default=None, description="extension: retrieval filters")


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    """``chat.completion`` plus the grounding: ``citations``, ``grounded`` (quotes verified),
    ``abstained``, ``short_answer`` and ``confidence`` (does it answer the question)."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    citations: list[Citation]
    grounded: bool
    abstained: bool
    short_answer: str | None = None
    leads: bool = False
    tier: str | None = None  # answer | guess | refusal (rag.schema.AnswerResult.tier)
    confidence: float = 0.0
    note: str | None = None
    usage: Usage | None = Field(default=None, description="cl100k token counts")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "briefing-qa"
    default: bool = Field(default=False, description="extension: answers when `model` is omitted")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]

"""Saved conversations, the store behind ``/v1/conversations`` (``api/routes/conversations.py``):
a small SQLite file in the data dir, and the Markdown export.

The chat UI saves each answered turn (question, verified answer, citations and the signals)
so a reload or another visit finds it again. With auth on, conversations belong to the API key
that made them (its ``key_id``, the same 8-hex-digit id the logs use): another key neither
lists nor reads them, and gets 404 as if they did not exist. Without auth everyone using the
server shares one history (owner ``local``). Separate from Chroma on purpose: history is not
evidence, and a conversation must never be retrievable as a briefing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from fastapi import HTTPException
from pydantic import BaseModel, Field

from rag.schema import Citation, InputText

DB_NAME = "conversations.sqlite3"
MAX_TITLE = 200
MAX_TURNS = 500  # per conversation; a longer one is refused (409), start a new chat
MAX_CONVERSATIONS = 1000  # per owner; the least recently updated ones go first
LOCAL_OWNER = "local"

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations (owner, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    created REAL NOT NULL,
    data TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, seq)
);
"""


# --- bodies ---------------------------------------------------------------------------------
class TurnIn(BaseModel):
    """One answered question, as the chat completion's final chunk reported it."""

    question: InputText = Field(max_length=20_000)
    answer: InputText = Field(max_length=50_000)
    citations: list[Citation] = Field(default_factory=list, max_length=100)
    short_answer: InputText | None = Field(default=None, max_length=2_000)
    leads: bool = False
    tier: Literal["answer", "guess", "refusal"] | None = None
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    grounded: bool = False
    abstained: bool = False
    note: InputText | None = Field(default=None, max_length=2_000)
    model: InputText | None = Field(default=None, max_length=200)


class Turn(TurnIn):
    created: str = Field(description="ISO time the turn was saved (UTC)")


class NewConversation(BaseModel):
    title: InputText | None = Field(default=None, max_length=MAX_TITLE)


class Rename(BaseModel):
    title: InputText = Field(min_length=1, max_length=MAX_TITLE)


class ConversationSummary(BaseModel):
    id: str
    title: str
    created: str
    updated: str
    turns: int


class Conversation(ConversationSummary):
    messages: list[Turn]


class Deleted(BaseModel):
    id: str
    deleted: bool = True


# --- store ----------------------------------------------------------------------------------
def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def default_title(question: str) -> str:
    """The first question, on one line, cut at a word near 80 characters."""
    line = " ".join(question.split())
    if len(line) <= 80:
        return line
    return line[:80].rsplit(" ", 1)[0] + "…"


class ConversationStore:
    """SQLite with one short connection per call (threads of the pool share nothing).

    Storage is bounded per turn (``max_turn_bytes``) and per owner (``max_owner_bytes``, the
    sum of the owner's stored turns), so one key can't fill the disk through its history."""

    def __init__(
        self, path: Path, max_turn_bytes: int = 200_000, max_owner_bytes: int = 20_000_000
    ) -> None:
        self.path = path
        self.max_turn_bytes = max_turn_bytes
        self.max_owner_bytes = max_owner_bytes
        self._lock = threading.Lock()  # one writer at a time inside this process
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            columns = {r["name"] for r in db.execute("PRAGMA table_info(turns)")}
            if "size" not in columns:  # a file from before the storage caps
                db.execute("ALTER TABLE turns ADD COLUMN size INTEGER NOT NULL DEFAULT 0")
                db.execute("UPDATE turns SET size = LENGTH(CAST(data AS BLOB))")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        try:
            with db:  # commit or roll back
                yield db
        finally:
            db.close()

    def create(self, owner: str, title: str | None) -> ConversationSummary:
        now = time.time()
        cid = uuid.uuid4().hex
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                (cid, owner, (title or "").strip(), now, now),
            )
            # Keep each owner's history bounded: drop the least recently updated.
            db.execute(
                "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations "
                "WHERE owner = ? ORDER BY updated DESC LIMIT -1 OFFSET ?)",
                (owner, MAX_CONVERSATIONS),
            )
        return ConversationSummary(
            id=cid, title=(title or "").strip(), created=iso(now), updated=iso(now), turns=0
        )

    def list(self, owner: str) -> list[ConversationSummary]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS n "
                "FROM conversations c WHERE owner = ? ORDER BY updated DESC",
                (owner,),
            ).fetchall()
        return [self._summary(r) for r in rows]

    def get(self, owner: str, cid: str) -> Conversation | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT c.*, 0 AS n FROM conversations c WHERE id = ? AND owner = ?", (cid, owner)
            ).fetchone()
            if row is None:
                return None
            turns = db.execute(
                "SELECT created, data FROM turns WHERE conversation_id = ? ORDER BY seq", (cid,)
            ).fetchall()
        messages = [Turn(**json.loads(t["data"]), created=iso(t["created"])) for t in turns]
        summary = self._summary(row).model_copy(update={"turns": len(messages)})
        return Conversation(**summary.model_dump(), messages=messages)

    def add_turn(self, owner: str, cid: str, turn: TurnIn) -> Turn | None:
        """Append ``turn``; None if the owner has no such conversation, 409/413 past a cap."""
        now = time.time()
        data = turn.model_dump_json()
        size = len(data.encode())
        if size > self.max_turn_bytes:
            raise HTTPException(
                413,
                f"a saved turn may hold at most {self.max_turn_bytes} bytes; this one is {size}",
            )
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT title FROM conversations WHERE id = ? AND owner = ?", (cid, owner)
            ).fetchone()
            if row is None:
                return None
            (seq,) = db.execute(
                "SELECT COUNT(*) FROM turns WHERE conversation_id = ?", (cid,)
            ).fetchone()
            if seq >= MAX_TURNS:
                raise HTTPException(409, f"a conversation keeps at most {MAX_TURNS} turns")
            (held,) = db.execute(
                "SELECT COALESCE(SUM(t.size), 0) FROM turns t JOIN conversations c "
                "ON t.conversation_id = c.id WHERE c.owner = ?",
                (owner,),
            ).fetchone()
            if held + size > self.max_owner_bytes:
                raise HTTPException(
                    413,
                    f"saved conversations may hold at most {self.max_owner_bytes} bytes per key; "
                    "delete old conversations to save more",
                )
            db.execute("INSERT INTO turns VALUES (?, ?, ?, ?, ?)", (cid, seq, now, data, size))
            title = row["title"] or default_title(turn.question)
            db.execute(
                "UPDATE conversations SET updated = ?, title = ? WHERE id = ?", (now, title, cid)
            )
        return Turn(**turn.model_dump(), created=iso(now))

    def rename(self, owner: str, cid: str, title: str) -> ConversationSummary | None:
        with self._lock, self._connect() as db:
            changed = db.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND owner = ?",
                (title.strip(), cid, owner),
            ).rowcount
        if not changed:
            return None
        found = self.get(owner, cid)
        return None if found is None else ConversationSummary(**found.model_dump())

    def delete(self, owner: str, cid: str) -> bool:
        with self._lock, self._connect() as db:
            return bool(
                db.execute(
                    "DELETE FROM conversations WHERE id = ? AND owner = ?", (cid, owner)
                ).rowcount
            )

    @staticmethod
    def _summary(row: sqlite3.Row) -> ConversationSummary:
        return ConversationSummary(
            id=row["id"],
            title=row["title"] or "Untitled",
            created=iso(row["created"]),
            updated=iso(row["updated"]),
            turns=row["n"],
        )


# --- markdown export ------------------------------------------------------------------------
def _quote_md(text: str) -> str:
    return "\n".join("> " + line for line in text.splitlines() or [""])


def to_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: each question, its answer, the signals, and the quotes
    (document, place and character offsets) so a reader can check every citation."""
    out = [f"# {conversation.title}", "", f"_Exported from Briefing QA, {iso(time.time())}._"]
    for i, turn in enumerate(conversation.messages, 1):
        out += ["", f"## {i}. {turn.question}", ""]
        if turn.short_answer and turn.leads and not turn.abstained:
            out += [f"**{turn.short_answer}**", ""]
        out.append(turn.answer)
        if turn.abstained:
            signals = "abstained" + (f": {turn.note}" if turn.note else "")
        else:
            verified = "quotes verified" if turn.grounded else "quotes NOT fully verified"
            signals = f"{verified}; confidence {round(turn.confidence * 100)}%"
        out += ["", f"_{signals}{f' ({turn.model})' if turn.model else ''}_"]
        if turn.citations:
            out += ["", "Sources:", ""]
        for c in turn.citations:
            where = ", ".join(
                p for p in (c.source, c.date, f"p. {c.page}" if c.page else None) if p
            )
            head = f"[{c.n}] {c.title or c.doc_id}" + (f" ({where})" if where else "")
            link = f" <{c.url}>" if c.url else ""
            out += [
                f"- {head}: `{c.doc_id}` characters {c.start_char}–{c.end_char}{link}",
                "",
                _quote_md(c.quote),
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


def attachment(title: str) -> str:
    """A Content-Disposition for ``title``.md: an ASCII ``filename`` and, for any title, the
    UTF-8 ``filename*`` of RFC 6266 / 5987 (a header must encode as Latin-1)."""

    def slug(keep: Callable[[str], bool]) -> str:
        name = "".join(ch if keep(ch) else "-" for ch in title.lower()).strip("-")[:60]
        return f"{name or 'conversation'}.md"

    plain = slug(lambda ch: ch.isascii() and ch.isalnum())
    full = slug(str.isalnum)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(full)}"

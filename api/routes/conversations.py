"""``/v1/conversations``: the caller's saved conversations (``api/conversation_store.py``),
listed, read, renamed, deleted and exported; another key gets 404 as if they did not exist."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse

from api.conversation_store import (
    DB_NAME,
    LOCAL_OWNER,
    Conversation,
    ConversationStore,
    ConversationSummary,
    Deleted,
    NewConversation,
    Rename,
    Turn,
    TurnIn,
    attachment,
    to_markdown,
)
from api.security import caller

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


# --- routes ---------------------------------------------------------------------------------
_store_lock = threading.Lock()


def get_store(request: Request) -> ConversationStore:
    """The app's store, opened on first use (``<data_dir>/conversations.sqlite3``)."""
    state = request.app.state
    store = getattr(state, "conversations", None)
    if store is None:
        with _store_lock:
            store = getattr(state, "conversations", None)
            if store is None:
                settings = state.settings
                store = ConversationStore(
                    Path(settings.data_dir) / DB_NAME,
                    max_turn_bytes=settings.max_turn_bytes,
                    max_owner_bytes=settings.max_saved_bytes_per_key,
                )
                state.conversations = store
    return store


def get_owner(request: Request) -> str:
    """The caller's key id when auth is on, else the shared local owner."""
    return caller(request) or LOCAL_OWNER


StoreDep = Annotated[ConversationStore, Depends(get_store)]
OwnerDep = Annotated[str, Depends(get_owner)]


def _missing(cid: str) -> HTTPException:
    return HTTPException(404, f"no conversation '{cid}'")


@router.get("", response_model=list[ConversationSummary])
def list_conversations(store: StoreDep, owner: OwnerDep) -> list[ConversationSummary]:
    """The caller's conversations, most recently updated first."""
    return store.list(owner)


@router.post("", response_model=ConversationSummary, status_code=201)
def create_conversation(
    store: StoreDep, owner: OwnerDep, body: NewConversation | None = None
) -> ConversationSummary:
    """A new, empty conversation (its title defaults to its first question)."""
    return store.create(owner, body.title if body else None)


@router.get("/{cid}", response_model=Conversation)
def get_conversation(cid: str, store: StoreDep, owner: OwnerDep) -> Conversation:
    found = store.get(owner, cid)
    if found is None:
        raise _missing(cid)
    return found


@router.post("/{cid}/messages", response_model=Turn, status_code=201)
def add_turn(cid: str, turn: TurnIn, store: StoreDep, owner: OwnerDep) -> Turn:
    """Append one answered question."""
    saved = store.add_turn(owner, cid, turn)
    if saved is None:
        raise _missing(cid)
    return saved


@router.patch("/{cid}", response_model=ConversationSummary)
def rename_conversation(
    cid: str, body: Rename, store: StoreDep, owner: OwnerDep
) -> ConversationSummary:
    renamed = store.rename(owner, cid, body.title)
    if renamed is None:
        raise _missing(cid)
    return renamed


@router.delete("/{cid}", response_model=Deleted)
def delete_conversation(cid: str, store: StoreDep, owner: OwnerDep) -> Deleted:
    if not store.delete(owner, cid):
        raise _missing(cid)
    return Deleted(id=cid)


@router.get(
    "/{cid}/export.md",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/markdown": {}}}},
)
def export_conversation(cid: str, store: StoreDep, owner: OwnerDep) -> PlainTextResponse:
    """The conversation as Markdown with its citations (quotes, documents, offsets)."""
    found = store.get(owner, cid)
    if found is None:
        raise _missing(cid)
    return PlainTextResponse(
        to_markdown(found),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": attachment(found.title)},
    )

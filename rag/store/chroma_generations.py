"""``Generations`` on Chroma: a token bumped on every change, with a change record naming the
documents it changed, so BM25 indexes in any process re-read only those."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable

from rag.store.chroma_client import DUMMY_VECTOR, ChromaClient

_CHANGE = "change:"  # state records of what each generation changed (``changes_since``)
_KEEP_CHANGES = 200
_MAX_LOGGED_DOCS = 500


class ChromaGenerations(ChromaClient):
    """The ``state`` collection's generation token and change log."""

    def generation(self) -> str:
        got = self._call(self.state.get, ids=["generation"], include=["metadatas"])
        return str(got["metadatas"][0]["value"]) if got["ids"] else ""

    def bump_generation(self, changed: Iterable[str] | None = None) -> str:
        """Start a new generation; ``changed`` names the documents whose committed chunks
        differ from the previous generation's (None: unknown, so readers rebuild in full).

        The new token and its change record go in one upsert, so a reader never sees one
        without the other; ``changes_since`` lets other processes' BM25 indexes catch up by
        re-reading only those documents instead of every chunk.
        """
        value = uuid.uuid4().hex
        parent = self.generation()
        doc_ids = None if changed is None else sorted(set(changed))
        if doc_ids is not None and len(doc_ids) > _MAX_LOGGED_DOCS:
            doc_ids = None  # a big batch: re-reading everything is as cheap
        self._call(
            self.state.upsert,
            ids=["generation", f"{_CHANGE}{value}"],
            embeddings=[DUMMY_VECTOR, DUMMY_VECTOR],
            metadatas=[
                {"value": value},
                {"kind": _CHANGE, "parent": parent, "at": time.time()},
            ],
            documents=["", json.dumps(doc_ids)],
        )
        self._prune_changes()
        return value

    def changes_since(self, since: str, until: str) -> set[str] | None:
        """Documents changed between two generations, or None when that can't be known
        (``since`` pruned from the log, a change of unknown extent, or two writers that both
        started from the same generation: their records fork, and one may hide the other)."""
        if since == until:
            return set()
        got = self._call(
            self.state.get, where={"kind": _CHANGE}, include=["metadatas", "documents"]
        )
        children: dict[str, list[tuple[str, str]]] = {}
        for cid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
            children.setdefault(str(meta.get("parent")), []).append(
                (cid.removeprefix(_CHANGE), doc or "null")
            )
        changed: set[str] = set()
        at = since
        for _ in range(len(got["ids"])):
            step = children.get(at, [])
            if len(step) != 1:
                return None
            at, doc_ids = step[0][0], json.loads(step[0][1])
            if doc_ids is None:
                return None
            changed.update(doc_ids)
            if at == until:
                return changed
        return None

    def _prune_changes(self) -> None:
        """Keep the newest ``_KEEP_CHANGES`` change records (a reader further behind rebuilds)."""
        got = self._call(self.state.get, where={"kind": _CHANGE}, include=["metadatas"])
        if len(got["ids"]) <= 2 * _KEEP_CHANGES:
            return
        order = sorted(
            zip(got["ids"], got["metadatas"], strict=True), key=lambda im: -float(im[1]["at"])
        )
        self._call(self.state.delete, ids=[cid for cid, _ in order[_KEEP_CHANGES:]])

"""All persistent state lives in Chroma, so API replicas sharing a Chroma server stay stateless.

Three collections:
- ``<name>``: chunks (our own MiniLM vectors, text, offsets, doc metadata, content hash, and
  ``text_hash``, the key ``vectors_for`` reuses a stored vector by);
- ``<name>__docs``: one record per document holding its cleaned text; written *after* its
  chunks, so it is the commit marker. A version's chunks have ids of their own
  (``doc:index@hash``), so a replace never overwrites the version that answers: the new chunks
  go in beside the old, the record switches to the new hash in one upsert, then the old chunks
  are deleted. Readers (``query``, ``all_chunks``) return only chunks whose hash is their
  record's, so until the commit the old version answers, after it the new one, and a crash at
  any point leaves exactly one of them (plus orphans ``repair`` deletes);
- ``<name>__state``: a generation token bumped on every change, written with a change record
  naming the documents it changed, so BM25 indexes in any process know they are behind and
  re-read only those documents (``changes_since``); and the embedding backend whose vectors
  fill the store (torch and onnx-int8 vectors are close, not equal, so a store never mixes them).
We always pass embeddings: Chroma's default embedder would try to download a model.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import InvalidArgumentError

from rag.config import Settings
from rag.schema import DocumentMeta, Filters, RetrievedChunk
from rag.store import lock as store_lock

_WRITES = frozenset({"add", "upsert", "update", "delete"})
_DUMMY_VECTOR = [1.0]  # doc/state records are fetched by id, never by similarity
_BATCH = 2000
_EMBEDDER = "embedder"  # the state record naming the embedding backend
_CHANGE = "change:"  # state records of what each generation changed (``changes_since``)
_KEEP_CHANGES = 200
_MAX_LOGGED_DOCS = 500


class StoreUnavailable(RuntimeError):
    """Chroma cannot be reached; the API maps this to 503."""


class StoreInUse(StoreUnavailable):
    """Another process has the embedded store open (``rag.store.lock``)."""


class EmbedderMismatch(ValueError):
    """The store holds vectors of another embedding backend than the one loaded."""


def text_hash(text: str) -> str:
    """The embedding cache key: sha256 of exactly the text that was embedded."""
    return hashlib.sha256(text.encode()).hexdigest()


def chunk_id(doc_id: str, index: int, content_hash: str) -> str:
    """One version's chunk id: versions never share ids, so a replace can't overwrite."""
    return f"{doc_id}:{index}@{content_hash[:12]}"


@dataclass
class Consistency:
    """What ``ChromaStore.check`` found: the documents list agrees with the chunks when there
    are no ghosts (a record whose committed chunks are missing) and no orphans (chunks no
    record backs: an interrupted write's or a superseded version's)."""

    documents: int = 0
    chunks: int = 0
    orphan_chunks: list[str] = field(default_factory=list)
    ghosts: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (listed, found)

    @property
    def ok(self) -> bool:
        return not self.orphan_chunks and not self.ghosts

    def summary(self) -> str:
        ghosts = ", ".join(f"{d} ({n} listed, {f} stored)" for d, (n, f) in self.ghosts.items())
        return (
            f"{self.documents} documents, {self.chunks} committed chunks, "
            f"{len(self.orphan_chunks)} orphan chunks, {len(self.ghosts)} ghost documents"
            + (f": {ghosts}" if ghosts else "")
        )


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk ready to write: text, vector and where it sits in its document."""

    index: int
    text: str
    start_char: int
    end_char: int
    embedding: Sequence[float]
    page: int | None = None  # the page (slide) the chunk starts on, in paged documents


def date_number(date: str | None) -> int | None:
    """``2026-02-04`` -> 20260204, since Chroma range filters work on numbers only."""
    if not date:
        return None
    digits = "".join(ch for ch in date[:10] if ch.isdigit())
    return int(digits.ljust(8, "0")) if len(digits) >= 4 else None


def make_client(settings: Settings) -> chromadb.ClientAPI:
    """Embedded persistent Chroma by default; a Chroma server when ``chroma_url`` is set."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        client = chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
        _bound_http_timeout(client, settings.chroma_timeout_s)
        return client
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


def _bound_http_timeout(client: chromadb.ClientAPI, seconds: float) -> None:
    """Give chromadb's httpx session a timeout (it has none), so a frozen server fails fast.

    Reconnecting needs nothing else: httpx opens a new connection per request once the old one
    is gone, so the same client works again as soon as the server is back on its address.
    """
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client) and seconds > 0:
        session.timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _forget_embedded_system(path: str) -> None:
    """Make chromadb open a new engine for ``path`` next time (its cache is process-wide)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
    except (ImportError, AttributeError):  # pragma: no cover - another chromadb layout
        pass


class ChromaStore:
    """Chunk, document and state records; every method maps connection loss to StoreUnavailable."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.collection
        self._broken = False  # an embedded write failed: open a fresh client before the next call
        self._reconnect_lock = threading.Lock()
        if not settings.chroma_url:  # one process per embedded store (rag/store/lock.py)
            try:
                key = store_lock.acquire(settings.chroma_path)
            except store_lock.StoreLocked as exc:
                raise StoreInUse(str(exc)) from None
            self._unlock = weakref.finalize(self, store_lock.release, key)
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Let other processes open the embedded store (once no store here uses it)."""
        unlock = getattr(self, "_unlock", None)
        if unlock is not None:
            unlock()

    def _connect(self) -> None:
        try:
            self.client = make_client(self.settings)
            self.chunks = self.client.get_or_create_collection(
                self.name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
            self.docs = self.client.get_or_create_collection(
                f"{self.name}__docs", embedding_function=None
            )
            self.state = self.client.get_or_create_collection(
                f"{self.name}__state", embedding_function=None
            )
        except InvalidArgumentError as exc:  # a configuration mistake, not an outage
            raise ValueError(f"invalid Chroma collection '{self.name}': {exc}") from exc
        except Exception as exc:  # chromadb raises several unrelated types on connect
            raise StoreUnavailable(f"Chroma store unavailable: {exc}") from exc

    def _reconnect(self) -> None:
        """Replace an embedded client whose write failed (e.g. disk full) with a fresh one.

        chromadb keeps one engine per path for the whole process, and after a failed write
        that engine can block the next write for many minutes, even once space is freed.
        Dropping it from chromadb's cache (not stopping it: that could block too) makes
        ``make_client`` open a new one. Raises ``StoreUnavailable`` while that still fails.
        """
        with self._reconnect_lock:
            if not self._broken:
                return
            _forget_embedded_system(str(self.settings.chroma_path))
            self._connect()
            self._broken = False

    # --- health and generation ---------------------------------------------------------
    def ping(self) -> None:
        if self._broken:
            self._reconnect()
        try:
            self.client.heartbeat()
        except Exception as exc:
            raise StoreUnavailable(f"Chroma store unavailable: {exc}") from exc

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
            embeddings=[_DUMMY_VECTOR, _DUMMY_VECTOR],
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

    def chunks_of(self, doc_ids: Iterable[str]) -> list[RetrievedChunk]:
        """The committed chunks of some documents (a BM25 index catching up reads these)."""
        ids = sorted(set(doc_ids))
        out: list[RetrievedChunk] = []
        for got in self._chunks_where("doc_id", ids, ["documents", "metadatas"]):
            out.extend(
                _chunk(c, d, m, None)
                for c, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            )
        return self.committed(out)

    # --- embedder identity -------------------------------------------------------------
    def _recorded_embedder(self) -> str | None:
        got = self._call(self.state.get, ids=[_EMBEDDER], include=["metadatas"])
        return str(got["metadatas"][0]["value"]) if got["ids"] else None

    def _stored(self, recorded: str | None) -> str | None:
        """The filling backend given the record: chunks stored before backends were recorded
        are torch vectors (the only backend then); None while the store holds no chunks."""
        return (recorded or "torch") if self.count_chunks() else None

    def stored_embedder(self) -> str | None:
        """The backend whose vectors fill the store; None while it holds no chunks."""
        return self._stored(self._recorded_embedder())

    def check_embedder(self, backend: str, record: bool = False) -> None:
        """Raise ``EmbedderMismatch`` if the stored chunks come from another backend.

        An empty store accepts any. ``record`` (ingest sets it) writes ``backend`` down first.
        """
        recorded = self._recorded_embedder()
        stored = self._stored(recorded)
        if stored is not None and stored != backend:
            raise EmbedderMismatch(
                f"the store '{self.name}' holds {stored} embeddings but the {backend} embedder "
                f"is loaded; set BRIEFQA_EMBED_BACKEND={stored} to use this store, or ingest "
                f"into a new store (another BRIEFQA_DATA_DIR or BRIEFQA_COLLECTION) for {backend}"
            )
        if record and recorded != backend:
            self._call(
                self.state.upsert,
                ids=[_EMBEDDER],
                embeddings=[_DUMMY_VECTOR],
                metadatas=[{"value": backend}],
            )

    # --- documents ---------------------------------------------------------------------
    def document_hashes(self) -> dict[str, str]:
        got = self._call(self.docs.get, include=["metadatas"])
        return {
            i: str(m.get("content_hash", ""))
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }

    def list_documents(self) -> list[DocumentMeta]:
        got = self._call(self.docs.get, include=["metadatas"])
        metas = [_doc_meta(i, m) for i, m in zip(got["ids"], got["metadatas"], strict=True)]
        return sorted(metas, key=lambda d: d.doc_id)

    def count_undated(self, filters: Filters) -> int:
        """Documents a date range leaves out for having no date (other filters still apply)."""
        rest = filters.model_copy(update={"date_from": None, "date_to": None})
        where = chroma_where(rest)
        undated: dict[str, Any] = {"undated": True}
        got = self._call(
            self.docs.get, where={"$and": [where, undated]} if where else undated, include=[]
        )
        return len(got["ids"])

    def get_documents(self, doc_ids: Iterable[str]) -> dict[str, tuple[DocumentMeta, str]]:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        got = self._call(self.docs.get, ids=ids, include=["metadatas", "documents"])
        return {
            i: (_doc_meta(i, m), d)
            for i, m, d in zip(got["ids"], got["metadatas"], got["documents"], strict=True)
        }

    def write_document(self, meta: DocumentMeta, text: str, chunks: list[ChunkRecord]) -> None:
        """Replace one document atomically: new chunks, then its record, then old chunks out."""
        self.write_documents([(meta, text, chunks)], replacing={meta.doc_id})

    def write_documents(
        self,
        items: list[tuple[DocumentMeta, str, list[ChunkRecord]]],
        replacing: set[str] | None = None,
    ) -> None:
        """Write many documents in a few calls, each replace atomic; safe to repeat after a
        crash. ``replacing`` names the documents that may have an older version stored."""
        self.write_chunks(items)
        self.commit(items)
        self.drop_superseded(items, replacing)

    def write_chunks(self, items: list[tuple[DocumentMeta, str, list[ChunkRecord]]]) -> None:
        """The new versions' chunks, beside any old ones: invisible until ``commit``.

        Every Chroma write costs a fixed few fsyncs, so chunks of all documents go in shared
        upserts.
        """
        ids: list[str] = []
        vectors: list[list[float]] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        for meta, _, chunks in items:
            base = _chunk_meta(meta)
            for c in chunks:
                ids.append(chunk_id(meta.doc_id, c.index, meta.content_hash))
                vectors.append(list(c.embedding))
                texts.append(c.text)
                metas.append(
                    {
                        **base,
                        "chunk_index": c.index,
                        "start_char": c.start_char,
                        "end_char": c.end_char,
                        "text_hash": text_hash(c.text),
                        **({"page": c.page} if c.page is not None else {}),
                    }
                )
        for i in range(0, len(ids), _BATCH):
            self._call(
                self.chunks.upsert,
                ids=ids[i : i + _BATCH],
                embeddings=vectors[i : i + _BATCH],
                documents=texts[i : i + _BATCH],
                metadatas=metas[i : i + _BATCH],
            )

    def vectors_for(
        self, hashes: Iterable[str], doc_ids: Iterable[str] = ()
    ) -> dict[str, list[float]]:
        """Stored vectors by ``text_hash`` of their chunk text: the embedding cache.

        Any stored chunk serves, committed or not and of any document (syndicated copies
        share paragraphs), since the vector depends on the text alone and a store holds one
        backend's vectors. Chunks written before ``text_hash`` existed are found through
        ``doc_ids`` (the documents being replaced): their texts are hashed here.
        """
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, list[float]] = {}
        for got in self._chunks_where("text_hash", wanted, ["embeddings", "metadatas"], 500):
            for m, v in zip(got["metadatas"], got["embeddings"], strict=True):
                found[str(m["text_hash"])] = [float(x) for x in v]
        ids = list(dict.fromkeys(doc_ids))
        if ids and len(found) < len(wanted):
            for got in self._chunks_where("doc_id", ids, ["embeddings", "documents"]):
                for d, v in zip(got["documents"], got["embeddings"], strict=True):
                    found.setdefault(text_hash(d), [float(x) for x in v])
        return found

    def _chunks_where(
        self, key: str, values: list[str], include: list[str], batch: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Pages of the chunks whose metadata ``key`` is one of ``values`` (batched ``$in``)."""
        for i in range(0, len(values), batch):
            where = {key: {"$in": values[i : i + batch]}}
            yield self._call(self.chunks.get, where=where, include=include)

    def commit(self, items: list[tuple[DocumentMeta, str, list[ChunkRecord]]]) -> None:
        """Switch the records to the new versions: one upsert, so all at once or none."""
        if items:
            self._call(
                self.docs.upsert,
                ids=[meta.doc_id for meta, _, _ in items],
                embeddings=[_DUMMY_VECTOR] * len(items),
                documents=[text for _, text, _ in items],
                metadatas=[
                    {**_chunk_meta(meta), **_page_meta(meta), "n_chunks": len(chunks)}
                    for meta, _, chunks in items
                ],
            )

    def drop_superseded(
        self,
        items: list[tuple[DocumentMeta, str, list[ChunkRecord]]],
        replacing: set[str] | None = None,
    ) -> None:
        """Delete the chunks of versions the records no longer name (after ``commit``)."""
        stale = [
            {"$and": [{"doc_id": meta.doc_id}, {"content_hash": {"$ne": meta.content_hash}}]}
            for meta, _, _ in items
            if replacing is None or meta.doc_id in replacing
        ]
        for i in range(0, len(stale), 100):
            group = stale[i : i + 100]
            self._call(self.chunks.delete, where=group[0] if len(group) == 1 else {"$or": group})

    def delete_document(self, doc_id: str) -> bool:
        """Drop the record first (readers stop trusting its chunks), then the chunks."""
        existed = bool(self._call(self.docs.get, ids=[doc_id], include=[])["ids"])
        self._call(self.docs.delete, ids=[doc_id])
        self._call(self.chunks.delete, where={"doc_id": doc_id})
        return existed

    def check(self, doc_ids: Iterable[str] | None = None) -> Consistency:
        """Compare the documents list with the chunks (``briefqa doctor``); reads only.

        ``doc_ids`` limits the check to those documents' records and chunks: an upload checks
        what it writes instead of reading every chunk (seconds at 100k chunks).
        """
        ids = None if doc_ids is None else sorted(set(doc_ids))
        if ids is not None and not ids:
            return Consistency()
        got = self._call(self.docs.get, ids=ids, include=["metadatas"])
        listed = {
            i: (str(m.get("content_hash", "")), int(m.get("n_chunks", 0)))
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }
        report = Consistency(documents=len(listed))
        found: dict[str, int] = {}
        pages = (
            self._all_chunk_pages(["metadatas"])
            if ids is None
            else self._chunks_where("doc_id", ids, ["metadatas"])
        )
        for page in pages:
            for cid, m in zip(page["ids"], page["metadatas"], strict=True):
                doc_id = str(m.get("doc_id"))
                if doc_id in listed and listed[doc_id][0] == m.get("content_hash"):
                    found[doc_id] = found.get(doc_id, 0) + 1
                else:
                    report.orphan_chunks.append(cid)
        report.chunks = sum(found.values())
        report.ghosts = {
            doc_id: (n, found.get(doc_id, 0))
            for doc_id, (_, n) in listed.items()
            if found.get(doc_id, 0) != n
        }
        return report

    def _all_chunk_pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        """Every chunk, ``_BATCH`` at a time (Chroma caps what one get returns)."""
        for offset in range(0, self.count_chunks(), _BATCH):
            yield self._call(self.chunks.get, include=include, limit=_BATCH, offset=offset)

    def repair(self, doc_ids: Iterable[str] | None = None) -> Consistency:
        """Delete chunks no committed record backs (an interrupted run's, or a superseded
        version's), in the whole store or only ``doc_ids``'; returns what ``check`` found.
        Ghosts are the caller's (ingest re-embeds)."""
        report = self.check(doc_ids)
        orphans = report.orphan_chunks
        for i in range(0, len(orphans), _BATCH):
            self._call(self.chunks.delete, ids=orphans[i : i + _BATCH])
        return report

    # --- chunks ------------------------------------------------------------------------
    def count_chunks(self) -> int:
        return int(self._call(self.chunks.count))

    def all_chunks(self) -> list[RetrievedChunk]:
        """Every committed chunk with text and metadata (BM25 rebuilds read this), in pages."""
        hashes = self.document_hashes()
        out: list[RetrievedChunk] = []
        for got in self._all_chunk_pages(["documents", "metadatas"]):
            out.extend(
                _chunk(i, d, m, None)
                for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
                if hashes.get(str(m.get("doc_id"))) == m.get("content_hash")
            )
        return out

    def committed(self, chunks: list[RetrievedChunk]) -> list[RetrievedChunk]:
        """Only the chunks of the versions their records name (one small read)."""
        doc_ids = list(dict.fromkeys(c.doc_id for c in chunks))
        if not doc_ids:
            return chunks
        got = self._call(self.docs.get, ids=doc_ids, include=["metadatas"])
        hashes = {
            i: m.get("content_hash") for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }
        return [c for c in chunks if hashes.get(c.doc_id) == c.content_hash]

    def query(
        self, embedding: Sequence[float], k: int, filters: Filters | None = None
    ) -> list[RetrievedChunk]:
        """Dense nearest neighbours of committed versions; ``score`` is cosine similarity."""
        if k <= 0:
            return []
        got = self._call(
            self.chunks.query,
            query_embeddings=[list(embedding)],
            n_results=k,
            where=chroma_where(filters),
            include=["documents", "metadatas", "distances"],
        )
        return self.committed(
            [
                _chunk(i, d, m, 1.0 - float(dist))
                for i, d, m, dist in zip(
                    got["ids"][0],
                    got["documents"][0],
                    got["metadatas"][0],
                    got["distances"][0],
                    strict=True,
                )
            ]
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._broken:
            fn = self._rebind(fn)
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, KeyError):
            raise
        except Exception as exc:
            if not self.settings.chroma_url and getattr(fn, "__name__", "") in _WRITES:
                self._broken = True
            raise StoreUnavailable(f"Chroma store unavailable: {exc}") from exc

    def _rebind(self, fn: Any) -> Any:
        """Reconnect, then point ``fn`` (a bound collection method) at the new collection."""
        old = {id(c): name for name, c in (("chunks", self.chunks), ("docs", self.docs))}
        old[id(self.state)] = "state"
        self._reconnect()
        owner = old.get(id(getattr(fn, "__self__", None)))
        return getattr(getattr(self, owner), fn.__name__) if owner else fn


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """Translate our filters into one Chroma ``where`` clause."""
    if filters is None:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    if filters.doc_ids:
        clauses.append({"doc_id": {"$in": list(filters.doc_ids)}})
    dated: list[dict[str, Any]] = []
    if (lo := date_number(filters.date_from)) is not None:
        dated.append({"date_num": {"$gte": lo}})
    if (hi := date_number(filters.date_to)) is not None:
        dated.append({"date_num": {"$lte": hi}})
    if dated:
        in_range = dated[0] if len(dated) == 1 else {"$and": dated}
        clauses.append(
            {"$or": [in_range, {"undated": True}]} if filters.include_undated else in_range
        )
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _chunk_meta(meta: DocumentMeta) -> dict[str, Any]:
    """Chroma metadata values may not be None: absent fields are simply left out."""
    fields = {
        "doc_id": meta.doc_id,
        "title": meta.title,
        "date": meta.date,
        "date_num": date_number(meta.date),
        "source": meta.source,
        "url": meta.url,
        "content_hash": meta.content_hash,
        "undated": True if date_number(meta.date) is None else None,
        "attached_to": meta.attached_to,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _page_meta(meta: DocumentMeta) -> dict[str, Any]:
    """Page offsets and hidden text live on the document record only (chunks carry their own
    page; hidden text is never evidence)."""
    fields: dict[str, Any] = {}
    if meta.page_starts:
        fields |= {
            "page_kind": meta.page_kind or "page",
            "page_starts": json.dumps(meta.page_starts),
        }
    if meta.hidden_text:
        fields["hidden_text"] = json.dumps(meta.hidden_text)
    return fields


def _doc_meta(doc_id: str, m: dict[str, Any]) -> DocumentMeta:
    return DocumentMeta(
        doc_id=doc_id,
        title=str(m.get("title", "")),
        date=m.get("date"),
        source=m.get("source"),
        url=m.get("url"),
        content_hash=str(m.get("content_hash", "")),
        n_chunks=int(m.get("n_chunks", 0)),
        page_kind=m.get("page_kind"),
        page_starts=json.loads(m["page_starts"]) if m.get("page_starts") else None,
        attached_to=m.get("attached_to"),
        hidden_text=json.loads(m["hidden_text"]) if m.get("hidden_text") else [],
    )


def _chunk(chunk_id: str, text: str, m: dict[str, Any], score: float | None) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=chunk_id,
        doc_id=str(m["doc_id"]),
        text=text,
        start_char=int(m["start_char"]),
        end_char=int(m["end_char"]),
        title=str(m.get("title", "")),
        date=m.get("date"),
        source=m.get("source"),
        url=m.get("url"),
        content_hash=str(m.get("content_hash", "")),
        score=score or 0.0,
        dense_score=score,
        page=int(m["page"]) if m.get("page") is not None else None,
    )

"""Files -> cleaned documents -> chunks -> vectors -> Chroma, idempotently.

Policies, stated once:
- identity: ``doc_id`` comes from the jsonl field, else the path relative to the corpus root;
  the content hash covers title, text and metadata, so only real changes re-embed.
- duplicates: a second document with the same ``doc_id`` in one run, or with the same content
  as a document already kept under another id, is skipped and reported ("duplicate of ...").
- crashes: a new version's chunks are written beside the old ones (ids carry the hash), then
  its record (the commit marker), then the old chunks are deleted, so a crash at any point
  leaves exactly the old or exactly the new version; every run starts by deleting chunks no
  record backs and re-embeds documents listed without their chunks (ghosts), so a re-run
  converges to the uninterrupted state (the CLI checks the whole store; the API only the
  documents it writes, so an upload never reads every chunk).
- embedding: a chunk text the store already holds a vector for (an unchanged paragraph of an
  edited document, a syndicated copy) is not embedded again (``ChromaStore.vectors_for``).
- readers: only the commit (record upsert, generation bump and, for the API, the BM25 sync)
  runs inside ``commit_guard``; embedding and chunk writes run beside questions.
- prune: removes stored documents this run did not produce; it is refused when a file failed
  to load, so an unreadable file never costs its stored document.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunk import Chunker, SplitCache
from ingest.clean import clean_document
from ingest.loaders import LoadError, SourceDocument, discover, load_file
from ingest.sandbox import ParseLimits, parse_limited
from rag.config import Settings
from rag.embed import Embedder
from rag.schema import DocumentMeta
from rag.store.base import Store
from rag.store.bm25 import BM25Index
from rag.store.chroma import ChunkRecord, text_hash

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (chunks done, chunks total)


MAX_HIDDEN, MAX_HIDDEN_CHARS = 50, 300  # hidden passages kept per document, to show the user


@dataclass
class IngestReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_written: int = 0  # chunks stored, embedded or reused
    chunks_embedded: int = 0  # distinct chunk texts sent to the embedder
    chunks_reused: int = 0  # chunks whose vector came from the store or a twin in this run
    seconds: float = 0.0
    explicit_failures: int = 0
    repaired_chunks: int = 0
    prune_refused: bool = False
    doc_ids: list[str] = field(default_factory=list)
    hidden: dict[str, int] = field(default_factory=dict)  # doc_id -> hidden passages left out

    @property
    def chunks_per_s(self) -> float:
        return self.chunks_written / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"documents: {self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.skipped)} skipped; "
            f"{self.chunks_written} chunks written ({self.chunks_embedded} embedded, "
            f"{self.chunks_reused} reused) in {self.seconds:.1f} s "
            f"({self.chunks_per_s:.1f} chunks/s)"
            + ("; prune refused because some files failed to load" if self.prune_refused else "")
            + (
                f"; hidden text left out of {len(self.hidden)} document(s)"
                f" ({sum(self.hidden.values())} passages)"
                if self.hidden
                else ""
            )
        )


def content_hash(doc: SourceDocument) -> str:
    payload = json.dumps([doc.title, doc.text, doc.date, doc.source, doc.url], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class _Pending:
    meta: DocumentMeta
    text: str
    records: list[ChunkRecord]


class IngestPipeline:
    """One ingest run; the store, embedder and BM25 index are shared with the query side."""

    def __init__(
        self, settings: Settings, store: Store, embedder: Embedder, bm25: BM25Index
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.bm25 = bm25
        self.chunker = Chunker(settings.chunk_size, settings.chunk_overlap, settings.chunk_min_size)
        # Sentence splits of long paragraphs survive the process, so re-ingesting an edited
        # document does not load llama-index's splitter for paragraphs that did not change.
        self.split_cache = SplitCache(settings.data_dir / "splits" / f"{settings.collection}.json")
        self.split_cache.load(self.chunker)
        # The API sets these: its store lock's write side, and a BM25 sync inside it, so
        # questions wait only for the commit and never find BM25 behind the store.
        self.commit_guard: Callable[[], contextlib.AbstractContextManager[object]] = (
            contextlib.nullcontext
        )
        self.sync_on_commit = False
        # Each run first deletes orphan chunks and finds ghosts: in the whole store (the CLI,
        # a batch), or only among the documents it writes (the API: an upload must not read
        # every chunk; ``briefqa doctor --repair`` sweeps the rest).
        self.repair_whole_store = True
        self._writing = threading.Lock()  # one ingest or delete at a time
        self.limits = ParseLimits.of(settings)
        # Called after each ingest and each delete (the API's metrics and access log subscribe).
        self.on_ingest: list[Callable[[IngestReport], None]] = []
        self.on_delete: list[Callable[[str], None]] = []

    def parse(self, data: bytes, suffix: str, doc_id: str, name: str) -> list[SourceDocument]:
        """One file's bytes -> documents, within the settings' parse budget (ingest.sandbox)."""
        return parse_limited(data, suffix, doc_id, name, self.limits)

    # --- loading -----------------------------------------------------------------------
    def load(self, paths: list[Path], report: IngestReport) -> list[SourceDocument]:
        """Load files; failures are recorded in the report, never raised."""
        raw: list[SourceDocument] = []
        explicit = {p.resolve() for p in paths if not p.is_dir()}
        for path in explicit:
            if not path.exists():
                report.skipped.append((str(path), "no such file"))
                report.explicit_failures += 1
        for file, root in discover([p for p in paths if p.exists()]):
            try:
                raw.extend(load_file(file, root, self.parse))
            except LoadError as exc:
                report.skipped.append((str(file), str(exc)))
                log.warning("skipped %s", exc)
                if file.resolve() in explicit:
                    report.explicit_failures += 1
        return raw

    def accept(self, raw: list[SourceDocument], report: IngestReport) -> list[SourceDocument]:
        """Clean, then apply the duplicate policy (same id or same content: keep the first)."""
        docs: dict[str, SourceDocument] = {}
        by_hash: dict[str, str] = {}
        for doc in map(clean_document, raw):
            if not doc.text.strip():
                report.skipped.append((doc.doc_id, "empty after cleaning"))
                continue
            digest = content_hash(doc)
            if doc.doc_id in docs:
                report.skipped.append((doc.doc_id, "duplicate doc_id"))
            elif digest in by_hash:
                report.skipped.append((doc.doc_id, f"duplicate of {by_hash[digest]}"))
            else:
                docs[doc.doc_id] = doc
                if doc.hidden_text:
                    report.hidden[doc.doc_id] = len(doc.hidden_text)
                by_hash[digest] = doc.doc_id
        return list(docs.values())

    # --- the run -----------------------------------------------------------------------
    def run(
        self, paths: list[Path], prune: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Ingest files and folders; ``prune`` removes stored documents not found now."""
        report = IngestReport()
        return self.ingest(self.load(paths, report), report, prune, progress)

    def ingest(
        self,
        raw: list[SourceDocument],
        report: IngestReport | None = None,
        prune: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Store loaded documents: embed only new or changed ones, then bring BM25 in step."""
        with self._writing:
            done = self._ingest(raw, report or IngestReport(), prune, progress)
        for hook in self.on_ingest:
            hook(done)
        return done

    def _ingest(
        self,
        raw: list[SourceDocument],
        report: IngestReport,
        prune: bool,
        progress: Progress | None,
    ) -> IngestReport:
        started = time.perf_counter()
        self.store.check_embedder(self.embedder.backend, record=True)
        docs = self.accept(raw, report)
        found = self.store.repair(None if self.repair_whole_store else [d.doc_id for d in docs])
        report.repaired_chunks = len(found.orphan_chunks)
        stored = self.store.document_hashes()
        # A ghost (listed, its chunks gone) never answers: re-embed it as if it had changed.
        current = {d: h for d, h in stored.items() if d not in found.ghosts}
        changed: list[tuple[SourceDocument, str]] = []
        for doc in docs:
            digest = content_hash(doc)
            report.doc_ids.append(doc.doc_id)
            if current.get(doc.doc_id) == digest:
                report.unchanged += 1
            else:
                changed.append((doc, digest))
                if doc.doc_id in stored:
                    report.updated += 1
                else:
                    report.new += 1

        stale: list[str] = []
        if prune:
            if any("duplicate" not in reason for _, reason in report.skipped):
                log.warning("prune refused: some files failed to load; nothing removed")
                report.prune_refused = True
            else:
                seen = {d.doc_id for d in docs}
                stale = [doc_id for doc_id in stored if doc_id not in seen]

        report.chunks_written = self._write(changed, set(stored), progress, report)
        if stale or report.repaired_chunks:
            with self.commit_guard():
                for doc_id in stale:
                    self.store.delete_document(doc_id)
                    report.removed += 1
                # Orphans were never committed, so no index holds them: only ``stale`` changed.
                self.store.bump_generation(stale)
                if self.sync_on_commit:
                    self.bm25.sync(self.store)
        self.bm25.sync(self.store)
        report.seconds = time.perf_counter() - started
        return report

    def _commit(self, items: list, replacing: set[str]) -> None:
        """Switch records to the new versions (the generation with them), then drop the old."""
        with self.commit_guard():
            self.store.commit(items)
            # Every BM25 cache is now stale, even after a crash; the log says where.
            self.store.bump_generation(meta.doc_id for meta, _, _ in items)
            if self.sync_on_commit:
                self.bm25.sync(self.store)
        self.store.drop_superseded(items, replacing)

    def _write(
        self,
        changed: list[tuple[SourceDocument, str]],
        replacing: set[str],
        progress: Progress | None,
        report: IngestReport,
    ) -> int:
        """Chunk all changed documents, embed across documents in full batches, then store
        each group in a few Chroma calls (per-call overhead dominated ingest otherwise).

        Only chunk texts the store has no vector for are embedded: an edited document keeps
        most of its chunks (``Chunker`` is edit-stable), and a syndicated copy repeats
        another document's paragraphs, so their stored vectors are reused by text hash.
        """
        plans = [(doc, digest, self.chunker.split(doc.text)) for doc, digest in changed]
        self.split_cache.save(self.chunker)
        total_chunks = sum(len(chunks) for _, _, chunks in plans)
        done = 0
        for group in _batches(plans, self.settings.embed_batch_size * 8):
            texts = [c.text for _, _, chunks in group for c in chunks]
            vectors = iter(
                self._vectors(texts, group, replacing, report, done, total_chunks, progress)
            )
            items = []
            for doc, digest, chunks in group:
                meta = DocumentMeta(
                    doc_id=doc.doc_id,
                    title=doc.title,
                    date=doc.date,
                    source=doc.source,
                    url=doc.url,
                    content_hash=digest,
                    n_chunks=len(chunks),
                    page_kind=doc.page_kind,
                    page_starts=doc.page_starts,
                    attached_to=doc.attached_to,
                    hidden_text=[text[:MAX_HIDDEN_CHARS] for text in doc.hidden_text][:MAX_HIDDEN],
                )
                records = [
                    ChunkRecord(
                        c.index,
                        c.text,
                        c.start_char,
                        c.end_char,
                        next(vectors),
                        page=meta.page_at(c.start_char),
                    )
                    for c in chunks
                ]
                items.append((meta, doc.text, records))
                done += len(records)
            self.store.write_chunks(items)  # invisible to readers until the commit
            self._commit(items, replacing)
            if progress:
                progress(done, total_chunks)
        report.chunks_reused = done - report.chunks_embedded
        return done

    def _vectors(
        self,
        texts: list[str],
        group: list[tuple[SourceDocument, str, list]],
        replacing: set[str],
        report: IngestReport,
        done: int,
        total: int,
        progress: Progress | None,
    ) -> list[list[float]]:
        """One vector per text: stored ones by text hash (also from the old versions of the
        documents being replaced, which may predate ``text_hash``), the misses embedded once
        each even when a text repeats within the run."""
        keys = [text_hash(t) for t in texts]
        old = [doc.doc_id for doc, _, _ in group if doc.doc_id in replacing]
        known = self.store.vectors_for(keys, old) if texts else {}
        misses = {k: t for k, t in zip(keys, texts, strict=True) if k not in known}
        if misses:
            embedded = self._embed(list(misses.values()), done, total, progress)
            known.update(zip(misses, embedded, strict=True))
            report.chunks_embedded += len(misses)
        return [known[k] for k in keys]

    def _embed(
        self, texts: list[str], done: int, total: int, progress: Progress | None
    ) -> list[list[float]]:
        """Vectors in slices (one huge document is one group), reporting each slice: the
        embedder is held for one slice at a time and a job's progress moves within a file."""
        step = max(1, self.settings.embed_batch_size * 4)
        vectors: list[list[float]] = []
        for i in range(0, len(texts), step):
            vectors += self.embedder.embed_documents(texts[i : i + step])
            if progress and i + step < len(texts):
                progress(done + len(vectors), total)
        return vectors

    def stored(self, doc_id: str) -> tuple[DocumentMeta, str] | None:
        """A stored document's metadata and cleaned text, or None (what an edit starts from)."""
        return self.store.get_documents([doc_id]).get(doc_id)

    def delete(self, doc_id: str) -> bool:
        with self._writing, self.commit_guard():
            existed = self.store.delete_document(doc_id)
            if existed:
                self.bm25.drop_document(doc_id, self.store.bump_generation([doc_id]))
        if existed:
            for hook in self.on_delete:
                hook(doc_id)
        return existed


def _batches(
    plans: Iterable[tuple[SourceDocument, str, list]], max_chunks: int
) -> Iterator[list[tuple[SourceDocument, str, list]]]:
    """Group whole documents so each embedding call sees about ``max_chunks`` chunks."""
    group: list[tuple[SourceDocument, str, list]] = []
    size = 0
    for plan in plans:
        group.append(plan)
        size += len(plan[2])
        if size >= max_chunks:
            yield group
            group, size = [], 0
    if group:
        yield group

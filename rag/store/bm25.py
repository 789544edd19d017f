"""A BM25 index over the chunks, kept in step with Chroma (which has no lexical search locally).

The index is a cache of the store's committed chunks at one generation. It catches up in one of
two ways (``sync``):
- incrementally, when the store's change log (``ChromaStore.changes_since``) names the documents
  written since: their old chunks are masked out of the main bm25s index and their new chunks
  join a small *delta* scored with the same BM25 formula (Lucene idf and tf saturation, the
  main index's average length), so a one-document write on another replica costs a read of
  that document, not a rebuild (24 s at 100k chunks);
- in full, when the log can't say (a reader too far behind, a fork between two writers) or the
  delta outgrows ``_DELTA_SHARE`` of the index; the rebuild is persisted under
  ``data_dir/bm25`` so a restart loads it and catches up from the log.
idf counts a masked chunk until the next rebuild, and the main index's own idf is the one of
its build: small drifts that do not reorder what matters (tests compare with a rebuild).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from rag.schema import Filters, RetrievedChunk
from rag.store.base import Store
from rag.store.chroma import date_number
from rag.text import terms

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s logs every index build at DEBUG

# bm25s's defaults (method "lucene"), which the delta's scoring repeats.
K1, B = 1.5, 0.75
_DELTA_SHARE = 0.1  # rebuild once the delta holds this share of the main index...
_MIN_DELTA = 500  # ...or this many chunks, whichever is larger (a rebuild is cheap below)


@dataclass(frozen=True)
class _Delta:
    """Chunks added since the build, as postings (term -> [(row, tf)]) with their lengths."""

    chunks: list[RetrievedChunk] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    postings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    @classmethod
    def of(cls, chunks: list[RetrievedChunk], tokens: list[list[str]]) -> _Delta:
        postings: dict[str, list[tuple[int, int]]] = {}
        for row, toks in enumerate(tokens):
            for term, tf in Counter(toks).items():
                postings.setdefault(term, []).append((row, tf))
        return cls(chunks, tokens, postings)


class BM25Index:
    """bm25s over stemmed content terms; filters become a weight mask over chunks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.generation: str | None = None
        self.chunks: list[RetrievedChunk] = []
        self.rebuilds = 0  # full builds by this object (tests and benches read it)
        self._bm25: bm25s.BM25 | None = None
        self._vocab: set[str] = set()
        self._df: Counter[str] = Counter()  # the main index's, as built
        self._avgdl = 1.0
        self._rows: dict[str, list[int]] = {}  # doc_id -> rows of the main index
        self._alive: np.ndarray | None = None  # tombstones: 0 for chunks replaced since the build
        self._delta = _Delta()
        self._built: str | None = None  # the generation of the build saved on disk
        self._lock = threading.Lock()

    # --- building ----------------------------------------------------------------------
    def build(self, chunks: list[RetrievedChunk], generation: str) -> None:
        bm25: bm25s.BM25 | None = None
        tokenized = [_tokens(c.text) for c in chunks]
        if chunks:
            bm25 = bm25s.BM25(k1=K1, b=B)
            bm25.index(tokenized, show_progress=False)
        df = Counter(t for toks in tokenized for t in set(toks))
        avgdl = sum(map(len, tokenized)) / len(tokenized) if tokenized else 1.0
        self._install(chunks, bm25, generation, df, avgdl)
        self._built = None  # not on disk until ``_save``
        self.rebuilds += 1

    def _install(
        self,
        chunks: list[RetrievedChunk],
        bm25: bm25s.BM25 | None,
        generation: str,
        df: Counter[str],
        avgdl: float,
    ) -> None:
        rows: dict[str, list[int]] = {}
        for i, chunk in enumerate(chunks):
            rows.setdefault(chunk.doc_id, []).append(i)
        with self._lock:
            self.chunks, self._bm25, self.generation, self._df = chunks, bm25, generation, df
            self._vocab = set(bm25.vocab_dict) if bm25 is not None else set()
            self._avgdl, self._rows = avgdl, rows
            self._alive, self._delta = None, _Delta()

    def apply(self, changed: set[str], fresh: list[RetrievedChunk], generation: str) -> bool:
        """Replace the chunks of ``changed`` documents with ``fresh`` (their committed chunks
        now; none for a deleted document). Idempotent. False (nothing done) when the delta
        would outgrow its share: the caller rebuilds instead."""
        with self._lock:
            alive, delta, rows = self._alive, self._delta, self._rows
            size = len(self.chunks)
        kept = [i for i, c in enumerate(delta.chunks) if c.doc_id not in changed]
        chunks = [delta.chunks[i] for i in kept] + fresh
        if len(chunks) > max(_MIN_DELTA, _DELTA_SHARE * size):
            return False
        tokens = [delta.tokens[i] for i in kept] + [_tokens(c.text) for c in fresh]
        mask = np.ones(size, dtype=np.float32) if alive is None else alive.copy()
        for doc_id in changed:
            mask[rows.get(doc_id, [])] = 0.0
        new_delta = _Delta.of(chunks, tokens)
        with self._lock:
            self._alive, self._delta, self.generation = mask, new_delta, generation
        return True

    def drop_document(self, doc_id: str, generation: str) -> None:
        """Forget one document's chunks without a rebuild (a deleted document)."""
        self.apply({doc_id}, [], generation)

    def live_chunks(self) -> list[RetrievedChunk]:
        """Indexed chunks: the main index's minus those replaced since, plus the delta."""
        with self._lock:
            chunks, alive, delta = self.chunks, self._alive, self._delta
        main = (
            list(chunks)
            if alive is None
            else [c for c, keep in zip(chunks, alive, strict=True) if keep]
        )
        return main + delta.chunks

    def idf(self, term: str) -> float:
        """BM25's idf over chunks; a term no chunk contains gets the highest weight."""
        with self._lock:
            delta = self._delta
            n = max(len(self.chunks) + len(delta.chunks), 1)
            df = self._df.get(term, 0) + len(delta.postings.get(term, ()))
        return _idf(df, n)

    def sync(self, store: Store) -> None:
        """Bring the index up to the store's generation: from the change log if it can say
        what changed, else load from disk or rebuild."""
        generation = store.generation()
        if generation == self.generation:
            return
        if self.generation is None:
            self._load()
            if self.generation == generation:
                return
        if self.generation is not None:
            changed = store.changes_since(self.generation, generation)
            few = changed is not None and len(changed) <= max(100, _DELTA_SHARE * len(self._rows))
            if few and self.apply(changed, store.chunks_of(changed), generation):
                self._save_delta()
                return
        self.build(store.all_chunks(), generation)
        self._save()

    def _save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp / "index"), show_progress=False)
        (tmp / "chunks.json").write_text(
            json.dumps(
                {
                    "generation": self.generation,
                    "chunks": [c.model_dump() for c in self.chunks],
                    "df": self._df,
                    "avgdl": self._avgdl,
                }
            )
        )
        (tmp / "generation").write_text(self.generation or "")
        self._built = self.generation
        # Swap directories so a crash never leaves a half-written index behind.
        old = self.path.with_name(self.path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            self.path.rename(old)
        tmp.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)

    def _save_delta(self) -> None:
        """Persist what changed since the build (small: the main files stay as they are), so
        a restart resumes here; it is ignored unless it extends the build on disk."""
        with self._lock:
            alive, delta, generation, built = self._alive, self._delta, self.generation, self._built
        if built is None or not self.path.is_dir():
            return
        dead = [] if alive is None else np.flatnonzero(alive == 0).tolist()
        changed = {self.chunks[i].doc_id for i in dead} | {c.doc_id for c in delta.chunks}
        payload = {
            "base": built,
            "generation": generation,
            "changed": sorted(changed),
            "chunks": [c.model_dump() for c in delta.chunks],
        }
        _write_atomic(self.path / "delta.json", json.dumps(payload))
        _write_atomic(self.path / "generation", generation or "")

    def saved_generation(self) -> str | None:
        """The generation the index on disk was built at (``briefqa doctor`` reports it)."""
        try:
            return (self.path / "generation").read_text() or None
        except OSError:
            return None

    def _load(self) -> bool:
        """Load the index saved on disk, whatever its generation (``sync`` catches it up)."""
        meta = self.path / "chunks.json"
        try:
            saved = json.loads(meta.read_text())
            chunks = [RetrievedChunk(**c) for c in saved["chunks"]]
            df = Counter(saved["df"])
            avgdl = float(saved.get("avgdl", 1.0))
            bm25 = (
                bm25s.BM25.load(str(self.path / "index"), show_progress=False) if chunks else None
            )
        except (OSError, ValueError, KeyError) as exc:
            log.info("BM25 index at %s not reusable (%s); rebuilding", self.path, exc)
            return False
        self._install(chunks, bm25, str(saved["generation"]), df, avgdl)
        self._built = self.generation
        self._load_delta()
        return True

    def _load_delta(self) -> None:
        """Re-apply the delta ``_save_delta`` wrote on top of the build just loaded."""
        try:
            saved = json.loads((self.path / "delta.json").read_text())
            if saved["base"] != self._built:
                return
            fresh = [RetrievedChunk(**c) for c in saved["chunks"]]
            changed, generation = set(saved["changed"]), str(saved["generation"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        self.apply(changed, fresh, generation)

    # --- querying ----------------------------------------------------------------------
    def search(self, query: str, k: int, filters: Filters | None = None) -> list[RetrievedChunk]:
        with self._lock:
            bm25, chunks, vocab, alive = self._bm25, self.chunks, self._vocab, self._alive
            delta, df, avgdl = self._delta, self._df, self._avgdl
        words = terms(query)
        if k <= 0 or not words:
            return []
        scored: list[tuple[float, RetrievedChunk]] = []
        q = [t for t in words if t in vocab]
        if bm25 is not None and q:
            mask = _mask(chunks, filters)
            if alive is not None:
                mask = alive if mask is None else mask * alive
            ids, scores = bm25.retrieve(
                [q], k=min(k, len(chunks)), show_progress=False, weight_mask=mask, n_threads=1
            )
            scored += [
                (float(s), chunks[int(i)]) for i, s in zip(ids[0], scores[0], strict=True) if s > 0
            ]
        if delta.chunks:
            n = len(chunks) + len(delta.chunks)
            scored += _score_delta(delta, words, filters, df, n, avgdl)
        scored.sort(key=lambda sc: -sc[0])
        return [
            c.model_copy(update={"score": score, "bm25_score": score}) for score, c in scored[:k]
        ]


def _tokens(text: str) -> list[str]:
    """A chunk's BM25 terms; an empty chunk gets a placeholder bm25s can index."""
    return terms(text) or ["\u2205"]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _idf(df: int, n: int) -> float:
    """Lucene's idf, as bm25s computes it."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def _score_delta(
    delta: _Delta,
    words: list[str],
    filters: Filters | None,
    df: Counter[str],
    n: int,
    avgdl: float,
) -> list[tuple[float, RetrievedChunk]]:
    """BM25 (Lucene variant, bm25s's k1 and b) of the delta's chunks, from their postings."""
    keep = _mask(delta.chunks, filters)
    scores: dict[int, float] = {}
    for term in words:
        postings = delta.postings.get(term)
        if not postings:
            continue
        idf = _idf(df.get(term, 0) + len(postings), n)
        for row, tf in postings:
            norm = K1 * ((1 - B) + B * len(delta.tokens[row]) / avgdl)
            scores[row] = scores.get(row, 0.0) + idf * tf / (norm + tf)
    return [
        (score, delta.chunks[row])
        for row, score in scores.items()
        if score > 0 and (keep is None or keep[row])
    ]


def _mask(chunks: list[RetrievedChunk], filters: Filters | None) -> np.ndarray | None:
    if filters is None:
        return None
    lo, hi = date_number(filters.date_from), date_number(filters.date_to)
    sources = set(filters.sources or [])
    doc_ids = set(filters.doc_ids or [])

    def keep(c: RetrievedChunk) -> bool:
        if sources and c.source not in sources:
            return False
        if doc_ids and c.doc_id not in doc_ids:
            return False
        d = date_number(c.date)
        if d is None and filters.include_undated:
            return True
        if lo is not None and (d is None or d < lo):
            return False
        return not (hi is not None and (d is None or d > hi))

    return np.array([1.0 if keep(c) else 0.0 for c in chunks], dtype=np.float32)

"""A BM25 index over the chunks, kept in step with Chroma (which has no lexical search locally).

The index is a cache: it is rebuilt from the chunks in Chroma whenever the store's generation
token differs from the one it was built at, and persisted under ``data_dir/bm25`` so a restart
loads it instead of rebuilding. Any process (CLI, API replicas) converges on the same index.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import threading
from collections import Counter
from pathlib import Path

import bm25s
import numpy as np

from rag.schema import Filters, RetrievedChunk
from rag.store.chroma import ChromaStore, date_number
from rag.text import terms

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s logs every index build at DEBUG


class BM25Index:
    """bm25s over stemmed content terms; filters become a weight mask over chunks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.generation: str | None = None
        self.chunks: list[RetrievedChunk] = []
        self._bm25: bm25s.BM25 | None = None
        self._vocab: set[str] = set()
        self._df: Counter[str] = Counter()
        self._alive: np.ndarray | None = None  # tombstones: 0 for chunks deleted since the build
        self._lock = threading.Lock()

    # --- building ----------------------------------------------------------------------
    def build(self, chunks: list[RetrievedChunk], generation: str) -> None:
        bm25: bm25s.BM25 | None = None
        tokenized = [terms(c.text) or ["\u2205"] for c in chunks]
        if chunks:
            bm25 = bm25s.BM25()
            bm25.index(tokenized, show_progress=False)
        df = Counter(t for toks in tokenized for t in set(toks))
        self._install(chunks, bm25, generation, df)

    def _install(
        self,
        chunks: list[RetrievedChunk],
        bm25: bm25s.BM25 | None,
        generation: str,
        df: Counter[str],
    ) -> None:
        with self._lock:
            self.chunks, self._bm25, self.generation, self._df = chunks, bm25, generation, df
            self._vocab = set(bm25.vocab_dict) if bm25 is not None else set()
            self._alive = None

    def drop_document(self, doc_id: str, generation: str) -> None:
        """Forget one document's chunks without a rebuild (a rebuild is ~40 s at 100k chunks).

        Its chunks are masked out of scoring and the index adopts the store's new generation;
        idf keeps counting them until the next rebuild, which is harmless for ranking.
        """
        with self._lock:
            alive = (
                np.ones(len(self.chunks), dtype=np.float32)
                if self._alive is None
                else self._alive.copy()
            )
            for i, chunk in enumerate(self.chunks):
                if chunk.doc_id == doc_id:
                    alive[i] = 0.0
            self._alive, self.generation = alive, generation

    def live_chunks(self) -> list[RetrievedChunk]:
        """Indexed chunks minus those of documents dropped since the last build."""
        with self._lock:
            chunks, alive = self.chunks, self._alive
        if alive is None:
            return list(chunks)
        return [c for c, keep in zip(chunks, alive, strict=True) if keep]

    def idf(self, term: str) -> float:
        """BM25's idf over chunks; a term no chunk contains gets the highest weight."""
        n = max(len(self.chunks), 1)
        df = self._df.get(term, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def sync(self, store: ChromaStore) -> None:
        """Bring the index up to the store's generation: load from disk or rebuild."""
        generation = store.generation()
        if generation == self.generation:
            return
        if self._load(generation):
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
                }
            )
        )
        # Swap directories so a crash never leaves a half-written index behind.
        old = self.path.with_name(self.path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            self.path.rename(old)
        tmp.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)

    def _load(self, generation: str) -> bool:
        meta = self.path / "chunks.json"
        try:
            saved = json.loads(meta.read_text())
            if saved.get("generation") != generation:
                return False
            chunks = [RetrievedChunk(**c) for c in saved["chunks"]]
            df = Counter(saved["df"])
            bm25 = (
                bm25s.BM25.load(str(self.path / "index"), show_progress=False) if chunks else None
            )
        except (OSError, ValueError, KeyError) as exc:
            log.info("BM25 index at %s not reusable (%s); rebuilding", self.path, exc)
            return False
        self._install(chunks, bm25, generation, df)
        return True

    # --- querying ----------------------------------------------------------------------
    def search(self, query: str, k: int, filters: Filters | None = None) -> list[RetrievedChunk]:
        with self._lock:
            bm25, chunks, vocab, alive = self._bm25, self.chunks, self._vocab, self._alive
        q = [t for t in terms(query) if t in vocab]
        if bm25 is None or not q or k <= 0:
            return []
        mask = _mask(chunks, filters)
        if alive is not None:
            mask = alive if mask is None else mask * alive
        k = min(k, len(chunks))
        ids, scores = bm25.retrieve([q], k=k, show_progress=False, weight_mask=mask, n_threads=1)
        out = []
        for idx, score in zip(ids[0], scores[0], strict=True):
            if score <= 0:
                break
            out.append(
                chunks[int(idx)].model_copy(
                    update={"score": float(score), "bm25_score": float(score)}
                )
            )
        return out


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

"""Retrieval latency (dense, BM25, hybrid) and memory at 1k, 10k and 100k chunks.

Each size runs in its own child process (so RSS figures do not carry over between sizes) on
a synthetic store in a temporary directory: random unit 384-d vectors and texts drawn from a
Zipf-distributed pseudo-word vocabulary, written straight through ``ChromaStore.write_document``
in big batches. Queries are distinct pseudo-word phrases embedded by the real embedder; each
mode gets its own query set, so the embedder's LRU cache never hides the query embedding
(except in the ``hybrid, cached query`` row, which repeats the hybrid set on purpose).

Goals: hybrid p50 <= 30 ms at 10k and <= 60 ms at 100k; growth sub-linear.

    python bench/retrieval.py [--sizes 1000,10000,100000] [--queries 100] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.common import (
    PhaseTimer,
    dir_size_mb,
    emit_json,
    format_table,
    machine_info,
    peak_rss_mb,
    percentile,
    round_floats,
    rss_mb,
)
from rag.config import Settings

DIM = 384
GOALS_MS = {10_000: 30.0, 100_000: 60.0}
# The steps of HybridRetriever.retrieve, timed one by one.
PARTS = ("embed query", "chroma query", "store.generation", "bm25 search", "rrf", "collapse")
PART_KEYS = tuple(p.replace(" ", "_").replace(".", "_") for p in PARTS)
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aiou"  # words end in a vowel, so rag.text.stem leaves them as they are


def write_synthetic(
    store: Any,
    doc_id: str,
    title: str,
    texts: list[str],
    vectors: np.ndarray,
    date: str = "2026-01-01",
    source: str = "bench",
) -> None:
    """One synthetic document straight into the store: its chunk texts joined by spaces (so
    offsets are exact), the given vectors, its id as its content hash."""
    from rag.schema import DocumentMeta
    from rag.store.chroma import ChunkRecord

    records, offset = [], 0
    for i, (text, vec) in enumerate(zip(texts, vectors, strict=True)):
        records.append(ChunkRecord(i, text, offset, offset + len(text), vec.tolist()))
        offset += len(text) + 1
    meta = DocumentMeta(
        doc_id=doc_id,
        title=title,
        date=date,
        source=source,
        content_hash=doc_id,
        n_chunks=len(texts),
    )
    store.write_document(meta, " ".join(texts), records)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chunk counts")
    p.add_argument("--queries", type=int, default=100, help="timed queries per mode and size")
    p.add_argument("--warmup", type=int, default=10, help="untimed queries before each mode")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: settings)")
    p.add_argument("--vocab", type=int, default=30_000, help="pseudo-words in the vocabulary")
    p.add_argument("--zipf", type=float, default=1.07, help="Zipf exponent of word frequencies")
    p.add_argument("--doc-chunks", type=int, default=1000, help="chunks per synthetic document")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", type=Path, default=None, help="build stores here and keep them")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --- synthetic data ----------------------------------------------------------------------
class Corpus:
    """Pseudo-word vocabulary with Zipf frequencies; chunk texts and query phrases from it."""

    def __init__(self, vocab: int, exponent: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        syllables = [c + v for c in _CONSONANTS for v in _VOWELS]
        n_words = len(syllables) ** 3
        if vocab > n_words:
            raise SystemExit(f"--vocab at most {n_words}")
        picks = rng.choice(n_words, size=vocab, replace=False)
        s = len(syllables)
        self.words = np.array(
            [syllables[i // (s * s)] + syllables[(i // s) % s] + syllables[i % s] for i in picks]
        )
        weights = 1.0 / np.arange(1, vocab + 1) ** exponent
        self.p = weights / weights.sum()
        self.rng = rng

    def texts(self, n: int) -> list[str]:
        """Chunk-like texts: 40-180 words (mean ~110), like a 180-token chunk of prose."""
        lengths = np.clip(self.rng.normal(110, 30, size=n), 40, 180).astype(int)
        flat = self.rng.choice(len(self.words), size=int(lengths.sum()), p=self.p)
        out, pos = [], 0
        for length in lengths:
            out.append(" ".join(self.words[flat[pos : pos + length]]) + ".")
            pos += length
        return out

    def queries(self, n: int, lo_rank: int = 20, hi_rank: int = 5000) -> list[str]:
        """Distinct 3-6 word phrases of mid-frequency words (question content terms)."""
        band = self.p[lo_rank:hi_rank] / self.p[lo_rank:hi_rank].sum()
        seen: set[str] = set()
        out: list[str] = []
        while len(out) < n:
            k = int(self.rng.integers(3, 7))
            idx = lo_rank + self.rng.choice(len(band), size=k, replace=False, p=band)
            q = " ".join(self.words[idx])
            if q not in seen:
                seen.add(q)
                out.append(q)
        return out


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# --- one size (child process) ------------------------------------------------------------
def latencies(fn: Callable[[str], Any], queries: list[str], warmup: int) -> list[float]:
    """Milliseconds per call over ``queries[warmup:]`` after ``queries[:warmup]`` untimed."""
    for q in queries[:warmup]:
        fn(q)
    out = []
    for q in queries[warmup:]:
        started = time.perf_counter()
        fn(q)
        out.append(1000.0 * (time.perf_counter() - started))
    return out


@dataclass
class _SizeMeasures:
    """``run_size``'s build, BM25 and memory measurements, gathered for its figures."""

    write_s: float
    rebuild_s: float
    rebuild: dict[str, float]
    load_s: float
    rss_model: float
    rss_ready: float


def run_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Build an ``n``-chunk store, time the retrieval modes, and measure memory."""
    from rag.embed import Embedder, configure_torch
    from rag.retrieve import HybridRetriever
    from rag.store.bm25 import BM25Index
    from rag.store.chroma import ChromaStore

    root, settings = _size_settings(n, args)
    configure_torch(settings.torch_threads)
    embedder = Embedder(settings)
    embedder.embed_query("warm up the model")
    rss_model = rss_mb()

    # Build: synthetic chunks written through the store, in documents of --doc-chunks.
    corpus = Corpus(args.vocab, args.zipf, args.seed)
    vec_rng = np.random.default_rng(args.seed + 1)
    store = ChromaStore(settings)
    write_s, generation = _write_synthetic_store(n, args, store, corpus, vec_rng)

    # BM25: the rebuild every process pays after any change, then the reload after a restart.
    rebuild_s, rebuild = _bm25_rebuild(settings, store)
    store = ChromaStore(settings)
    bm25 = BM25Index(settings.bm25_path / settings.collection)
    started = time.perf_counter()
    bm25.sync(store)
    load_s = time.perf_counter() - started
    if bm25.generation != generation or len(bm25.chunks) != n:
        raise SystemExit(f"BM25 did not load the index it saved ({len(bm25.chunks)} chunks)")
    gc.collect()
    rss_ready = rss_mb()

    retriever = HybridRetriever(settings, store, embedder, bm25)
    lat, parts, fused_sizes = _query_latencies(args, settings, corpus, retriever)
    measures = _SizeMeasures(write_s, rebuild_s, rebuild, load_s, rss_model, rss_ready)
    out = _size_figures(n, settings, lat, parts, fused_sizes, measures)
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return out


def _size_settings(n: int, args: argparse.Namespace) -> tuple[Path, Settings]:
    """An emptied store directory for size ``n`` and settings pinned to it."""
    root = args.keep / f"n{n}" if args.keep else Path(tempfile.mkdtemp(prefix="briefqa-bench-ret-"))
    shutil.rmtree(root, ignore_errors=True)
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    settings = base.model_copy(
        update={
            "data_dir": root,
            "chroma_url": None,
            "collection": "bench-retrieval",
            "torch_threads": args.threads or base.torch_threads,
        }
    )
    return root, settings


def _write_synthetic_store(
    n: int, args: argparse.Namespace, store: Any, corpus: Corpus, vec_rng: np.random.Generator
) -> tuple[float, int]:
    """Write ``n`` synthetic chunks into ``store``: seconds taken and the new generation."""
    started = time.perf_counter()
    written = 0
    while written < n:
        m = min(args.doc_chunks, n - written)
        texts = corpus.texts(m)
        vectors = unit_vectors(vec_rng, m)
        doc_id = f"synthetic-{written // args.doc_chunks:05d}"
        write_synthetic(store, doc_id, f"Synthetic briefing {doc_id}", texts, vectors)
        written += m
        print(f"  n={n}: wrote {written} chunks", file=sys.stderr, end="\r")
    write_s = time.perf_counter() - started
    print(file=sys.stderr)
    generation = store.bump_generation()
    del texts, vectors
    gc.collect()
    return write_s, generation


def _bm25_rebuild(settings: Settings, store: Any) -> tuple[float, dict[str, float]]:
    """The full BM25 rebuild from ``store``: seconds, and seconds per instrumented step."""
    from rag.store.bm25 import BM25Index

    timer = PhaseTimer()
    bm25 = BM25Index(settings.bm25_path / settings.collection)
    timer.wrap(store, "all_chunks", "store.all_chunks")
    timer.wrap(bm25, "build", "bm25.build")
    timer.wrap(bm25, "_save", "bm25.save")
    started = time.perf_counter()
    bm25.sync(store)
    rebuild_s = time.perf_counter() - started
    rebuild = {k.strip(): s for k, s in timer.seconds.items()}
    del bm25
    gc.collect()
    return rebuild_s, rebuild


def _query_latencies(
    args: argparse.Namespace, settings: Settings, corpus: Corpus, retriever: Any
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[int]]:
    """Per-mode query latencies, then the hybrid query's steps timed one by one."""
    k = settings.top_k
    pool = max(3 * k, 20)  # what HybridRetriever.retrieve asks each retriever for
    per_set = args.warmup + args.queries
    sets = corpus.queries(4 * per_set)
    q_dense, q_bm25, q_hybrid, q_parts = (sets[i * per_set : (i + 1) * per_set] for i in range(4))

    lat: dict[str, list[float]] = {
        "dense": latencies(lambda q: retriever.dense(q, pool), q_dense, args.warmup),
        "bm25": latencies(lambda q: retriever.lexical(q, pool), q_bm25, args.warmup),
        "hybrid": latencies(lambda q: retriever.retrieve(q, k), q_hybrid, args.warmup),
        "hybrid_cached": latencies(lambda q: retriever.retrieve(q, k), q_hybrid, args.warmup),
    }
    parts, fused_sizes = _hybrid_steps(q_parts, args.warmup, retriever, pool)
    return lat, parts, fused_sizes


def _hybrid_steps(
    q_parts: list[str], warmup: int, retriever: Any, pool: int
) -> tuple[dict[str, list[float]], list[int]]:
    """Milliseconds per step of a hybrid query, and the fused pool's size, after ``warmup``."""
    from rag.retrieve import collapse_near_duplicates, rrf_fuse

    settings, store = retriever.settings, retriever.store
    embedder, bm25 = retriever.embedder, retriever.bm25
    # The same hybrid query, step by step (fresh queries, so embedding is uncached).
    parts: dict[str, list[float]] = {
        p: []
        for p in (
            "embed query",
            "chroma query",
            "store.generation",
            "bm25 search",
            "rrf",
            "collapse",
        )
    }
    fused_sizes = []
    for i, q in enumerate(q_parts):
        t0 = time.perf_counter()
        vec = embedder.embed_query(q)
        t1 = time.perf_counter()
        dense = store.query(vec, pool)
        t2 = time.perf_counter()
        store.generation()
        t3 = time.perf_counter()
        lexical = bm25.search(q, pool)
        t4 = time.perf_counter()
        fused = rrf_fuse([dense, lexical], settings.rrf_k)
        t5 = time.perf_counter()
        collapse_near_duplicates(fused)
        t6 = time.perf_counter()
        if i >= warmup:
            for name, a, b in zip(
                parts, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6), strict=True
            ):
                parts[name].append(1000.0 * (b - a))
            fused_sizes.append(len(fused))
    return parts, fused_sizes


def _size_figures(
    n: int,
    settings: Settings,
    lat: dict[str, list[float]],
    parts: dict[str, list[float]],
    fused_sizes: list[int],
    m: _SizeMeasures,
) -> dict[str, Any]:
    """One size's figures (the child's JSON object); memory and disk are read now."""
    out: dict[str, Any] = {"n": n}
    for mode, values in lat.items():
        out[f"{mode}_p50_ms"] = percentile(values, 50)
        out[f"{mode}_p95_ms"] = percentile(values, 95)
    for name, values in parts.items():
        out[f"part_{PART_KEYS[PARTS.index(name)]}_p50_ms"] = percentile(values, 50)
    out.update(
        {
            "fused_pool_mean": float(np.mean(fused_sizes)),
            "write_s": m.write_s,
            "write_chunks_per_s": n / m.write_s,
            "bm25_rebuild_s": m.rebuild_s,
            "bm25_rebuild_all_chunks_s": m.rebuild.get("store.all_chunks", math.nan),
            "bm25_rebuild_build_s": m.rebuild.get("bm25.build", math.nan),
            "bm25_rebuild_save_s": m.rebuild.get("bm25.save", math.nan),
            "bm25_load_s": m.load_s,
            "rss_model_mb": m.rss_model,
            "rss_ready_mb": m.rss_ready,
            "rss_mb": rss_mb(),
            "peak_rss_mb": peak_rss_mb(),
            "chroma_mb": dir_size_mb(settings.chroma_path),
            "bm25_mb": dir_size_mb(settings.bm25_path),
            "torch_threads": settings.torch_threads,
        }
    )
    return out


# --- the parent: one child per size, then the tables -----------------------------------------
def _label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def run_child(n: int, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(n), "--json"]
    for flag in ("queries", "warmup", "threads", "vocab", "zipf", "doc_chunks", "seed", "keep"):
        value = getattr(args, flag)
        if value is not None:
            cmd += [f"--{flag.replace('_', '-')}", str(value)]
    started = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"size {n} failed (exit {done.returncode})")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - started
    print(f"size {n}: done in {figures['wall_s']:.0f} s", file=sys.stderr)
    return figures


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    cols = [_label(r["n"]) for r in results]
    print()
    print("Retrieval benchmark", machine_info(results[0]["torch_threads"]))
    print(f"{args.queries} timed queries per mode after {args.warmup} warm-up; k=8, pool=24")
    print()
    _print_latencies(results, cols)

    print("\nHybrid retrieve, step by step (p50 ms, fresh queries)")
    part_keys = [f"part_{p}_p50_ms" for p in PART_KEYS]
    print(
        format_table(
            ["step", *cols],
            [[name, *(r[k] for r in results)] for name, k in zip(PARTS, part_keys, strict=True)]
            + [["fused pool (chunks collapsed)", *(r["fused_pool_mean"] for r in results)]],
        )
    )

    _print_build_and_memory(results, cols)

    if len(results) > 1:
        a, b = results[0], results[-1]
        growth = b["hybrid_p50_ms"] / a["hybrid_p50_ms"]
        print(
            f"\nhybrid p50 grows {growth:.2f}x for {b['n'] / a['n']:.0f}x the chunks "
            f"({'sub-linear' if growth < b['n'] / a['n'] else 'NOT sub-linear'})"
        )

    figures: dict[str, Any] = {}
    for r in results:
        tag = _label(r["n"])
        for key, value in r.items():
            if key != "n":
                figures[
                    f"{key.replace('_ms', '')}_ms_{tag}" if key.endswith("_ms") else f"{key}_{tag}"
                ] = value
    return figures


def _print_latencies(results: list[dict[str, Any]], cols: list[str]) -> None:
    """The latency table: p50/p95 per mode and size, and the hybrid p50 goals."""
    rows: list[list[Any]] = []
    for mode, name in (
        ("dense", "dense (embed + Chroma)"),
        ("bm25", "BM25 (sync check + search)"),
        ("hybrid", "hybrid retrieve"),
        ("hybrid_cached", "hybrid, cached query vector"),
    ):
        for q in ("p50", "p95"):
            rows.append([f"{name} {q} (ms)", *(r[f"{mode}_{q}_ms"] for r in results)])
    for n, goal in GOALS_MS.items():
        for r in results:
            if r["n"] == n:
                ok = "yes" if r["hybrid_p50_ms"] <= goal else "NO"
                rows.append(
                    [f"goal: hybrid p50 <= {goal:.0f} ms at {_label(n)}", *_only(r, results, ok)]
                )
    print(format_table(["latency", *cols], rows))


def _print_build_and_memory(results: list[dict[str, Any]], cols: list[str]) -> None:
    """The build, BM25 and memory table, one column per size."""
    print("\nBuild, BM25 and memory")
    fields = [
        ("Chroma write (s)", "write_s"),
        ("Chroma write (chunks/s)", "write_chunks_per_s"),
        ("BM25 rebuild total (s)", "bm25_rebuild_s"),
        ("  store.all_chunks (s)", "bm25_rebuild_all_chunks_s"),
        ("  bm25.build (s)", "bm25_rebuild_build_s"),
        ("  bm25.save (s)", "bm25_rebuild_save_s"),
        ("BM25 load after restart (s)", "bm25_load_s"),
        ("RSS, model loaded (MiB)", "rss_model_mb"),
        ("RSS, store + BM25 ready (MiB)", "rss_ready_mb"),
        ("RSS after queries (MiB)", "rss_mb"),
        ("peak RSS (MiB)", "peak_rss_mb"),
        ("Chroma on disk (MiB)", "chroma_mb"),
        ("BM25 on disk (MiB)", "bm25_mb"),
        ("child wall time (s)", "wall_s"),
    ]
    print(format_table(["figure", *cols], [[t, *(r[k] for r in results)] for t, k in fields]))


def _only(r: dict[str, Any], results: list[dict[str, Any]], text: str) -> list[str]:
    return [text if other is r else "" for other in results]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.child is not None:
        figures = run_size(args.child, args)
        emit_json(round_floats(figures))
        return figures
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    started = time.perf_counter()
    results = [run_child(n, args) for n in sizes]
    figures = report(results, args)
    figures["total_wall_s"] = time.perf_counter() - started
    print(f"\ntotal wall time {figures['total_wall_s']:.0f} s")
    if args.json:
        emit_json(round_floats(figures))
    return figures


if __name__ == "__main__":
    main()

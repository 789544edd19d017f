"""Embedder trial (issue 11, item 2): bge-small-en-v1.5 int8 (``onnx-bge``) vs MiniLM int8
(``onnx-int8``) on the DEV splits, both measured in one run.

For each backend, one mixed collection of every corpus (the seed briefing, the fictional
briefings, the RGB passages, the SQuAD2 "Normans" article) is ingested from empty into its own
eval collection (``eval.run.eval_settings``) under a temporary data dir, never the repo's
``./data``. Then, per gold set (seed, briefings, rgb, squad2-normans), over the dev split's
answerable questions that name sources (follow-ups rewritten by
``rag.rewrite.standalone_question``):

- recall@5 and MRR on distinct retrieved doc ids (``eval.metrics``), for the service's
  retrieval (``HybridRetriever.retrieve``: dense + BM25, RRF, near-duplicate collapse,
  ``top_k`` chunks) and for dense only (the store's dense query, ``top_k`` chunks);
- ingest cost: chunks/s of the first ingest (the pipeline's own figure, which includes
  chunking, Chroma writes and the BM25 build) and of the embedding calls alone;
- query embedding: ``embed_query`` on every distinct dev question, cache cleared, 1 thread;
  rounds interleave the backends so load from other jobs hits both alike (median of rounds).

Prints one JSON line per backend, then one JSON line of deltas (bge minus MiniLM) per set.

    python bench/trials/embed_trial.py [--data-dir /tmp/embtrial] [--rounds 3]

The data dir must not already hold these collections (the ingest would not be a first one):
remove it, or pass another one.

Result 2026-12-01 (2 cores, load 3.0-3.7; 1109 chunks, dev answerable questions: seed 22,
briefings 104, rgb 50, squad2-normans 51), bge minus MiniLM, hybrid recall@5 / MRR: seed
+0.000 / +0.023, briefings -0.010 / +0.003, rgb +0.083 / +0.078, squad2-normans +0.039 /
+0.040; dense only: +0.000 / +0.068, +0.010 / +0.011, +0.087 / +0.173, +0.098 / +0.090.
Ingest 48.4 vs 34.7 chunks/s (bge's one-text runs pad nothing; MiniLM ingested first, under
the higher load), query embedding p50 8.3 ms for both at 1 thread.
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
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import REPO, machine_info, percentile, round_floats
from eval.harness import GoldItem, load_gold
from eval.metrics import mrr, recall_at_k
from eval.run import eval_settings
from eval.splits import load_split
from ingest.pipeline import IngestPipeline
from rag.components import Components, build_components
from rag.config import Settings
from rag.embed import Embedder
from rag.retrieve import HybridRetriever
from rag.rewrite import standalone_question
from rag.schema import RetrievedChunk

SHARED = REPO.parent / "shared" / "benchmarks"
CORPUS = [
    REPO / "corpus",
    REPO / "eval" / "gold" / "briefings",
    SHARED / "rgb" / "passages.jsonl",
    SHARED / "squad2-normans" / "corpus.jsonl",
]
SPLITS = REPO / "eval" / "splits"
SETS = {
    "seed": REPO / "eval" / "gold" / "seed.jsonl",
    "briefings": REPO / "eval" / "gold" / "briefings.jsonl",
    "rgb": SHARED / "rgb" / "gold.jsonl",
    "squad2-normans": SHARED / "squad2-normans" / "gold.jsonl",
}
BACKENDS = {"onnx-int8": "all-MiniLM-L6-v2 int8", "onnx-bge": "bge-small-en-v1.5 int8"}
BASELINE, CANDIDATE = "onnx-int8", "onnx-bge"
K = 5
MODES = ("hybrid", "dense")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=Path("/tmp/embtrial"))
    p.add_argument("--rounds", type=int, default=3, help="query-embedding timing rounds")
    return p.parse_args(argv)


def dev_questions() -> dict[str, list[tuple[GoldItem, str]]]:
    """Per set: the dev split's answerable items with sources, and the query each one sends."""
    out: dict[str, list[tuple[GoldItem, str]]] = {}
    for name, gold in SETS.items():
        ids = load_split(SPLITS / f"{name}.json", "dev")
        items = [i for i in load_gold(gold, only=ids) if i.answerable and i.sources]
        out[name] = [
            (i, standalone_question(i.question, i.history) if i.history else i.question)
            for i in items
        ]
    return out


def score(chunks: list[RetrievedChunk], sources: list[str]) -> tuple[float, float]:
    ids = [c.doc_id for c in chunks]
    titles = [c.title for c in chunks]
    return recall_at_k(ids, titles, sources, K), mrr(ids, titles, sources)


def ingest(settings: Settings) -> tuple[Components, dict[str, Any]]:
    """Build the backend's components on an empty collection and ingest the mixed corpus."""
    comps = build_components(settings)
    if comps.store.count_chunks():
        raise SystemExit(
            f"{settings.data_dir}/{settings.collection} already holds chunks: not a first "
            "ingest; remove the data dir or pass another --data-dir"
        )
    embed_seconds = [0.0]
    embed_documents = comps.embedder.embed_documents

    def timed(texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return embed_documents(texts)
        finally:
            embed_seconds[0] += time.perf_counter() - started

    comps.embedder.embed_documents = timed  # type: ignore[method-assign]
    pipeline = IngestPipeline(settings, comps.store, comps.embedder, comps.bm25)
    report = pipeline.run(CORPUS, prune=True)
    comps.embedder.embed_documents = embed_documents  # type: ignore[method-assign]
    if report.unchanged or not report.chunks_written:
        raise SystemExit(f"not a first ingest: {report.summary()}")
    return comps, {
        "collection": settings.collection,
        "documents": report.new,
        "skipped": len(report.skipped),
        "chunks": report.chunks_written,
        "ingest_s": report.seconds,
        "ingest_chunks_per_s": report.chunks_per_s,
        "embed_s": embed_seconds[0],
        "embed_chunks_per_s": report.chunks_written / embed_seconds[0],
    }


def retrieval(comps: Components, questions: dict[str, list[tuple[GoldItem, str]]]) -> dict:
    """Per set and mode: mean recall@5 and MRR, plus each question's reciprocal rank."""
    settings = comps.settings
    retriever = HybridRetriever(settings, comps.store, comps.embedder, comps.bm25)
    out: dict[str, Any] = {}
    for name, items in questions.items():
        rows: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
        for item, query in items:
            rows["hybrid"].append(score(retriever.retrieve(query), item.sources))
            rows["dense"].append(score(retriever.dense(query, settings.top_k), item.sources))
        out[name] = {"n": len(items)}
        for mode, pairs in rows.items():
            out[name][mode] = {
                "recall_at_5": statistics.fmean(r for r, _ in pairs),
                "mrr": statistics.fmean(rr for _, rr in pairs),
                "rr": [rr for _, rr in pairs],
            }
    return out


def query_ms(embedders: dict[str, Embedder], queries: list[str], rounds: int) -> dict:
    """p50 / mean ms of ``embed_query`` per backend, every query a cache miss."""
    for e in embedders.values():
        e.embed_query("warm-up")
    p50s: dict[str, list[float]] = {b: [] for b in embedders}
    means: dict[str, list[float]] = {b: [] for b in embedders}
    for _ in range(rounds):
        for backend, e in embedders.items():
            e._cache.clear()  # a new question is never cached
            times = []
            for q in queries:
                started = time.perf_counter()
                e.embed_query(q)
                times.append((time.perf_counter() - started) * 1000.0)
            p50s[backend].append(percentile(times, 50))
            means[backend].append(statistics.fmean(times))
    return {
        b: {
            "query_ms_p50": statistics.median(p50s[b]),
            "query_ms_mean": statistics.median(means[b]),
        }
        for b in embedders
    }


def deltas(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """bge minus MiniLM per set and mode, with per-question counts of better / worse ranks."""
    base, cand = results[BASELINE]["sets"], results[CANDIDATE]["sets"]
    out: dict[str, Any] = {}
    for name in SETS:
        row: dict[str, Any] = {"n": base[name]["n"]}
        for mode in MODES:
            b, c = base[name][mode], cand[name][mode]
            row[f"{mode}_recall_at_5"] = c["recall_at_5"] - b["recall_at_5"]
            row[f"{mode}_mrr"] = c["mrr"] - b["mrr"]
            pairs = list(zip(b["rr"], c["rr"], strict=True))
            row[f"{mode}_rr_better_worse"] = [
                sum(1 for x, y in pairs if y > x),
                sum(1 for x, y in pairs if y < x),
            ]
        out[name] = row
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir.resolve()
    if data_dir == (REPO / "data").resolve() or data_dir.is_relative_to(REPO / "data"):
        raise SystemExit("refusing the repo's ./data: pass a temporary --data-dir")
    base = Settings(_env_file=None, data_dir=data_dir, torch_threads=1)
    questions = dev_questions()
    load = [round(machine_info()["load_avg_1m"], 2)]

    results: dict[str, dict[str, Any]] = {}
    embedders: dict[str, Embedder] = {}
    for backend in BACKENDS:
        settings = eval_settings(base.model_copy(update={"embed_backend": backend}), CORPUS)
        comps, cost = ingest(settings)
        load.append(round(machine_info()["load_avg_1m"], 2))
        sets = retrieval(comps, questions)
        embedders[backend] = comps.embedder
        results[backend] = {"backend": backend, "model": BACKENDS[backend], **cost, "sets": sets}
    distinct = list(dict.fromkeys(q for items in questions.values() for _, q in items))
    timing = query_ms(embedders, distinct, args.rounds)
    load.append(round(machine_info()["load_avg_1m"], 2))

    for backend, result in results.items():
        result.update(timing[backend], threads=1, queries_timed=len(distinct))
        sets = {
            name: {"n": s["n"], **{m: {k: v for k, v in s[m].items() if k != "rr"} for m in MODES}}
            for name, s in result["sets"].items()
        }
        print(json.dumps(round_floats({**result, "sets": sets}, 4)), flush=True)
    b, c = results[BASELINE], results[CANDIDATE]
    summary = {
        "deltas": f"{CANDIDATE} minus {BASELINE}, dev splits",
        "sets": deltas(results),
        "ingest_chunks_per_s_ratio": c["ingest_chunks_per_s"] / b["ingest_chunks_per_s"],
        "embed_chunks_per_s_ratio": c["embed_chunks_per_s"] / b["embed_chunks_per_s"],
        "query_ms_p50_ratio": c["query_ms_p50"] / b["query_ms_p50"],
        "machine": {**machine_info(), "load_avg_1m_during": load},
    }
    print(json.dumps(round_floats(summary, 4)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

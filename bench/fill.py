"""Pad a real store with synthetic filler chunks up to a chunk count, straight through the store.

Embedding 100k chunks would take more than an hour here, so the filler is what
``bench/retrieval.py`` builds (Zipf pseudo-word texts, random unit vectors; its ``Corpus`` and
``unit_vectors`` are imported, not copied), cut into 12-24-word sentences, written with
``ChromaStore.write_document`` in documents of ``--doc-chunks``. The real documents stay, so
questions about them still have their answers; the filler only makes retrieval, BM25 and the
store as big as the size says.
It runs as its own process because an embedded store admits one process at a time.

    python bench/fill.py --data-dir DIR --chunks 100000 [--chroma-url URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.common import REPO, emit_json, round_floats
from bench.retrieval import Corpus, unit_vectors, write_synthetic
from rag.config import Settings


def as_sentences(text: str, rng: np.random.Generator) -> str:
    """The generator's one long sentence cut into sentences of 12-24 words, as prose has:
    evidence selection and the cross-encoder read sentences, so a 110-word "sentence" would
    make filler chunks far costlier per question than real ones."""
    words = text.rstrip(".").split()
    out, i = [], 0
    while i < len(words):
        k = int(rng.integers(12, 25))
        piece = words[i : i + k]
        out.append(" ".join([piece[0].capitalize(), *piece[1:]]) + ".")
        i += k
    return " ".join(out)


def pad_store(settings: Settings, target: int, doc_chunks: int = 1000, seed: int = 7) -> dict:
    """Write filler until the store holds ``target`` chunks; bumps the generation once."""
    from rag.store.chroma import ChromaStore

    store = ChromaStore(settings)
    before = store.count_chunks()
    need = max(0, target - before)
    corpus = Corpus(30_000, 1.07, seed)
    rng = np.random.default_rng(seed + 1)
    started = time.perf_counter()
    written = 0
    while written < need:
        m = min(doc_chunks, need - written)
        texts = [as_sentences(t, rng) for t in corpus.texts(m)]
        # Ids name the count padded from, so a second padding (a bigger size) adds documents
        # instead of replacing the first padding's.
        doc_id = f"filler-{before:06d}-{written // doc_chunks:05d}"
        vectors = unit_vectors(rng, m)
        write_synthetic(
            store, doc_id, f"Filler {doc_id}", texts, vectors, "2020-01-01", "bench-filler"
        )
        written += m
        print(f"  filler: {written}/{need} chunks", file=sys.stderr, end="\r")
    if need:
        print(file=sys.stderr)
    store.bump_generation()  # every BM25 index now rebuilds, as after any write
    seconds = time.perf_counter() - started
    after = store.count_chunks()
    store.close()
    return {
        "real_chunks": before,
        "filler_chunks": written,
        "chunks": after,
        "fill_s": seconds,
        "fill_chunks_per_s": written / seconds if seconds > 0 and written else float("nan"),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def pad_in_subprocess(data_dir: Path, chunks: int, chroma_url: str | None = None) -> dict:
    """Run this script as its own process (an embedded store admits one process at a time,
    and the caller starts a server on it next); its JSON figures."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--data-dir", str(data_dir)]
    cmd += ["--chunks", str(chunks), "--json"]
    if chroma_url:
        cmd += ["--chroma-url", chroma_url]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--chunks", type=int, required=True, help="chunk count to pad the store to")
    p.add_argument("--chroma-url", default=None)
    p.add_argument("--collection", default=None)
    p.add_argument("--doc-chunks", type=int, default=1000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    update: dict[str, Any] = {"data_dir": args.data_dir, "chroma_url": args.chroma_url}
    if args.collection:
        update["collection"] = args.collection
    figures = pad_store(base.model_copy(update=update), args.chunks, args.doc_chunks)
    print(
        f"store padded: {figures['real_chunks']} real + {figures['filler_chunks']} filler = "
        f"{figures['chunks']} chunks in {figures['fill_s']:.1f} s",
        file=sys.stderr,
    )
    if args.json:
        emit_json(round_floats({k: (None if v != v else v) for k, v in figures.items()}))
    return figures


if __name__ == "__main__":
    main()

"""An ingest SIGKILLed at random points (several seeds) loses nothing, and a re-run converges
to exactly what an uninterrupted ingest stores: same ids, same counts, same hashes.

The scenario is an update, the interesting case: a store holding corpus v1 is ingested with
v2 (6 documents edited, growing or shrinking, 3 added, 1 pruned) and killed either after a
random share of the run's wall time, or just before a random store call. The kills run in
forked children of one helper process (``ingest_victim``), so the model loads once.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rag.config import Settings
from rag.store.bm25 import BM25Index
from rag.store.chroma import ChromaStore
from tests.conftest import CORPUS
from tests.reliability.ingest_victim import COLLECTION

pytestmark = pytest.mark.slow

DELAY_SEEDS = (0, 1)  # SIGKILL from outside after a random share of the run's wall time
CALL_SEEDS = (2, 3, 4)  # SIGKILL just before a random store call (covers every phase)
# Small chunks keep embedding cheap on 2 cores while documents still span several chunks.
CHUNKING = {"chunk_size": 40, "chunk_overlap": 8}
GROWN, SHRUNK = range(0, 3), range(3, 6)  # edited in v2: more chunks, fewer chunks
ADDED = range(16, 19)
PRUNED = 15
_NOUNS = ("benches", "lamps", "ferries", "bridges", "orchards", "wells", "clinics", "mills")
_PLACES = ("harbour", "old town", "river quay", "north road", "market", "school", "docks")


def synthetic(i: int, version: int) -> str:
    """A briefing of a few chunks; in v2 some grow or shrink (so stale chunks must go)."""
    rng = random.Random(i)
    town = f"Quarrow{i:02d}"
    days = 6
    if version == 2 and i in GROWN:
        days = 10
    elif version == 2 and i in SHRUNK:
        days = 2
    lines = [
        f"On day {day} the {town} council approved {rng.randint(2, 90)} new "
        f"{rng.choice(_NOUNS)} for the {rng.choice(_PLACES)}."
        for day in range(1, days + 1)
    ]
    return f"{town} Gazette\n" + " ".join(lines) + "\n"


def write_corpus(root: Path, version: int) -> Path:
    shutil.copytree(CORPUS, root / "fixtures")
    (root / "synthetic").mkdir()
    ids = list(range(16)) + (list(ADDED) if version == 2 else [])
    for i in ids:
        if version == 2 and i == PRUNED:
            continue
        (root / "synthetic" / f"doc-{i:02d}.txt").write_text(synthetic(i, version))
    return root


def snapshot(data_dir: Path) -> dict[str, Any]:
    """Everything that must match: documents, chunks (ids, offsets, text, hash) and BM25."""
    settings = Settings(data_dir=data_dir, collection=COLLECTION, _env_file=None, **CHUNKING)
    store = ChromaStore(settings)
    got = store.chunks.get(include=["metadatas", "documents"])
    chunks = {
        cid: (m["doc_id"], m["content_hash"], m["start_char"], m["end_char"], text)
        for cid, m, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True)
    }
    docs = {m.doc_id: (m.content_hash, m.n_chunks) for m in store.list_documents()}
    generation = store.generation()
    bm25 = BM25Index(settings.bm25_path / COLLECTION)
    loaded = bm25._load() and bm25.generation == generation
    return {
        "docs": docs,
        "chunks": chunks,
        "bm25_loaded": loaded,
        "bm25": sorted(c.chunk_id for c in bm25.live_chunks()) if loaded else None,
    }


def plan(tmp: Path, v1: Path, v2: Path) -> dict[str, Any]:
    v2_ingest: dict[str, Any] = {"paths": [str(v2)], "prune": True, "settings": CHUNKING}
    steps: list[dict[str, Any]] = [
        {"ingest": {"data_dir": str(tmp / "base"), "paths": [str(v1)], "settings": CHUNKING}},
        {"copy": [str(tmp / "base"), str(tmp / "baseline")]},
        {"ingest": {**v2_ingest, "data_dir": str(tmp / "baseline"), "count": True}},
    ]
    for seed in (*DELAY_SEEDS, *CALL_SEEDS):
        rng = random.Random(seed)
        run = tmp / f"seed{seed}"
        kill = (
            {"kill_after": rng.uniform(0.15, 0.95)}
            if seed in DELAY_SEEDS
            else {"kill_at_call": rng.uniform(0.02, 1.0)}
        )
        steps += [
            {"copy": [str(tmp / "base"), str(run)]},
            {"ingest": {**v2_ingest, "data_dir": str(run), **kill}},
            {"copy": [str(run), str(tmp / f"seed{seed}-killed")]},
            {"ingest": {**v2_ingest, "data_dir": str(run)}},  # the re-run
        ]
    return {"steps": steps}


def test_killed_ingest_loses_nothing_and_rerun_converges(tmp_path: Path) -> None:
    v1 = write_corpus(tmp_path / "v1", 1)
    v2 = write_corpus(tmp_path / "v2", 2)
    plan_file, results_file = tmp_path / "plan.json", tmp_path / "results.json"
    plan_file.write_text(json.dumps(plan(tmp_path, v1, v2)))
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.ingest_victim", plan_file, results_file],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(results_file.read_text())
    base_run, baseline_run, *seed_runs = results
    assert base_run["exit"] == 0 and baseline_run["exit"] == 0, done.stderr[-3000:]
    killed_runs, reruns = seed_runs[0::2], seed_runs[1::2]
    assert all(r["exit"] == 0 for r in reruns), done.stderr[-3000:]
    # Every self-kill fired; a timed kill may land after a quick run finished, which is fine.
    assert all(r["killed"] for r in killed_runs[len(DELAY_SEEDS) :]), killed_runs
    assert sum(r["killed"] for r in killed_runs) >= len(CALL_SEEDS)

    before = snapshot(tmp_path / "base")
    expected = snapshot(tmp_path / "baseline")
    assert expected["bm25_loaded"] and expected["bm25"] == sorted(expected["chunks"])
    pruned = f"synthetic/doc-{PRUNED:02d}.txt"
    assert pruned in before["docs"] and pruned not in expected["docs"]
    for seed in (*DELAY_SEEDS, *CALL_SEEDS):
        # Right after the kill: every committed document is still there, old or new version.
        killed = snapshot(tmp_path / f"seed{seed}-killed")
        for doc_id, (old_hash, _) in before["docs"].items():
            if doc_id == pruned and doc_id not in killed["docs"]:
                continue  # the prune had committed
            new_hash = expected["docs"].get(doc_id, (old_hash, 0))[0]
            assert killed["docs"][doc_id][0] in (old_hash, new_hash), (seed, doc_id)
        for doc_id in set(killed["docs"]) - set(before["docs"]):
            assert killed["docs"][doc_id] == expected["docs"][doc_id], (seed, doc_id)
        # After the re-run: exactly the uninterrupted result, BM25 included.
        rerun = snapshot(tmp_path / f"seed{seed}")
        assert rerun["docs"] == expected["docs"], seed
        assert rerun["chunks"] == expected["chunks"], seed
        assert rerun["bm25_loaded"] and rerun["bm25"] == expected["bm25"], seed
    kills = ", ".join(
        f"seed {s}: {'killed' if r['killed'] else 'finished'}"
        + (f" at call {r['kill_at']}" if r["kill_at"] else f" after {r['kill_after']:.2f} s")
        for s, r in zip((*DELAY_SEEDS, *CALL_SEEDS), killed_runs, strict=True)
    )
    print(
        f"\ningest crash: {len(expected['docs'])} docs, {len(expected['chunks'])} chunks; "
        f"uninterrupted v2 run {baseline_run['calls']} store calls in "
        f"{baseline_run['seconds']:.2f} s; {kills}"
    )

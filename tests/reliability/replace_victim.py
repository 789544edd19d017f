"""Replace one document the way an API upload does, SIGKILLed just before each store write.

    python -m tests.reliability.replace_victim PLAN.json RESULTS.json

The model loads once in this parent; each replace runs in a fresh ``fork()`` child over a copy
of the base data dir, with the pipeline set up as ``api.deps`` sets it (commit under a write
lock, BM25 synced inside it). ``kill_at`` counts only writes (upsert/add/update/delete), so
the plan can name every write of the replace; a child that is not killed reports how many
writes it made.

Plan: ``{"v1": DIR, "v2": DIR, "base": DIR, "runs": [{"data_dir": DIR, "kill_at": N | null}]}``:
``v1`` is ingested into ``base`` first (in a child too, so this parent never opens a store);
each run copies ``base`` and ingests ``v2`` (the same file names, edited) over it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

COLLECTION = "replace"


def child(run: dict[str, Any], corpus: Path, embedder: Any) -> None:
    code = 0
    try:
        from api.deps import RWLock
        from ingest.pipeline import IngestPipeline
        from rag.components import build_components
        from rag.config import Settings
        from rag.store.chroma import _WRITES, ChromaStore

        writes = 0
        real_call = ChromaStore._call
        kill_at = run.get("kill_at")

        def counted(self: ChromaStore, fn: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal writes
            if getattr(fn, "__name__", "") in _WRITES:
                writes += 1
                if kill_at is not None and writes >= kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return real_call(self, fn, *args, **kwargs)

        ChromaStore._call = counted  # type: ignore[method-assign]
        settings = Settings(
            data_dir=Path(run["data_dir"]), collection=COLLECTION, torch_threads=1, _env_file=None
        )
        components = build_components(settings, embedder=embedder)
        pipeline = IngestPipeline(settings, components.store, embedder, components.bm25)
        pipeline.commit_guard = RWLock().write
        pipeline.sync_on_commit = True
        pipeline.run([corpus])
        Path(run["data_dir"]).with_suffix(".writes").write_text(str(writes))
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(plan_path: str, results_path: str) -> int:
    from rag.config import Settings
    from rag.embed import Embedder, configure_torch

    configure_torch(1)  # no intra-op thread pool: safe to fork
    embedder = Embedder(Settings(torch_threads=1, _env_file=None))
    plan = json.loads(Path(plan_path).read_text())
    results = []
    base = {"data_dir": plan["base"], "kill_at": None}
    for run, corpus in [(base, plan["v1"]), *((r, plan["v2"]) for r in plan["runs"])]:
        if run is not base:
            shutil.copytree(plan["base"], run["data_dir"])
        pid = os.fork()
        if pid == 0:
            child(run, Path(corpus), embedder)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        writes = Path(run["data_dir"]).with_suffix(".writes")
        results.append(
            {
                **run,
                "killed": killed,
                "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "writes": int(writes.read_text()) if writes.exists() else None,
            }
        )
    Path(results_path).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

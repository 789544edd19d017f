"""Run ingests in forked children and SIGKILL them at chosen points (``test_ingest_crash``).

    python -m tests.reliability.ingest_victim PLAN.json RESULTS.json

The imports and the model load (~10 s here) happen once in this parent; each ingest runs in a
fresh ``fork()`` child doing exactly what ``briefqa ingest [--prune]`` does (build the
components on ``data_dir``, ``IngestPipeline.run``), so many kill points cost little. The
parent never opens a store, so no Chroma or torch threads exist when it forks.

Plan steps, in order:
- ``{"copy": [src, dst]}``: copy a (closed) data dir;
- ``{"ingest": {...}}`` with ``data_dir``, ``paths``, ``prune``, ``settings`` (overrides, e.g.
  a small ``chunk_size``), and optionally ``count`` (record
  how many store calls the run made and how long it took), ``kill_after`` (SIGKILL after this
  fraction of the counted run's wall time) or ``kill_at_call`` (the child SIGKILLs itself
  just before this fraction of the counted run's store calls).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

COLLECTION = "crash"


def child(step: dict[str, Any], embedder: Any, kill_at: int | None, out: Path) -> None:
    """The ingest itself; never returns (``os._exit``), so no parent state is torn down."""
    code = 0
    try:
        from ingest.pipeline import IngestPipeline
        from rag.components import build_components
        from rag.config import Settings
        from rag.store.chroma import ChromaStore

        calls = 0
        real_call = ChromaStore._call

        def counted(self: ChromaStore, fn: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if kill_at is not None and calls >= kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_call(self, fn, *args, **kwargs)

        ChromaStore._call = counted  # type: ignore[method-assign]
        settings = Settings(
            data_dir=Path(step["data_dir"]),
            collection=COLLECTION,
            torch_threads=1,
            _env_file=None,
            **step.get("settings", {}),
        )
        components = build_components(settings, embedder=embedder)
        pipeline = IngestPipeline(settings, components.store, embedder, components.bm25)
        report = pipeline.run([Path(p) for p in step["paths"]], prune=step.get("prune", False))
        out.write_text(json.dumps({"calls": calls, "summary": report.summary()}))
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_ingest(step: dict[str, Any], embedder: Any, counted: dict[str, float]) -> dict[str, Any]:
    kill_at = None
    if "kill_at_call" in step:
        kill_at = max(1, math.ceil(step["kill_at_call"] * counted["calls"]))
    kill_after = step["kill_after"] * counted["seconds"] if "kill_after" in step else None
    out = Path(step["data_dir"]).with_suffix(".result.json")
    out.unlink(missing_ok=True)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        child(step, embedder, kill_at, out)
    killed_by_parent = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if kill_after is not None and time.monotonic() - started >= kill_after:
            os.kill(pid, signal.SIGKILL)
            killed_by_parent = True
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    seconds = time.monotonic() - started
    result: dict[str, Any] = {
        "data_dir": step["data_dir"],
        "seconds": round(seconds, 3),
        "killed": os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "kill_at": kill_at,
        "kill_after": kill_after,
        "killed_by_parent": killed_by_parent,
    }
    if out.exists():
        result.update(json.loads(out.read_text()))
    if step.get("count"):
        counted["calls"], counted["seconds"] = result["calls"], seconds
    return result


def main(plan_path: str, results_path: str) -> int:
    from rag.config import Settings
    from rag.embed import Embedder, configure_torch

    configure_torch(1)  # no intra-op thread pool: safe to fork
    embedder = Embedder(Settings(torch_threads=1, _env_file=None))
    plan = json.loads(Path(plan_path).read_text())
    counted: dict[str, float] = {"calls": 0, "seconds": 0.0}
    results = []
    for step in plan["steps"]:
        if "copy" in step:
            src, dst = step["copy"]
            shutil.copytree(src, dst)
        else:
            results.append(run_ingest(step["ingest"], embedder, counted))
    Path(results_path).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

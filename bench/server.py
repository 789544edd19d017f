"""Start the real API as a subprocess on a loopback port over a temporary data dir.

Both `answer.py` and `concurrency.py` measure the service the way users meet it: through
HTTP, with the server's own process, threads and memory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import REPO

SEED_CORPUS = REPO / "corpus"
RGB_PASSAGES = REPO.parent / "shared" / "benchmarks" / "rgb" / "passages.jsonl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def cli_ingest(corpus: list[Path], env: dict[str, str]) -> None:
    """``python -m api.cli ingest`` into the store ``env`` names (a process of its own)."""
    subprocess.run(
        [sys.executable, "-m", "api.cli", "ingest", *map(str, corpus)],
        env={**os.environ, **env},
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def serve(env: dict[str, str], ready_s: float = 600) -> Iterator[tuple[str, int]]:
    """``python -m api.cli serve`` on a free loopback port; yields (base URL, pid) once
    ``/readyz`` answers 200 (a 100k-chunk store rebuilds BM25 first, so allow minutes)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise TimeoutError(f"server not ready in {ready_s:.0f} s")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def live_server(corpus: list[Path], env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """Ingest ``corpus`` with the CLI, then serve it; yields (base URL, server pid)."""
    with tempfile.TemporaryDirectory(prefix="briefqa-bench-") as data:
        full_env = {"BRIEFQA_DATA_DIR": data, **(env or {})}
        cli_ingest(corpus, full_env)
        with serve(full_env, ready_s=300) as (url, pid):
            yield url, pid

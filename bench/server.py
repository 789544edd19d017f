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


@contextmanager
def live_server(corpus: list[Path], env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """Ingest ``corpus`` with the CLI, then serve it; yields (base URL, server pid)."""
    with tempfile.TemporaryDirectory(prefix="briefqa-bench-") as data:
        full_env = {**os.environ, "BRIEFQA_DATA_DIR": data, **(env or {})}
        briefqa = [sys.executable, "-m", "api.cli"]
        subprocess.run(
            [*briefqa, "ingest", *map(str, corpus)],
            env=full_env,
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        port = _free_port()
        proc = subprocess.Popen(
            [*briefqa, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=full_env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
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
                raise TimeoutError("server not ready in 300 s")
            yield url, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)

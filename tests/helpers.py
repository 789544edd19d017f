"""Test helpers for servers on loopback: free ports, waiting until they answer, and the API
served by uvicorn in a thread (sharing the test process's loaded MiniLM)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest
    from fastapi import FastAPI
    from typer.testing import CliRunner

    from rag.components import Components
    from rag.config import Settings
    from rag.embed import Embedder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    check: Callable[[], bool], timeout: float = 30.0, proc: subprocess.Popen | None = None
) -> None:
    """Poll ``check`` until it returns True; fail early if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise TimeoutError("server did not come up in time")


def start_chroma(path: str, port: int) -> subprocess.Popen:
    """``chroma run`` on loopback; the caller terminates it."""
    import shutil

    import httpx

    # `make test` runs the venv's python without activating it: look beside it first.
    beside = Path(sys.executable).with_name("chroma")
    exe = str(beside) if beside.exists() else shutil.which("chroma")
    if exe is None:
        raise RuntimeError("the chroma CLI is not installed")
    proc = subprocess.Popen(
        [exe, "run", "--path", path, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(
        lambda: (
            httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200
        ),
        proc=proc,
    )
    return proc


@contextmanager
def live_server(app: FastAPI, **options: object) -> Iterator[str]:
    """uvicorn in a thread on a loopback socket bound here (port 0, so no race); yields the URL.

    The lifespan runs, as in production; the server is stopped and joined on exit. ``options``
    go to ``uvicorn.Config`` (e.g. ``api.security.SERVER_OPTIONS``, as ``briefqa serve``).
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **options)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def ingested(settings: Settings, embedder: Embedder, paths: list[Path]) -> Components:
    """A store built from ``settings`` with ``paths`` ingested; every file must load."""
    from ingest.pipeline import IngestPipeline
    from rag.components import build_components

    components = build_components(settings, embedder=embedder)
    report = IngestPipeline(settings, components.store, embedder, components.bm25).run(paths)
    assert not report.skipped, report.skipped
    return components


def cli_store(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    embedder: Embedder,
    collection: str,
    columns: int = 200,
    paths: list[Path] | None = None,
) -> CliRunner:
    """The CLI on a store under ``tmp_path`` found through BRIEFQA_* variables, reusing the
    session's embedder instead of loading one per command; ``paths`` are ingested first."""
    from typer.testing import CliRunner

    import rag.components
    from ingest.pipeline import IngestPipeline
    from rag.config import Settings

    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("BRIEFQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BRIEFQA_COLLECTION", collection)
    monkeypatch.setenv("BRIEFQA_ANSWERER", "extractive")
    monkeypatch.setenv("COLUMNS", str(columns))
    real_build = rag.components.build_components

    def build(settings: Settings, **kwargs: object) -> Components:
        return real_build(settings, **{**kwargs, "embedder": embedder})  # type: ignore[arg-type]

    monkeypatch.setattr(rag.components, "build_components", build)
    if paths:
        settings = Settings()
        comps = rag.components.build_components(settings)
        IngestPipeline(settings, comps.store, comps.embedder, comps.bm25).run(paths)
    return CliRunner()

"""Scale-out fixtures: a Chroma server, a fake OpenAI-compatible LLM server, and two API
processes (uvicorn subprocesses) that share the Chroma collection but not their data dirs.

Replica ``a`` answers extractively; replica ``b`` is configured purely through the
environment (``BRIEFQA_ANSWERER=openai``, ``BRIEFQA_OPENAI_BASE_URL``) to answer through the
fake LLM, exactly as a deployment would point it at vLLM, Ollama or llama.cpp's server.
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SEED
from tests.helpers import free_port, start_chroma, wait_until

FAKE_MODEL = "fake-model"
FAKE_KEY = "fake-llm-key"
# The fixed reply: one sentence from the seed briefing, citing evidence [1]. The service cites
# and verifies it like any model output (re-pointing the marker if [1] is not that sentence).
FAKE_ANSWER = "S Jaishankar is set to visit the United States from 2 to 4 February 2026 [1]."
FAKE_PARTS = [
    "S Jaishankar is set to visit ",
    "the United States ",
    "from 2 to 4 February 2026 [1].",
]


@dataclass
class FakeLLM:
    """What the fake server saw: each request's JSON body and Authorization header."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)


def _chunk(delta: dict[str, str], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": FAKE_MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _handler(record: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """POST /v1/chat/completions, plain JSON or SSE, always the same answer."""

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self.send_error(404)
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            record.requests.append(body)
            record.auth.append(self.headers.get("Authorization"))
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(_chunk({"role": "assistant", "content": ""}))
                for part in FAKE_PARTS:
                    self.wfile.write(_chunk({"content": part}))
                    self.wfile.flush()
                self.wfile.write(_chunk({}, "stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                return
            payload = json.dumps(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 0,
                    "model": FAKE_MODEL,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": FAKE_ANSWER},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture(scope="package")
def fake_llm() -> Iterator[FakeLLM]:
    record = FakeLLM(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(record))
    record.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="package")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # `chroma` lives beside this interpreter; `make test` runs pytest without activating the venv.
    bin_dir = str(Path(sys.executable).parent)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))
        port = free_port()
        proc = start_chroma(str(tmp_path_factory.mktemp("chroma-server")), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Replica:
    """One API process: its base URL and where its log went."""

    name: str
    url: str
    proc: subprocess.Popen
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


def start_replica(name: str, root: Path, chroma: str, extra: dict[str, str]) -> Replica:
    """``uvicorn api.main:create_app --factory`` configured only through BRIEFQA_* variables."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFQA_")}
    env.update(
        {
            "BRIEFQA_CHROMA_URL": chroma,
            "BRIEFQA_COLLECTION": "scaleout",
            "BRIEFQA_DATA_DIR": str(root / f"data-{name}"),  # BM25 cache: per replica
            "BRIEFQA_TORCH_THREADS": "1",
            **extra,
        }
    )
    log = root / f"api-{name}.log"
    command = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Replica(name, f"http://127.0.0.1:{port}", proc, log)


@pytest.fixture(scope="package")
def replicas(
    tmp_path_factory: pytest.TempPathFactory, chroma_url: str, fake_llm: FakeLLM
) -> Iterator[tuple[Replica, Replica]]:
    """Replica a (extractive) and b (openai via the fake LLM), started in parallel; the seed
    briefing is uploaded through a."""
    root = tmp_path_factory.mktemp("replicas")
    a = start_replica("a", root, chroma_url, {"BRIEFQA_ANSWERER": "extractive"})
    b = start_replica(
        "b",
        root,
        chroma_url,
        {
            "BRIEFQA_ANSWERER": "openai",
            "BRIEFQA_OPENAI_BASE_URL": fake_llm.url,
            "BRIEFQA_OPENAI_MODEL": FAKE_MODEL,
            "BRIEFQA_OPENAI_API_KEY": FAKE_KEY,
        },
    )
    try:
        for replica in (a, b):
            try:
                wait_until(
                    lambda r=replica: httpx.get(f"{r.url}/readyz", timeout=2).status_code == 200,
                    timeout=120,
                    proc=replica.proc,
                )
            except (RuntimeError, TimeoutError) as exc:
                log = replica.log.read_text()
                raise RuntimeError(f"replica {replica.name}: {exc}\n{log}") from exc
        seed = next(SEED.glob("*.txt"))
        stored = httpx.post(
            f"{a.url}/v1/documents",
            params={"doc_id": seed.name},
            content=seed.read_bytes(),
            headers={"Content-Type": "text/plain"},
            timeout=120,
        )
        assert stored.status_code == 200, stored.text
        yield a, b
    finally:
        for replica in (a, b):
            replica.proc.terminate()
        for replica in (a, b):
            try:
                replica.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                replica.proc.kill()
                replica.proc.wait(timeout=5)

"""A tiny OpenAI-compatible chat server on loopback, to fault-inject the ``openai`` answerer.

Modes: ``ok`` answers by copying evidence sentence [1] and citing it (streamed or not);
``gullible`` does the same unless its prompt says "answer 'X'", "reply X" or "must be reported
as X", which it then obeys;
``slow`` accepts the request and then says nothing for ``delay`` seconds; ``error`` answers
500. A server that is simply absent is a free port with nothing on it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rag.answer.registry import build_answerers
from rag.components import Components
from rag.service import QAService

_EVIDENCE_1 = re.compile(r"^\[1\] (.+)$", re.MULTILINE)
# The orders a gullible model obeys: "answer 'X'", "reply X", "must be reported as X".
_ORDERS = (
    re.compile(r"\banswer '([^']+)'", re.IGNORECASE),
    re.compile(r"\breply (?:with )?([A-Z]{3,})\b"),
    re.compile(r"\breported as ([A-Z][\w-]*(?: [A-Z][\w-]*)*)"),
)


class FakeLLM:
    """State shared with the handler: the mode, and what was asked (for assertions)."""

    def __init__(self, mode: str = "ok", delay: float = 5.0) -> None:
        self.mode = mode
        self.delay = delay
        self.requests = 0
        self.prompts: list[str] = []  # the last user message of each request
        self.stop = threading.Event()  # ends a ``slow`` wait early at shutdown
        self.waits_ended = 0  # ``slow`` requests whose silence is over (answered or cut)

    def reply(self, body: dict[str, Any]) -> str:
        last = str(body["messages"][-1]["content"])
        self.prompts.append(last)
        order = next((m for m in (p.search(last) for p in _ORDERS) if m), None)
        if self.mode == "gullible" and order:
            return f"{order.group(1)} [1]"
        found = _EVIDENCE_1.search(last)
        return f"{found.group(1)} [1]" if found else "The briefings don't say."


def _handler(state: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests += 1
            if state.mode == "slow":
                state.stop.wait(state.delay)
                state.waits_ended += 1
            if state.mode == "error" or state.stop.is_set():
                self._send(500, b'{"error": {"message": "boom"}}', "application/json")
                return
            text = state.reply(body)
            if body.get("stream"):
                self._send(200, b"".join(_sse(text)), "text/event-stream")
            else:
                self._send(200, json.dumps(_completion(text)).encode(), "application/json")

        def _send(self, status: int, payload: bytes, media: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _sse(text: str) -> Iterator[bytes]:
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "fake"}
    for i in range(0, len(text), 16):
        delta = {"content": text[i : i + 16]}
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        yield f"data: {json.dumps({**base, 'choices': [choice]})}\n\n".encode()
    done = {"index": 0, "delta": {}, "finish_reason": "stop"}
    yield f"data: {json.dumps({**base, 'choices': [done]})}\n\n".encode()
    yield b"data: [DONE]\n\n"


@contextmanager
def fake_llm_server(state: FakeLLM) -> Iterator[str]:
    """Serve ``state`` on 127.0.0.1 (free port); yields the ``/v1`` base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def openai_service(store: Components, base_url: str, **settings: Any) -> QAService:
    """A service over ``store`` answering with ``openai`` at ``base_url`` (plus ``settings``)."""
    config = store.settings.model_copy(
        update={"answerer": "openai", "openai_base_url": base_url, **settings}
    )
    return QAService(dataclasses.replace(store, settings=config), build_answerers(config))

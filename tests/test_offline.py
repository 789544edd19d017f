"""Ingest and search must never open a connection beyond loopback (nothing downloads here)."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from rag.retrieve import HybridRetriever


def _is_local(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = str(address[0])  # type: ignore[index]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def test_ingest_and_search_stay_on_loopback(
    monkeypatch: pytest.MonkeyPatch, pipeline: IngestPipeline, corpus: Path
) -> None:
    attempts: list[object] = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        if not _is_local(address):
            raise OSError(f"test forbids non-loopback connection to {address}")
        return real_connect(self, address)

    def guarded_getaddrinfo(host: object, *args: object, **kwargs: object):
        attempts.append((host, "dns"))
        if host not in (None, "localhost", "127.0.0.1", "::1"):
            raise OSError(f"test forbids DNS lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    pipeline.run([corpus])
    retriever = HybridRetriever(pipeline.settings, pipeline.store, pipeline.embedder, pipeline.bm25)
    assert retriever.retrieve("golden pear prize")[0].doc_id == "orchard-festival.txt"
    lookups = [a[0] for a in attempts if isinstance(a, tuple) and a[-1] == "dns"]
    connects = [a for a in attempts if not (isinstance(a, tuple) and a[-1] == "dns")]
    assert [h for h in lookups if h not in (None, "localhost", "127.0.0.1", "::1")] == []
    assert [a for a in connects if not _is_local(a)] == []

"""One process per embedded store: an exclusive ``flock`` on a file in the Chroma directory.

Two processes writing one embedded Chroma directory don't see each other's writes (each keeps
its own index in memory), so a second one is refused with a message naming the first: its
pid and command line. The lock is the kernel's, so it goes away with its process, even a
SIGKILLed one; there is no stale lock file to clean up. Within one process every store on the
same directory shares one lock (chromadb shares one engine per path too); it is released when
the last of them is closed or collected. A Chroma server (``BRIEFQA_CHROMA_URL``) needs no
lock: the server serialises writers itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
import time
from pathlib import Path

LOCK_NAME = "briefqa.lock"


class StoreLocked(RuntimeError):
    """Another process holds the embedded store."""


class _Held:
    def __init__(self, fd: int | None) -> None:
        self.fd = fd
        self.users = 0


_held: dict[str, _Held] = {}
_guard = threading.Lock()


def _describe(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(info["started"])))
        return f"process {info['pid']} ({info['command']}, since {since})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _open(path: Path) -> tuple[int | None, bool]:
    """The lock file, read-write if possible; a read-only data dir can still be locked if the
    file exists, and is left unlocked if it doesn't (nothing can write there anyway)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644), True
    except OSError:
        pass
    try:
        return os.open(path, os.O_RDONLY), False
    except OSError:
        return None, False


def acquire(directory: Path) -> str:
    """Take (or share, within this process) the lock on ``directory``; returns its key.

    Raises ``StoreLocked`` naming the holder when another process has it.
    """
    with contextlib.suppress(OSError):  # a read-only data dir: _open copes
        directory.mkdir(parents=True, exist_ok=True)
    key = str(directory.resolve())
    with _guard:
        held = _held.get(key)
        if held is None:
            path = Path(key) / LOCK_NAME
            fd, writable = _open(path)
            try:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # type: ignore[arg-type]
                raise StoreLocked(
                    f"the embedded store at {key} is in use by {_describe(path)}; stop it, or "
                    "send documents to its API (POST /v1/documents), or share the store "
                    "through a Chroma server (BRIEFQA_CHROMA_URL)"
                ) from None
            if fd is not None and writable:
                command = " ".join(sys.argv)[:300]
                info = {"pid": os.getpid(), "command": command, "started": time.time()}
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(info).encode(), 0)
            held = _held[key] = _Held(fd)
        held.users += 1
    return key


def release(key: str) -> None:
    """Drop one user of the lock; the last one unlocks and closes the file."""
    with _guard:
        held = _held.get(key)
        if held is None:
            return
        held.users -= 1
        if held.users <= 0:
            del _held[key]
            if held.fd is not None:
                fcntl.flock(held.fd, fcntl.LOCK_UN)
                os.close(held.fd)

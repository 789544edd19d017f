"""Read untrusted files in a child process that can be stopped (issue 26 items 1 and 2).

A hostile PDF burned a core for hours inside the request, and went on after the client had
left; a DOCX of empty paragraphs grew the server by 400 MB that it never gave back. The
readers now have budgets of their own (``ingest.pdf.MAX_CONTENT_BYTES``,
``ingest.office.MAX_PARAGRAPHS``), and on top of them the binary formats are parsed here:

- in a child forked from a small fork server (``multiprocessing``'s ``forkserver``, which
  preloads the parsers, so a parse starts in milliseconds and never forks the threaded server);
- under ``RLIMIT_AS`` (memory) and ``RLIMIT_CPU``, at a lower CPU priority;
- killed when it runs past ``seconds`` or when ``cancelled()`` says the upload was dropped.

The child's memory goes back to the system when it exits. A file that runs out of its budget
is ``TooLarge`` (413) with a message saying which budget.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext

from ingest.loaders import LoadError, SourceDocument, TooLarge, Unsupported, parse_bytes
from rag.config import Settings

log = logging.getLogger(__name__)

# Imported once in the fork server, so each child starts with the parsers loaded.
PRELOAD = [
    "ingest.loaders",
    "ingest.pdf",
    "ingest.office",
    "ingest.mail",
    "ingest.web",
    "pypdf",
    "docx",
    "pptx",
    "trafilatura",
]
ERRORS: dict[str, type[LoadError]] = {
    cls.__name__: cls for cls in (LoadError, TooLarge, Unsupported)
}


class Cancelled(LoadError):
    """The client went away while its file was being read; the child was stopped."""


@dataclass(frozen=True)
class ParseLimits:
    """What reading one uploaded file may cost; ``Settings`` holds the defaults."""

    seconds: float = 120.0
    memory_mb: int = 1024
    nice: int = 10
    isolate: bool = True
    # Text formats are read in one linear pass; these are the ones whose parsers can blow up.
    formats: tuple[str, ...] = (".pdf", ".docx", ".pptx", ".eml", ".html", ".htm")

    @classmethod
    def of(cls, settings: Settings) -> ParseLimits:
        """The limits the settings name (``parse_seconds``, ``parse_memory_mb``, ...)."""
        return cls(
            seconds=settings.parse_seconds,
            memory_mb=settings.parse_memory_mb,
            nice=settings.ingest_nice,
            isolate=settings.parse_isolated,
        )


_context: ForkServerContext | None = None
_context_lock = threading.Lock()


def _fork_server() -> ForkServerContext:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _context = context
        return _context


def parse_limited(
    data: bytes,
    suffix: str,
    doc_id: str,
    name: str,
    limits: ParseLimits | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    on_cost: Callable[[dict[str, float]], None] | None = None,
) -> list[SourceDocument]:
    """``parse_bytes``, in a stoppable child for the formats ``limits`` names. ``on_cost``
    hears what a finished child spent (``cpu_s``, ``peak_rss_mb``)."""
    limits = limits or ParseLimits()
    if not limits.isolate or suffix.lower() not in limits.formats:
        return parse_bytes(data, suffix, doc_id, name)
    context = _fork_server()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(send, data, suffix, doc_id, name, limits),
        name="briefqa-parse",
        daemon=True,
    )
    child.start()
    send.close()
    deadline = time.monotonic() + limits.seconds
    try:
        while not receive.poll(0.05):
            if cancelled():
                raise Cancelled(f"{name}: the upload was cancelled while it was read")
            if time.monotonic() > deadline:
                raise TooLarge(f"{name}: reading it took longer than {limits.seconds:g} s")
        try:
            outcome = receive.recv()
        except EOFError:  # the child died without a word: killed by one of its limits
            child.join(5)
            raise TooLarge(_died(name, child.exitcode, limits)) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    kind, payload, cost = outcome
    log.debug("%s: read in a child in %.2f CPU s, peak %d MB", name, *cost.values())
    if on_cost is not None:
        on_cost(cost)
    if kind == "ok":
        return payload
    raise ERRORS.get(payload[0], LoadError)(payload[1])


def _died(name: str, exitcode: int | None, limits: ParseLimits) -> str:
    if exitcode == -signal.SIGXCPU:
        return f"{name}: reading it took more than {limits.seconds:g} CPU seconds"
    log.warning("%s: parser child exited with %s", name, exitcode)
    return f"{name}: reading it needed more than {limits.memory_mb} MB of memory"


def _child(
    send: Connection, data: bytes, suffix: str, doc_id: str, name: str, limits: ParseLimits
) -> None:
    """Runs in the child: limits first, then the parse; the outcome goes back on ``send``."""
    memory = limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = math.ceil(limits.seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    if limits.nice > 0:
        os.nice(limits.nice)
    outcome: tuple[str, object]
    try:
        outcome = ("ok", parse_bytes(data, suffix, doc_id, name))
    except LoadError as exc:
        outcome = ("error", (type(exc).__name__, str(exc)))
    except MemoryError:
        outcome = ("error", ("TooLarge", _died(name, None, limits)))
    except RecursionError:
        outcome = ("error", ("LoadError", f"{name}: nested too deeply to read"))
    except Exception as exc:  # a reader's bug must still come back as a named error
        outcome = ("error", ("LoadError", f"{name}: could not be read ({type(exc).__name__})"))
    used = resource.getrusage(resource.RUSAGE_SELF)
    cost = {"cpu_s": used.ru_utime + used.ru_stime, "peak_rss_mb": used.ru_maxrss / 1024}
    send.send((*outcome, cost))
    send.close()

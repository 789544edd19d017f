"""Background ingest jobs, the service behind ``api/routes/jobs.py``: ``POST /v1/documents``
answers 202 with a job for large bodies, and ``GET /v1/jobs/{id}`` reports its progress and,
once done, the upload's result.

One worker thread runs the jobs in order (writers are serialised by the pipeline anyway), at
a lower CPU priority (``ingest_nice``), so on a busy machine questions get the cores first.
Jobs live in memory: a restart forgets them (their documents are committed or not, never
half-stored, see ``rag.store.chroma``). The newest ``KEEP`` finished jobs are kept.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, Field

log = logging.getLogger(__name__)


JobStatus = Literal["queued", "running", "done", "failed"]
Progress = Callable[[int, int], None]
KEEP = 200


class Job(BaseModel):
    """One background upload: ``chunks_done`` of ``chunks_total`` embedded and stored so far."""

    id: str
    status: JobStatus = "queued"
    created: float
    started: float | None = None
    finished: float | None = None
    chunks_done: int = 0
    chunks_total: int | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    error_status: int | None = None
    # The key that made the job (as conversations have): another key gets 404. Not reported.
    owner: str | None = Field(default=None, exclude=True)


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatus
    url: str


class JobQueue:
    """A single low-priority worker and the jobs it ran, newest last."""

    def __init__(self, nice: int = 10) -> None:
        self.nice = nice
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="briefqa-ingest", initializer=self._lower
                )
            return self._pool

    def _lower(self) -> None:
        """Nice this worker thread only (Linux threads have their own priority)."""
        if self.nice > 0 and hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
            except OSError as exc:  # pragma: no cover - not permitted here
                log.info("could not lower the ingest thread's priority: %s", exc)

    def submit(self, work: Callable[[Progress], dict[str, Any]], owner: str | None = None) -> Job:
        """Queue ``work(progress)``; its return value becomes the job's ``result``."""
        job = Job(id=uuid.uuid4().hex, created=time.time(), owner=owner)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._executor().submit(self._run, job, work)
        return job

    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        """The job, if ``owner`` made it (None for another key's job, as for a missing one)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job.model_copy() if job is not None and job.owner == owner else None

    def _run(self, job: Job, work: Callable[[Progress], dict[str, Any]]) -> None:
        job.status, job.started = "running", time.time()

        def progress(done: int, total: int) -> None:
            job.chunks_done, job.chunks_total = done, total

        try:
            job.result = work(progress)
            job.status = "done"
        except HTTPException as exc:
            job.status, job.error, job.error_status = "failed", str(exc.detail), exc.status_code
        except Exception as exc:  # reported on the job; the traceback goes to the log
            from api.errors import public_reason, storage_problem

            log.exception("ingest job %s failed", job.id)
            problem = storage_problem(exc)
            reason = public_reason(exc)
            job.status = "failed"
            job.error_status, job.error = problem or (
                503,
                "The document store is unavailable; retry the upload"
                + (f" ({reason})." if reason else "."),
            )
        finally:
            job.finished = time.time()
            release_memory()

    def _forget_old(self) -> None:
        finished = [i for i, j in self._jobs.items() if j.finished is not None]
        for job_id in finished[: max(0, len(finished) - KEEP)]:
            del self._jobs[job_id]

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


# glibc keeps freed heap in per-thread arenas: after a large ingest the server held ~0.8 GB it
# no longer used (issue 13 item 7). Fewer arenas, and a trim after each job, give it back.
M_ARENA_MAX = -8


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
    except OSError:  # pragma: no cover - not glibc
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas (each thread would otherwise get one, up to 8 per core)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, arenas)


def release_memory() -> None:
    """Return freed heap pages to the OS (glibc ``malloc_trim``); a no-op elsewhere."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)

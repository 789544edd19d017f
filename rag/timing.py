"""Per-step timings of one answer (``AnswerResult.timings``), shared by every kind of answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def timed(timings: dict[str, float], step: str) -> Iterator[None]:
    """Add the seconds the block takes to ``timings[step]`` (a step may run more than once)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = round(timings.get(step, 0.0) + time.perf_counter() - start, 4)


def summed(timings: list[dict[str, float]]) -> dict[str, float]:
    """Per-step seconds over several answers (the parts of one question)."""
    out: dict[str, float] = {}
    for t in timings:
        for step, seconds in t.items():
            out[step] = round(out.get(step, 0.0) + seconds, 4)
    return out

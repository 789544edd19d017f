"""Helpers shared by the bench scripts: timing, percentiles, memory, tables and JSON output.

The scripts run as ``python bench/<name>.py`` from the repository root (``make bench``), so
``bench`` is not an installed package; each script puts the repository root on ``sys.path``
before importing this module.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100) of a non-empty sequence."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def rss_mb() -> float:
    """Current resident set size of this process, in MiB (Linux ``/proc``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def dir_size_mb(path: Path) -> float:
    """Bytes under ``path`` (files only, symlinks not followed), in MiB."""
    total = 0
    if path.exists():
        for root, _dirs, files in os.walk(path):
            for name in files:
                try:
                    total += (Path(root) / name).lstat().st_size
                except OSError:
                    continue
    return total / (1024.0 * 1024.0)


class PhaseTimer:
    """Accumulates wall time per named phase; ``wrap`` instruments a bound method in place.

    Wrapping sets an attribute on the *instance*, so modules stay untouched and other
    instances are unaffected. A phase entered while another is running is recorded as its
    child (indented in ``rows``), so totals never count the same time twice.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[str] = []

    def wrap(self, obj: Any, method: str, name: str | None = None) -> None:
        fn: Callable[..., Any] = getattr(obj, method)
        label = name or f"{type(obj).__name__}.{method}"

        @wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.phase(label):
                return fn(*args, **kwargs)

        setattr(obj, method, timed)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        key = "  " * len(self._stack) + name
        self.seconds.setdefault(key, 0.0)
        self.calls.setdefault(key, 0)
        self._stack.append(key)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[key] += time.perf_counter() - started
            self.calls[key] += 1
            self._stack.pop()

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def rows(self, total: float) -> list[list[Any]]:
        """(phase, seconds, % of ``total``, calls) in first-entered order, plus the remainder."""
        pct = 100.0 / total if total > 0 else 0.0
        out: list[list[Any]] = [[k, s, s * pct, self.calls[k]] for k, s in self.seconds.items()]
        top = sum(s for k, s in self.seconds.items() if not k.startswith(" "))
        out.append(["other (not instrumented)", total - top, (total - top) * pct, ""])
        return out


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned table (Markdown pipe syntax, so it can be pasted into docs)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            if math.isnan(value):
                return "-"
            return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
        return str(value)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    out = [line(list(headers)), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(r) for r in text)
    return "\n".join(out)


def machine_info(threads: int | None = None) -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        # Other work on a shared machine shows up here; figures are noisier when it is > cores.
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if threads is not None:
        info["torch_threads"] = threads
    return info


def emit_json(figures: dict[str, Any]) -> None:
    """Print the figures as one JSON object on the last line of stdout."""
    print(json.dumps(figures, sort_keys=True), flush=True)


def round_floats(value: Any, digits: int = 3) -> Any:
    """Round floats recursively so the JSON line stays readable."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [round_floats(v, digits) for v in value]
    return value

"""What a hostile upload costs the server (issue 26 items 1-2): CPU seconds and peak RSS of
the process that receives it, and of its parser child, for the PDF and DOCX bombs.

    python bench/hostile_parse.py [--code DIR] [--in-process] [--limit S] pdf|pdf2|docx

``--code`` imports the readers from another checkout (e.g. a worktree of the commit before
the fix, where every parse runs in the server); the fixtures always come from this one.
``--limit`` stops a parse still running after S seconds (the "before" bombs run for hours).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def main() -> None:
    args = _parse_args()
    data, suffix = _bomb_bytes(args)
    from ingest.loaders import LoadError, parse_bytes

    def stop(*_: object) -> None:
        raise TimeoutError

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, args.limit)
    base_cpu = resource.getrusage(resource.RUSAGE_SELF)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    child: dict[str, float] = {}
    try:
        if args.in_process:
            docs = parse_bytes(data, suffix, "bomb", "bomb")
        else:
            from ingest.sandbox import parse_limited

            docs = parse_limited(data, suffix, "bomb", "bomb", on_cost=child.update)
        outcome = f"parsed ({sum(len(d.text) for d in docs)} characters)"
    except LoadError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    except TimeoutError:
        outcome = f"still parsing after {args.limit:g} s; stopped"
    signal.setitimer(signal.ITIMER_REAL, 0)
    me = resource.getrusage(resource.RUSAGE_SELF)
    rss_now = next(
        int(line.split()[1]) // 1024
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    _print_result(args, data, started, base_cpu, rss_before, me, rss_now, child, outcome)


def _parse_args() -> argparse.Namespace:
    """The command line: which bomb, whose code, where it is parsed, and the time limit."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("bomb", choices=["pdf", "pdf2", "docx"])
    ap.add_argument("--code", type=Path, default=HERE)
    ap.add_argument("--in-process", action="store_true", help="parse_bytes in this process")
    ap.add_argument("--limit", type=float, default=600.0)
    return ap.parse_args()


def _bomb_bytes(args: argparse.Namespace) -> tuple[bytes, str]:
    """Put ``--code`` on the path, then build the bomb from this checkout's fixtures."""
    sys.path.insert(0, str(args.code))
    spec = importlib.util.spec_from_file_location("formats", HERE / "tests/fixtures/formats.py")
    assert spec is not None and spec.loader is not None
    formats = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(formats)

    data, suffix = {
        "pdf": lambda: (formats.shared_stream_pdf(2_000, 1_000_000), ".pdf"),
        "pdf2": lambda: (formats.shared_stream_pdf(2, 50_000), ".pdf"),
        "docx": lambda: (formats.empty_paragraphs_docx(), ".docx"),
    }[args.bomb]()
    return data, suffix


def _print_result(
    args: argparse.Namespace,
    data: bytes,
    started: float,
    base_cpu: resource.struct_rusage,
    rss_before: int,
    me: resource.struct_rusage,
    rss_now: int,
    child: dict[str, float],
    outcome: str,
) -> None:
    """The one-line JSON result (wall time is read here, as it was when the line was built)."""
    print(
        json.dumps(
            {
                "bomb": args.bomb,
                "bytes": len(data),
                "code": str(args.code),
                "where": "server process" if args.in_process else "child process",
                "wall_s": round(time.monotonic() - started, 1),
                "server_cpu_s": round(
                    me.ru_utime + me.ru_stime - base_cpu.ru_utime - base_cpu.ru_stime, 2
                ),
                "server_rss_before_mb": rss_before // 1024,
                "server_peak_rss_mb": me.ru_maxrss // 1024,
                "server_rss_after_mb": rss_now,
                "child_cpu_s": round(child.get("cpu_s", 0.0), 2),
                "child_peak_rss_mb": round(child.get("peak_rss_mb", 0.0)),
                "outcome": outcome,
            }
        )
    )


if __name__ == "__main__":
    main()

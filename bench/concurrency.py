"""N concurrent clients against a live server on loopback: throughput, p95, errors.

Bounded in count and time: each level sends at most --requests requests and stops after
--max-seconds. Usage: python bench/concurrency.py [--levels 1,4,16,50] [--json]

Issue 14's goal is 0 errors at every level (a timeout or any non-200 is an error); the JSON
line gives errors, requests, p50 and p95 per level and the load average, since two cores
shared with other work bound req/s more than the server does.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.answer import questions
from bench.common import emit_json, format_table, machine_info, percentile, round_floats
from bench.server import RGB_PASSAGES, SEED_CORPUS, live_server


def run_level(url: str, clients: int, total: int, max_seconds: float, qs: list[str]) -> list:
    """Send ``total`` questions from ``clients`` threads: [clients, rps, p50, p95, errors]."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=url, timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                started = time.perf_counter()
                try:
                    ok = (
                        client.post("/v1/ask", json={"question": qs[i % len(qs)]}).status_code
                        == 200
                    )
                except httpx.HTTPError:
                    ok = False
                with lock:
                    latencies.append(time.perf_counter() - started)
                    errors += 0 if ok else 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    elapsed = time.perf_counter() - started
    return [
        clients,
        len(latencies) / elapsed,
        percentile(latencies, 50),
        percentile(latencies, 95),
        errors,
        len(latencies),
        round(os.getloadavg()[0], 2),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="1,4,16,50")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    qs = questions(40)
    corpus = [SEED_CORPUS] + ([RGB_PASSAGES] if RGB_PASSAGES.exists() else [])
    rows = []
    with live_server(corpus, {"BRIEFQA_RATE_LIMIT_PER_MINUTE": "0"}) as (url, _pid):
        httpx.post(f"{url}/v1/ask", json={"question": qs[0]}, timeout=60)  # warm-up
        for level in (int(x) for x in args.levels.split(",")):
            rows.append(run_level(url, level, args.requests, args.max_seconds, qs))
    print(machine_info())
    print(format_table(["clients", "req/s", "p50 s", "p95 s", "errors", "requests", "load"], rows))
    by_level = {r[0]: r for r in rows}
    figures = {
        "errors": sum(r[4] for r in rows),
        "p95_s_at_16": by_level[16][3] if 16 in by_level else float("nan"),
        **{f"rps_at_{r[0]}": r[1] for r in rows},
        **{f"errors_at_{r[0]}": r[4] for r in rows},
        **{f"requests_at_{r[0]}": r[5] for r in rows},
        **{f"p50_s_at_{r[0]}": r[2] for r in rows},
        **{f"p95_s_at_{r[0]}": r[3] for r in rows},
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if args.json:
        emit_json(round_floats(figures))


if __name__ == "__main__":
    main()

"""Uploads while the server answers: question latency during a large upload (issue 13 item 2)
and server memory after ingesting megabytes of articles (item 7), through the real API.

    python bench/uploads.py latency [--mb 2.0] [--json]
    python bench/uploads.py memory  [--mb 5.0] [--json]

``latency``: idle p50 of /v1/ask over the seed store, then the same questions asked one after
another while one large text upload (fictional articles, ``--mb`` megabytes) is ingested as a
background job; the ratio ``during_p50 / idle_p50`` is the figure (target <= 2).
``memory``: the server's RSS (VmRSS, and its high-water mark VmHWM) before and after
uploading ``--mb`` megabytes as 1 MB documents (target: after <= 1 GB).
Both print one JSON line measured in one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit_json, machine_info, percentile, round_floats
from bench.server import SEED_CORPUS, live_server

ENV = {"BRIEFQA_RATE_LIMIT_PER_MINUTE": "0"}  # one client asking fast: measure the service
QUESTIONS = [
    "who represented India at the Finance Ministerial?",
    "Who convened the Critical Minerals Ministerial?",
    "When will Jaishankar visit the United States?",
    "Who hosted the Finance Ministerial in Washington?",
    "What is the Critical Minerals Mission?",
]
_TOWNS = ("Quarrow", "Tarnwick", "Orrin", "Brimhaven", "Vellmark", "Ashgrove", "Dunmere")
_THINGS = ("ferry", "bridge", "harbour wall", "orchard", "clinic", "mill", "lighthouse")
_VERBS = ("approved", "delayed", "inspected", "funded", "reopened", "questioned", "praised")


def articles(megabytes: float, seed: int = 0) -> str:
    """Fictional local-news articles, about ``megabytes`` MB of text."""
    rng = random.Random(seed)
    out: list[str] = []
    size, n = 0, 0
    while size < megabytes * 1_000_000:
        n += 1
        town = rng.choice(_TOWNS)
        lines = [f"{town} Gazette, report {n}"]
        for _ in range(rng.randint(6, 14)):
            lines.append(
                f"The {town} council {rng.choice(_VERBS)} plans for the {rng.choice(_THINGS)} "
                f"on day {rng.randint(1, 28)}, with {rng.randint(2, 900)} residents attending "
                f"and a budget of {rng.randint(1, 90)}.{rng.randint(0, 9)} million crowns."
            )
        text = " ".join(lines) + "\n\n"
        out.append(text)
        size += len(text)
    return "".join(out)


def ask(http: httpx.Client, question: str) -> float:
    started = time.perf_counter()
    response = http.post("/v1/ask", json={"question": question})
    response.raise_for_status()
    return time.perf_counter() - started


def upload(http: httpx.Client, doc_id: str, text: str) -> httpx.Response:
    response = http.post(
        "/v1/documents",
        params={"doc_id": doc_id},
        content=text.encode(),
        headers={"Content-Type": "text/plain"},
    )
    response.raise_for_status()
    return response


def wait_job(http: httpx.Client, response: httpx.Response, timeout: float = 1800) -> dict:
    if response.status_code != 202:
        return {"status": "done", "result": response.json()}
    url = response.json()["url"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get(url).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise TimeoutError("upload job did not finish")


def latency(mb: float, idle_n: int) -> dict:
    text = articles(mb)
    server = live_server([SEED_CORPUS], env=ENV)
    with server as (url, _), httpx.Client(base_url=url, timeout=600) as http:
        for q in QUESTIONS:  # warm: first-question costs are not what we measure
            ask(http, q)
        idle = [ask(http, QUESTIONS[i % len(QUESTIONS)]) for i in range(idle_n)]
        started = time.perf_counter()
        response = upload(http, "bench/large-upload.txt", text)
        accepted = time.perf_counter() - started
        during: list[float] = []
        url_job = response.json().get("url") if response.status_code == 202 else None
        while url_job and http.get(url_job).json()["status"] in ("queued", "running"):
            during.append(ask(http, QUESTIONS[len(during) % len(QUESTIONS)]))
        job = wait_job(http, response)
        upload_s = time.perf_counter() - started
    idle_p50 = statistics.median(idle)
    during_p50 = statistics.median(during) if during else float("nan")
    return {
        "bench": "question during upload",
        "upload_mb": round(len(text) / 1e6, 2),
        "upload_status": response.status_code,
        "upload_accepted_s": accepted,
        "upload_seconds": upload_s,
        "job_status": job["status"],
        "chunks_written": (job.get("result") or {}).get("chunks_written"),
        "idle_n": len(idle),
        "idle_p50_s": idle_p50,
        "during_n": len(during),
        "during_p50_s": during_p50,
        "during_p95_s": percentile(during, 95),
        "during_max_s": max(during) if during else None,
        "ratio_p50": during_p50 / idle_p50,
        "target_ratio_p50": 2.0,
        "machine": machine_info(),
    }


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def memory(mb: float) -> dict:
    parts = max(1, round(mb))
    texts = [articles(mb / parts, seed=i) for i in range(parts)]
    server = live_server([SEED_CORPUS], env=ENV)
    with server as (url, pid), httpx.Client(base_url=url, timeout=1800) as http:
        ask(http, QUESTIONS[0])
        before = status_mb(pid, "VmRSS")
        started = time.perf_counter()
        chunks = 0
        for i, text in enumerate(texts):
            job = wait_job(http, upload(http, f"bench/articles-{i}.txt", text))
            assert job["status"] == "done", job
            chunks += job["result"]["chunks_written"]
        seconds = time.perf_counter() - started
        ask(http, QUESTIONS[0])
        after = status_mb(pid, "VmRSS")
        peak = status_mb(pid, "VmHWM")
    return {
        "bench": "server memory after uploads",
        "uploaded_mb": round(sum(map(len, texts)) / 1e6, 2),
        "uploads": parts,
        "chunks_written": chunks,
        "ingest_seconds": seconds,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "rss_peak_mb": peak,
        "target_rss_after_mb": 1024,
        "machine": machine_info(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["latency", "memory"])
    parser.add_argument("--mb", type=float, default=None)
    parser.add_argument("--idle", type=int, default=30, help="idle questions (latency)")
    parser.add_argument("--json", action="store_true", help="only the JSON line")
    args = parser.parse_args()
    if args.mode == "latency":
        figures = latency(args.mb or 2.0, args.idle)
    else:
        figures = memory(args.mb or 5.0)
    if not args.json:
        for key, value in round_floats(figures).items():
            if key != "machine":
                print(f"{key:>22}: {value}")
    emit_json(round_floats(figures))


if __name__ == "__main__":
    main()

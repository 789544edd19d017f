"""`/v1/ask` end-to-end latency per answerer, streaming time to first token, server peak RSS.

Goals (issue 5): default answerer p50 <= 1 s; local LLM time to first token <= 2 s;
RSS <= 1.5 GB. Usage: python bench/answer.py [--answerers extractive,local-llm] [--json]

With ``--sizes 1000,10000,100000`` (issue 14) it measures per store size instead: the seed
briefing + RGB passages are ingested once by the CLI (~1k real chunks), copied per size and
padded to that many chunks with synthetic filler written straight to the store
(``bench/fill.py``, reusing ``bench/retrieval.py``'s generator) before the server starts;
then p50/p95 of every step in the response's ``timings`` (rag/service.py ``_timed``: rewrite,
retrieve, select_evidence, decide, read, answer, cite, verify, total) and of client wall time, with
the default extractive answerer and its trained span reader, plus the server's peak RSS.
Goals: p50 <= 1.0 s and p95 <= 2.0 s at 10k; RSS <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.common import REPO, emit_json, format_table, machine_info, percentile, round_floats
from bench.fill import pad_in_subprocess
from bench.server import RGB_PASSAGES, SEED_CORPUS, cli_ingest, live_server, peak_rss_mb, serve
from rag.service import STEPS  # the response's ``timings`` keys

SIZE_GOALS = {"p50_s": 1.0, "p95_s": 2.0, "rss_mb": 1536.0}


def questions(limit: int) -> list[str]:
    gold = REPO / "eval" / "gold" / "seed.jsonl"
    items = [json.loads(line) for line in gold.read_text().splitlines() if line.strip()]
    return [i["question"] for i in items if not i.get("history")][:limit]


def time_to_first_token(client: httpx.Client, question: str, answerer: str) -> float:
    """Seconds until the first content delta of a streamed chat completion."""
    body = {"model": answerer, "stream": True, "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: ") and '"content"' in line:
                payload = json.loads(line[6:])
                delta = (
                    payload["choices"][0]["delta"].get("content")
                    if payload.get("choices")
                    else None
                )
                if delta:
                    return time.perf_counter() - started
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answerers", default="extractive,local-llm")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--llm-questions", type=int, default=5)
    parser.add_argument(
        "--sizes", default=None, help="e.g. 1000,10000,100000: per-step latency per store size"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.sizes:
        run_sizes([int(s) for s in args.sizes.split(",") if s], args)
        return

    names = [a for a in args.answerers.split(",") if a]
    if "local-llm" in names:
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            print("local-llm skipped: llama-cpp-python not installed (make install-llm)")
            names.remove("local-llm")
    env = {"BRIEFQA_ANSWERER": "local-llm" if "local-llm" in names else "extractive"}
    corpus = [SEED_CORPUS] + ([RGB_PASSAGES] if RGB_PASSAGES.exists() else [])
    rows, figures = [], {}
    with live_server(corpus, env) as (url, pid), httpx.Client(base_url=url, timeout=300) as client:
        for name in names:
            n = args.llm_questions if name != "extractive" else args.questions
            qs = questions(n)
            client.post("/v1/ask", json={"question": qs[0], "answerer": name})  # warm-up
            latencies = []
            for q in qs:
                started = time.perf_counter()
                client.post("/v1/ask", json={"question": q, "answerer": name}).raise_for_status()
                latencies.append(time.perf_counter() - started)
            ttft = [time_to_first_token(client, q, name) for q in qs[: min(3, len(qs))]]
            p50, p95, ttft50 = (
                percentile(latencies, 50),
                percentile(latencies, 95),
                percentile(ttft, 50),
            )
            rows.append([name, len(qs), p50, p95, ttft50])
            figures[f"ask_p50_s_{name}"], figures[f"ask_p95_s_{name}"] = p50, p95
            figures[f"ttft_s_{name}"] = ttft50
        rss = peak_rss_mb(pid)
    figures["ask_p50_s"] = figures.get("ask_p50_s_extractive", float("nan"))
    figures["ttft_llm_s"] = figures.get("ttft_s_local-llm", float("nan"))
    figures["rss_mb"] = rss
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(machine_info())
    print(
        format_table(["answerer", "questions", "ask p50 s", "ask p95 s", "stream TTFT p50 s"], rows)
    )
    print(f"server peak RSS: {rss:.0f} MB (goal <= 1536)")
    if args.json:  # NaN (a figure not measured) is not JSON: emit null
        emit_json(round_floats({k: (None if v != v else v) for k, v in figures.items()}))


def _label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def run_size(base: Path, n: int, qs: list[str], work: Path) -> dict:
    """Copy the real store, pad it to ``n`` chunks, serve it, time ``qs`` (after one warm-up)."""
    data = work / f"n{n}"
    shutil.copytree(base, data)
    filled = pad_in_subprocess(data, n)
    print(
        f"n={n}: {filled['real_chunks']} real + {filled['filler_chunks']} filler chunks "
        f"written in {filled['fill_s']:.1f} s",
        file=sys.stderr,
    )
    env = {"BRIEFQA_DATA_DIR": str(data), "BRIEFQA_RATE_LIMIT_PER_MINUTE": "0"}
    env["BRIEFQA_ANSWERER"] = "extractive"
    started = time.perf_counter()
    steps: dict[str, list[float]] = {s: [] for s in (*STEPS, "client_wall")}
    with serve(env) as (url, pid), httpx.Client(base_url=url, timeout=300) as client:
        ready_s = time.perf_counter() - started
        load_start = round(os.getloadavg()[0], 2)
        client.post("/v1/ask", json={"question": "warm-up: what happened?"}).raise_for_status()
        for q in qs:
            t0 = time.perf_counter()
            response = client.post("/v1/ask", json={"question": q})
            wall = time.perf_counter() - t0
            response.raise_for_status()
            timings = response.json().get("timings") or {}
            for s in STEPS:
                steps[s].append(float(timings.get(s, 0.0)))
            steps["client_wall"].append(wall)
        rss = peak_rss_mb(pid)
    shutil.rmtree(data, ignore_errors=True)
    out: dict = {
        "n": n,
        "chunks": filled["chunks"],
        "filler_chunks": filled["filler_chunks"],
        "fill_s": filled["fill_s"],
        "server_ready_s": ready_s,
        "questions": len(qs),
        "rss_mb": rss,
        "load_avg_1m_start": load_start,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    for s, values in steps.items():
        out[f"{s}_p50_s"] = percentile(values, 50)
        out[f"{s}_p95_s"] = percentile(values, 95)
    return out


def run_sizes(sizes: list[int], args: argparse.Namespace) -> None:
    qs = questions(args.questions)
    corpus = [SEED_CORPUS] + ([RGB_PASSAGES] if RGB_PASSAGES.exists() else [])
    with tempfile.TemporaryDirectory(prefix="briefqa-bench-sizes-") as tmp:
        work = Path(tmp)
        base = work / "base"
        started = time.perf_counter()
        cli_ingest(corpus, {"BRIEFQA_DATA_DIR": str(base)})
        ingest_s = time.perf_counter() - started
        results = [run_size(base, n, qs, work) for n in sizes]
    print(machine_info())
    print(f"real corpus (seed + RGB) ingested by the CLI once in {ingest_s:.1f} s; extractive")
    print(f"answerer; {len(qs)} questions per size after one warm-up; seconds\n")
    for r in results:
        print(
            f"### {_label(r['n'])}: {r['chunks']} chunks ({r['filler_chunks']} filler, written "
            f"in {r['fill_s']:.1f} s), server ready in {r['server_ready_s']:.1f} s, peak RSS "
            f"{r['rss_mb']:.0f} MB, load {r['load_avg_1m_start']} -> {r['load_avg_1m']}"
        )
        rows = [[s, r[f"{s}_p50_s"], r[f"{s}_p95_s"]] for s in (*STEPS, "client_wall")]
        print(format_table(["step", "p50 s", "p95 s"], rows))
        print()
    goals = []
    for r in results:
        if r["n"] == 10_000:
            goals.append(["client p50 at 10k (s)", r["client_wall_p50_s"], "<= 1.0"])
            goals.append(["client p95 at 10k (s)", r["client_wall_p95_s"], "<= 2.0"])
        goals.append([f"peak RSS at {_label(r['n'])} (MB)", r["rss_mb"], "<= 1536"])
    for row in goals:
        value, goal = row[1], float(row[2].split()[-1])
        row.append("yes" if value <= goal else "NO")
    print(format_table(["goal", "value", "target", "met"], goals))
    if args.json:
        figures: dict = {"sizes": {_label(r["n"]): r for r in results}, "ingest_s": ingest_s}
        for r in results:
            for key in ("client_wall_p50_s", "client_wall_p95_s", "total_p50_s", "rss_mb"):
                figures[f"{key}_{_label(r['n'])}"] = r[key]
        figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
        emit_json(round_floats({k: (None if v != v else v) for k, v in figures.items()}, 4))


if __name__ == "__main__":
    main()

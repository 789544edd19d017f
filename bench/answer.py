"""`/v1/ask` end-to-end latency per answerer, streaming time to first token, server peak RSS.

Goals (issue 5): default answerer p50 <= 1 s; local LLM time to first token <= 2 s;
RSS <= 1.5 GB. Usage: python bench/answer.py [--answerers extractive,local-llm] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.common import REPO, emit_json, format_table, machine_info, percentile, round_floats
from bench.server import RGB_PASSAGES, SEED_CORPUS, live_server, peak_rss_mb


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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

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
    print(machine_info())
    print(
        format_table(["answerer", "questions", "ask p50 s", "ask p95 s", "stream TTFT p50 s"], rows)
    )
    print(f"server peak RSS: {rss:.0f} MB (goal <= 1536)")
    if args.json:  # NaN (a figure not measured) is not JSON: emit null
        emit_json(round_floats({k: (None if v != v else v) for k, v in figures.items()}))


if __name__ == "__main__":
    main()

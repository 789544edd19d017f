"""The first question on one replica after a one-document write through another (issue 14).

Two API servers (replicas A and B) share one real Chroma server (``chroma run`` from the
venv, ``BRIEFQA_CHROMA_URL``), each with its own data dir, so each keeps its own BM25 index as
separate machines would. The store holds the seed briefing + RGB passages (ingested once by
the CLI) padded with synthetic filler (``bench/fill.py``) to each size, smallest first (the
store only grows, so one ingest serves every size). Per size:

1. B answers one warm-up and then ``--questions`` distinct questions: its usual p50/p95;
2. one small document is written through A (``POST /v1/documents``, synchronous: under
   ``async_upload_bytes``), which bumps the store's generation;
3. B's next question (a question it has not seen) is timed: today it rebuilds BM25 in full
   inside that request; then a few more questions show it has recovered.

Goal: B's first question after the write <= 2x its usual p50 at 100k chunks.

    python bench/replica.py [--sizes 10000,100000] [--questions 20] [--json]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.answer import questions
from bench.common import emit_json, format_table, machine_info, percentile, round_floats
from bench.fill import pad_in_subprocess
from bench.server import RGB_PASSAGES, SEED_CORPUS, cli_ingest, peak_rss_mb, serve

GOAL_RATIO = 2.0
AFTER = 3  # questions after the first one, to show B is back to its usual latency


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    """``chroma run`` on a free loopback port; (process, URL) once its heartbeat answers."""
    chroma = Path(sys.executable).parent / "chroma"
    port = _free_port()
    log = open(path.parent / "chroma.log", "w")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited with {proc.returncode}; see {log.name}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise TimeoutError("chroma run not ready in 60 s")


def ask(client: httpx.Client, question: str) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    response = client.post("/v1/ask", json={"question": question})
    wall = time.perf_counter() - started
    response.raise_for_status()
    return wall, response.json().get("timings") or {}


def the_document(n: int) -> bytes:
    """A new, small, real-length briefing (a varied one, so its text is nowhere in the store)."""
    from bench.variants import load_sources, render_md, variant_paragraphs

    src = next(s for s in load_sources() if s.date)  # a fictional briefing, not SQuAD
    variant = 50_000 + n
    return render_md(src.title, src.date, src.source, variant_paragraphs(variant, src)).encode()


def run_size(n: int, chroma_url: str, root: Path, qs: list[str]) -> dict[str, Any]:
    filled = pad_in_subprocess(root / "fill", n, chroma_url)
    print(
        f"n={n}: {filled['chunks']} chunks, filler written in {filled['fill_s']:.1f} s",
        file=sys.stderr,
    )
    common = {"BRIEFQA_CHROMA_URL": chroma_url, "BRIEFQA_RATE_LIMIT_PER_MINUTE": "0"}
    env_a = {**common, "BRIEFQA_DATA_DIR": str(root / f"a-{n}")}
    env_b = {**common, "BRIEFQA_DATA_DIR": str(root / f"b-{n}")}
    baseline_qs, first_q, after_qs = qs[: -1 - AFTER], qs[-1 - AFTER], qs[-AFTER:]
    started = time.perf_counter()
    with serve(env_a) as (url_a, pid_a), serve(env_b) as (url_b, pid_b):
        ready_s = time.perf_counter() - started
        with (
            httpx.Client(base_url=url_a, timeout=600) as a,
            httpx.Client(base_url=url_b, timeout=600) as b,
        ):
            ask(a, "warm-up: what happened?")
            ask(b, "warm-up: what happened?")
            load_start = _load()
            before = [ask(b, q) for q in baseline_qs]
            t0 = time.perf_counter()
            wrote = a.post(
                "/v1/documents",
                params={"doc_id": f"bench-replica-write-{n}.md"},
                content=the_document(n),
                headers={"Content-Type": "text/markdown"},
            )
            write_s = time.perf_counter() - t0
            wrote.raise_for_status()
            if wrote.status_code != 200:
                raise RuntimeError(f"write answered {wrote.status_code}: {wrote.text[:300]}")
            first_wall, first_timings = ask(b, first_q)
            after = [ask(b, q) for q in after_qs]
            a_first_wall, _ = ask(a, after_qs[0])
        rss_b = peak_rss_mb(pid_b)
        rss_a = peak_rss_mb(pid_a)
    walls = [w for w, _ in before]
    p50 = percentile(walls, 50)
    return {
        "n": n,
        "chunks": filled["chunks"],
        "fill_s": filled["fill_s"],
        "replicas_ready_s": ready_s,
        "b_questions": len(walls),
        "b_p50_s": p50,
        "b_p95_s": percentile(walls, 95),
        "b_retrieve_p50_s": percentile([t.get("retrieve", 0.0) for _, t in before], 50),
        "write_via_a_s": write_s,
        "write_chunks": wrote.json().get("chunks_written"),
        "b_first_after_write_s": first_wall,
        "b_first_after_write_retrieve_s": first_timings.get("retrieve"),
        "first_over_p50": first_wall / p50,
        "b_after_p50_s": percentile([w for w, _ in after], 50),
        "a_first_after_own_write_s": a_first_wall,
        "rss_a_mb": rss_a,
        "rss_b_mb": rss_b,
        "load_avg_1m_start": load_start,
        "load_avg_1m": _load(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000", help="chunk counts, ascending")
    p.add_argument("--questions", type=int, default=20, help="B's baseline questions")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    qs = questions(args.questions + 1 + AFTER)
    if len(qs) < args.questions + 1 + AFTER:
        sys.exit(f"only {len(qs)} distinct gold questions; ask for fewer")
    results, ingest_s = _run_sizes(sizes, qs)

    print(machine_info())
    print(
        f"one Chroma server (chroma run), replicas A and B (own data dirs, own BM25); real "
        f"corpus ingested by the CLI in {ingest_s:.1f} s, padded with synthetic filler"
    )
    _print_table(results)
    for r in results:
        if r["n"] == 100_000:
            met = "yes" if r["first_over_p50"] <= GOAL_RATIO else "NO"
            print(f"goal at 100k: first / p50 <= {GOAL_RATIO}: {r['first_over_p50']:.1f} ({met})")
    figures: dict[str, Any] = {"mode": "chroma-server", "ingest_s": ingest_s}
    for r in results:
        label = f"{r['n'] // 1000}k"
        figures[label] = r
        figures[f"first_over_p50_{label}"] = r["first_over_p50"]
    figures["load_avg_1m"] = _load()
    if args.json:
        emit_json(round_floats(figures))
    return figures


def _run_sizes(sizes: list[int], qs: list[str]) -> tuple[list[dict[str, Any]], float]:
    """One Chroma server, the real corpus ingested once, then every size: results, ingest s."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="briefqa-bench-replica-") as tmp:
        root = Path(tmp)
        chroma, url = start_chroma(root / "chroma")
        try:
            started = time.perf_counter()
            corpus = [SEED_CORPUS] + ([RGB_PASSAGES] if RGB_PASSAGES.exists() else [])
            cli_ingest(corpus, {"BRIEFQA_CHROMA_URL": url, "BRIEFQA_DATA_DIR": str(root / "in")})
            ingest_s = time.perf_counter() - started
            for n in sizes:
                results.append(run_size(n, url, root, qs))
                print(f"n={n}: {results[-1]}", file=sys.stderr)
        finally:
            chroma.terminate()
            chroma.wait(timeout=30)
    return results, ingest_s


def _print_table(results: list[dict[str, Any]]) -> None:
    """The per-size table: B's usual latency, the write, and B's first question after it."""
    rows = []
    for r in results:
        rows.append(
            [
                r["chunks"],
                r["b_p50_s"],
                r["b_p95_s"],
                r["write_via_a_s"],
                r["b_first_after_write_s"],
                r["first_over_p50"],
                r["b_after_p50_s"],
                r["a_first_after_own_write_s"],
                f"{r['load_avg_1m_start']} -> {r['load_avg_1m']}",
            ]
        )
    print(
        format_table(
            [
                "chunks",
                "B p50 s",
                "B p95 s",
                "write via A s",
                "B first after s",
                "first / p50",
                f"B next {AFTER} p50 s",
                "A first after s",
                "load",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()

"""Screenshots of three answers of each kind (issue 28), as the web chat shows them.

Starts ``briefqa serve`` on the collection ``make eval`` fills (under ``BRIEFQA_DATA_DIR``,
default ``./data``) with the seed, the fictional briefings, RGB and SQuAD, asks the questions
of ``KINDS`` in one chat per kind, and writes ``docs/screenshot-kind-<kind>.png``.
Needs Chromium and playwright (``pip install -e '.[test]'``, ``make install-browser``):

    BRIEFQA_DATA_DIR=./data python scripts/screenshot_kinds.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.run import eval_settings  # noqa: E402
from rag.config import Settings  # noqa: E402

CORPORA = (
    "corpus",
    "eval/gold/briefings",
    "../shared/benchmarks/rgb/passages.jsonl",
    "../shared/benchmarks/squad2-normans/corpus.jsonl",
)
CHROMIUM = Path("/usr/bin/chromium")
KINDS: dict[str, tuple[str, str, str]] = {
    "list": (
        "Which economies did Scott Bessent convene at the Finance Ministerial?",
        "Name the founders of Cobalt Loop.",
        "Name the four ministries whose budgets Dravia is cutting in 2032.",
    ),
    "summary": (
        "Summarize the Quillon Bridge opening",
        "What are the key points of the Orbis-3 launch?",
        "Give me a summary of the Calder Hills wildfire",
    ),
    "latest": (
        "What is the latest on Ostrelle?",
        "What's new with the Harlow Basin?",
        "What is the latest on Kestrel Energy?",
    ),
    "documents": (
        "Which briefings mention Ferrin?",
        "Which documents mention the Gannet Sea?",
        "In which reports is Aldous Rail Group mentioned?",
    ),
    "parts": (
        "Who opened the Quillon Bridge, and when will tram line 4 start using it?",
        "What was Aldous Rail Group's revenue in the third quarter of 2031, and what was its "
        "operating profit?",
        "Who chaired the Skarn Tunnel inquiry, and who ordered the new pump motor?",
    ),
    "timeline": (
        "Give me a timeline of the Corran interconnector",
        "How has the Harlow Basin dispute developed?",
        "Give me a timeline of Anselm Koivu",
    ),
    "reason": (
        "Why did dock workers at Ferrin go on strike?",
        "How does Cobalt Loop recycle used batteries?",
        "Why was the new motor for pump 2 in the Skarn Tunnel ordered so late?",
    ),
    "compare": (
        "Compare the applications by Tessel Lithium and Gorse Copper to the Mineral Licensing "
        "Board",
        "How does the Bank of Calvania's November 2031 decision compare with the Dravian "
        "National Bank's?",
        "Compare shoreline erosion at Calder Point and Port Aske",
    ),
}


def wait_up(url: str, seconds: float = 300) -> None:
    """Until the server says it is ready (/readyz: models loaded, store open)."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=5):
                return
        except OSError:
            time.sleep(2)
    raise SystemExit(f"the server at {url} did not come up in {seconds:.0f} s")


def ask_all(page: Page, url: str, questions: tuple[str, ...]) -> None:
    """Ask each question in one chat, waiting for each answer to finish streaming."""
    page.goto(f"{url}/")
    for n, question in enumerate(questions, start=1):
        page.fill("#question", question)
        with page.expect_response("**/v1/chat/completions", timeout=180_000) as info:
            page.click("#ask-button")
        info.value.finished()
        answer = page.locator(".message.assistant").nth(n - 1)
        answer.locator(".answer-status:not(.pending)").wait_for(timeout=180_000)
        page.wait_for_timeout(500)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}"
    data = Path(os.environ.get("BRIEFQA_DATA_DIR", "./data"))
    settings = eval_settings(Settings(data_dir=data), [ROOT / c for c in CORPORA])
    env = {
        **os.environ,
        "BRIEFQA_DATA_DIR": str(settings.data_dir),
        "BRIEFQA_COLLECTION": settings.collection,
    }
    briefqa = Path(sys.executable).parent / "briefqa"
    server = subprocess.Popen(
        [str(briefqa), "serve", "--host", "127.0.0.1", "--port", str(args.port)], env=env
    )
    try:
        wait_up(url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 1700})
            for kind in args.kinds.split(","):
                ask_all(page, url, KINDS[kind])
                out = ROOT / "docs" / f"screenshot-kind-{kind}.png"
                page.screenshot(path=str(out), full_page=True)
                print(f"wrote {out.relative_to(ROOT)}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

"""Browser-test fixtures: a live API on a free loopback port over a fresh store (fixture corpus
+ seed briefing), a real eval report to show, and Debian's Chromium driven by Playwright.

uvicorn runs in a thread of the test process so the app shares the session's loaded MiniLM
(a subprocess would load it again). The browser is /usr/bin/chromium from apt (`make
install-browser`); ``playwright install`` is never run, since nothing may download here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI

from api.main import create_app
from rag.components import Components
from rag.config import Settings
from rag.embed import Embedder
from tests.conftest import CORPUS, SEED
from tests.helpers import ingested, live_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
]
SEED_GOLD = Path(__file__).parents[2] / "eval" / "gold" / "seed.jsonl"
SCREENSHOTS = Path(__file__).parents[2] / "docs"


@dataclass
class LiveServer:
    """A running app: ``url`` has no trailing slash."""

    url: str
    app: FastAPI


@pytest.fixture(scope="package")
def ui_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("ui")
    return Settings(
        data_dir=root / "data",
        collection="briefings-ui",
        eval_dir=root / "eval-out",
        api_keys=[],  # auth off whatever the environment says; one test turns it on
        admin_keys=[],
        rate_limit_per_minute=0,  # every test browses from 127.0.0.1
        torch_threads=1,
        _env_file=None,
    )


@pytest.fixture(scope="package")
def ui_components(ui_settings: Settings, embedder: Embedder) -> Components:
    """A fresh store with the fixture corpus and the seed briefing ingested."""
    components = ingested(ui_settings, embedder, [CORPUS, SEED])
    return components


@pytest.fixture(scope="package")
def eval_report(ui_settings: Settings, ui_components: Components) -> Path:
    """A real report (markdown + charts) from the harness: the first seed gold questions."""
    from rich.console import Console

    from eval.harness import run_eval
    from eval.runners import InProcessRunner
    from rag.service import QAService

    root = ui_settings.eval_dir
    root.mkdir(parents=True, exist_ok=True)
    gold = root.parent / "gold.jsonl"
    with SEED_GOLD.open(encoding="utf-8") as fh:
        gold.write_text("".join(itertools.islice(fh, 8)), encoding="utf-8")
    service = QAService(ui_components)
    run_eval(
        gold,
        {"extractive": lambda: InProcessRunner(service)},
        root / "seed",
        console=Console(quiet=True),
    )
    return root / "seed"


@pytest.fixture(scope="package")
def live(
    ui_settings: Settings, ui_components: Components, eval_report: Path
) -> Iterator[LiveServer]:
    app = create_app(ui_settings, ui_components)
    with live_server(app) as url:
        yield LiveServer(url, app)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM}: run `make install-browser` "
            "(apt-get install chromium)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'"
    )
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    """A fresh browser context per test; fails the test on page errors or off-host requests."""
    context = browser.new_context(viewport={"width": 1440, "height": 880}, base_url=live.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    elsewhere: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "request",
        lambda req: (
            None if req.url.startswith((live.url, "blob:", "data:")) else elsewhere.append(req.url)
        ),
    )
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"
    assert elsewhere == [], f"the UI requested other hosts: {elsewhere}"


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """Screenshots go to ``tmp_path``; with BRIEFQA_UPDATE_SCREENSHOTS=1 to docs/ as well."""
    import os

    if os.environ.get("BRIEFQA_UPDATE_SCREENSHOTS") == "1":
        return SCREENSHOTS / name
    return tmp_path / name

"""The /eval page: every summary metric explained in one line, each report's dev/test split
named, and reports read from the folder BRIEFQA_EVAL_DIR names."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[test]'")

from playwright.sync_api import Browser, expect

from api.main import create_app
from rag.components import Components
from rag.config import Settings
from tests.helpers import live_server
from tests.ui.conftest import screenshot_path

REPORT = """# Briefing QA evaluation

- gold: `eval/gold/briefings.jsonl (test split)`
- questions: 12

## Summary

| metric | extractive |
|---|---:|
| n | 12 |
| answer_accuracy | 0.750 |
| token_f1 | 0.113 |
| exact_match | 0.000 |
| squad_f1 | 0.612 |
"""


def test_eval_dir_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BRIEFQA_EVAL_DIR", str(tmp_path / "reports"))
    assert Settings(_env_file=None).eval_dir == tmp_path / "reports"


def test_metrics_are_explained_and_the_split_is_shown(
    browser: Browser, ui_settings: Settings, ui_components: Components, tmp_path: Path
) -> None:
    folder = tmp_path / "reports" / "briefings-test"
    folder.mkdir(parents=True)
    (folder / "report.md").write_text(REPORT, encoding="utf-8")
    settings = ui_settings.model_copy(update={"eval_dir": tmp_path / "reports"})
    with live_server(create_app(settings, ui_components)) as url:
        context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
        try:
            page = context.new_page()
            page.goto("/eval")
            report = page.locator("article.report")
            expect(report).to_have_count(1)  # only this folder's report, not the default dir's
            expect(report.locator(".split-badge")).to_have_text("test split")
            expect(page.locator("#report-index a")).to_have_text("briefings-test (test)")
            table = report.locator("table").first
            expect(table.locator("th").last).to_have_text("what it measures")
            rows = table.locator("tbody tr")
            expect(rows).to_have_count(5)
            for i in range(5):
                expect(rows.nth(i).locator("td.explain")).not_to_be_empty()
            f1 = rows.filter(has_text="token_f1").locator("td.explain")
            expect(f1).to_contain_text("low by design")
            exact = rows.filter(has_text="exact_match").locator("td.explain")
            expect(exact).to_contain_text("near 0 by design")
            page.screenshot(path=screenshot_path(tmp_path, "screenshot-eval-metrics.png"))
        finally:
            context.close()

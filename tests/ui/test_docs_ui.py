"""/docs and /redoc render in Chromium with every non-loopback request refused: the Swagger UI
and ReDoc bundles come from the fastapi-offline wheel, not a CDN."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.ui.conftest import LiveServer, screenshot_path

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route


def network_off(page: Page, live: LiveServer) -> list[str]:
    """Abort every request that leaves the live server; returns the refused URLs."""
    refused: list[str] = []

    def handle(route: Route) -> None:
        if route.request.url.startswith(live.url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", handle)
    return refused


def test_docs_pages_reference_only_local_assets(live: LiveServer) -> None:
    """The pages name only local bundles, and their CSP lets the browser load nothing else."""
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        response = httpx.get(live.url + path)
        html = response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert f"/static/docs/{asset}" in html and "cdn." not in html and "fonts.g" not in html
        bundle = httpx.get(f"{live.url}/static/docs/{asset}")
        assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
        assert "cdn.redoc.ly" not in bundle.text


def test_swagger_ui_renders_offline(page: Page, live: LiveServer, tmp_path: Path) -> None:
    refused = network_off(page, live)
    page.goto("/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="Briefing QA").wait_for()
    page.locator(".opblock-summary-path", has_text="/v1/ask").first.wait_for()
    assert page.evaluate("typeof SwaggerUIBundle") == "function"
    assert refused == []
    page.screenshot(path=screenshot_path(tmp_path, "screenshot-docs-offline.png"))


def test_redoc_renders_offline(page: Page, live: LiveServer) -> None:
    refused = network_off(page, live)
    page.goto("/redoc")
    page.locator("h1", has_text="Briefing QA").first.wait_for()
    page.get_by_text("/v1/chat/completions").first.wait_for(state="attached")
    assert refused == []

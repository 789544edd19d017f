"""The UI's routes without a browser: pages, static files, eval reports, and that chart files
are served only from inside ``eval_dir`` (requests are sent byte for byte, so no client
normalises ``..`` away before the server sees it)."""

from __future__ import annotations

import http.client
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from api.routes.ui import STATIC_DIR, eval_file_path, find_reports
from rag.config import Settings
from tests.ui.conftest import LiveServer

SECRET = b"\x89PNG\r\n\x1a\nSECRET-OUTSIDE-EVAL-DIR"


def raw_get(base: str, target: str) -> tuple[int, bytes, http.client.HTTPResponse]:
    """GET with ``target`` sent exactly as given (http.client does not normalise paths)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        return response.status, response.read(), response
    finally:
        conn.close()


@pytest.fixture(scope="module")
def secret(ui_settings: Settings, eval_report: Path) -> Path:
    """A PNG just outside eval_dir, and a symlink inside eval_dir pointing at it."""
    path = ui_settings.eval_dir.parent / "secret.png"
    path.write_bytes(SECRET)
    link = eval_report / "escape.png"
    if not link.exists():
        link.symlink_to(path)
    return path


def test_pages_and_static_files(live: LiveServer) -> None:
    for page in ("/", "/eval"):
        response = httpx.get(live.url + page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    for name, kind in (("app.js", "javascript"), ("api.js", "javascript"), ("style.css", "css")):
        response = httpx.get(f"{live.url}/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert httpx.get(f"{live.url}/static/nope.js").status_code == 404


def test_static_scripts_never_parse_server_text_as_markup() -> None:
    """Documents are untrusted: the UI must only ever insert them as text."""
    sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|Function\(")
    for script in STATIC_DIR.glob("*.js"):
        assert not sinks.search(script.read_text(encoding="utf-8")), script.name


def test_reports_lists_report_and_charts(live: LiveServer, secret: Path) -> None:
    reports = httpx.get(f"{live.url}/v1/eval/reports").json()
    assert [r["name"] for r in reports] == ["seed"]
    (seed,) = reports
    assert seed["path"] == "seed/report.md"
    assert seed["markdown"].startswith("# Briefing QA evaluation")
    assert seed["charts"] == ["seed/latency.png", "seed/metrics.png"]  # not the symlink


def test_chart_is_served(live: LiveServer) -> None:
    status, body, response = raw_get(live.url, "/v1/eval/files/seed/metrics.png")
    assert status == 200
    assert response.getheader("content-type") == "image/png"
    assert body.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "target",
    [
        "/v1/eval/files/../secret.png",
        "/v1/eval/files/seed/../../secret.png",
        "/v1/eval/files/%2e%2e/secret.png",
        "/v1/eval/files/..%2fsecret.png",
        "/v1/eval/files/seed%2f..%2f..%2fsecret.png",
        "/v1/eval/files/%2E%2E%5Csecret.png",
        "/v1/eval/files/seed/escape.png",  # a symlink leading out
        "/v1/eval/files/seed/report.json",  # inside, but not a chart
        "/v1/eval/files/seed/report.md",
        "/v1/eval/files/seed",
        "/v1/eval/files/",
        "/v1/eval/files/seed/metrics.png%00.png",
    ],
)
def test_nothing_outside_eval_dir_is_served(live: LiveServer, secret: Path, target: str) -> None:
    status, body, _ = raw_get(live.url, target)
    assert status in (400, 404), (target, status)
    assert b"SECRET" not in body


def test_absolute_path_is_refused(live: LiveServer, secret: Path) -> None:
    status, body, _ = raw_get(live.url, "/v1/eval/files/" + str(secret))  # //tmp/.../secret.png
    assert status == 404 and b"SECRET" not in body


def test_eval_file_path_unit(tmp_path: Path) -> None:
    root = tmp_path / "eval-out"
    (root / "run").mkdir(parents=True)
    (root / "run" / "chart.png").write_bytes(b"\x89PNG")
    (tmp_path / "outside.png").write_bytes(b"\x89PNG")
    assert eval_file_path(root, "run/chart.png") == (root / "run" / "chart.png").resolve()
    for bad in (
        "../outside.png",
        "run/../../outside.png",
        str(tmp_path / "outside.png"),
        "",
        "run",
    ):
        assert eval_file_path(root, bad) is None, bad
    assert find_reports(tmp_path / "missing") == []

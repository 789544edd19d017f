"""The browser UI: ``/`` (chat and documents), ``/eval`` (eval reports), and the eval data.

The pages are static shells with no data in them; everything they show comes from ``/v1/*``
calls made with the key the user typed, so the optional API-key auth covers the UI's data too.
Eval reports quote the briefings, which is why they are served under ``/v1/eval`` and not next
to the page. Chart files are served only from inside ``settings.eval_dir`` (no traversal,
PNG only).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from api.deps import SettingsDep

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# Swagger UI and ReDoc bundles from the fastapi-offline wheel (MIT; the bundles keep their own
# licence headers), so /docs and /redoc render with no network: FastAPI's defaults use a CDN.
DOCS_ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
DOCS_ASSETS_URL = "/static/docs"

# Documents are untrusted: even if some text slipped into the DOM as markup, it could neither
# run script nor load anything from elsewhere.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
# The docs pages need inline script/style (Swagger's init, ReDoc's styled components) but
# nothing from elsewhere: the browser itself keeps them offline (ReDoc's bundle would fetch a
# Redocly logo from a CDN; that image is refused and hidden).
DOCS_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
HIDE_REDOCLY_LOGO = '<style>img[alt="redocly logo"]{display:none}</style>'
# The one remote URL in ReDoc's bundle (its sidebar logo), swapped for an empty local image.
REDOC_REMOTE_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_SVG = b"data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27/%3E"
MAX_REPORTS = 50
MAX_REPORT_BYTES = 2_000_000

router = APIRouter()


def static_files() -> StaticFiles:
    """The ``/static`` mount: the UI's scripts and styles (no build step, no CDN)."""
    return StaticFiles(directory=STATIC_DIR)


def docs_files() -> StaticFiles:
    """The ``/static/docs`` mount: Swagger UI and ReDoc assets served from the wheel."""
    return StaticFiles(directory=DOCS_ASSETS_DIR)


def _docs_urls(request: Request, kind: str) -> dict[str, str]:
    """The OpenAPI URL and page title for a docs page, under the app's root path."""
    root = request.scope.get("root_path", "")
    return {
        "openapi_url": f"{root}{request.app.openapi_url}",
        "title": f"{request.app.title} - {kind}",
    }


def _asset(request: Request, name: str) -> str:
    """A docs asset's URL: served by this app, never a CDN."""
    return f"{request.scope.get('root_path', '')}{DOCS_ASSETS_URL}/{name}"


@router.get("/docs", include_in_schema=False)
async def swagger_page(request: Request) -> HTMLResponse:
    """Swagger UI on local assets; ``validatorUrl: null`` keeps it from calling swagger.io."""
    page = get_swagger_ui_html(
        **_docs_urls(request, "Swagger UI"),
        swagger_js_url=_asset(request, "swagger-ui-bundle.js"),
        swagger_css_url=_asset(request, "swagger-ui.css"),
        swagger_favicon_url=_asset(request, "favicon.png"),
        swagger_ui_parameters={"validatorUrl": None},
    )
    return HTMLResponse(page.body.decode(), headers=DOCS_HEADERS)


@router.get("/redoc", include_in_schema=False)
async def redoc_page(request: Request) -> HTMLResponse:
    """ReDoc on the local standalone bundle, without Google Fonts."""
    page = get_redoc_html(
        **_docs_urls(request, "ReDoc"),
        redoc_js_url=_asset(request, "redoc.standalone.js"),
        redoc_favicon_url=_asset(request, "favicon.png"),
        with_google_fonts=False,
    )
    html = page.body.decode().replace("</head>", HIDE_REDOCLY_LOGO + "</head>", 1)
    return HTMLResponse(html, headers=DOCS_HEADERS)


@lru_cache(maxsize=1)
def redoc_bundle() -> bytes:
    """ReDoc's standalone bundle with its remote logo URL replaced (read once)."""
    raw = (DOCS_ASSETS_DIR / "redoc.standalone.js").read_bytes()
    return raw.replace(REDOC_REMOTE_LOGO, EMPTY_SVG)


@router.get(f"{DOCS_ASSETS_URL}/redoc.standalone.js", include_in_schema=False)
async def redoc_script() -> Response:
    """Served ahead of the ``/static/docs`` mount, which has the untouched file."""
    return Response(redoc_bundle(), media_type="text/javascript")


@router.get("/", include_in_schema=False)
async def chat_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


@router.get("/eval", include_in_schema=False)
async def eval_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "eval.html", headers=PAGE_HEADERS)


class EvalReport(BaseModel):
    """One ``report.md`` and the charts beside it; paths are relative to ``eval_dir``."""

    name: str = Field(description="the report's folder relative to eval_dir ('.' for the root)")
    path: str
    modified: str = Field(description="ISO time the report was written (UTC)")
    markdown: str
    charts: list[str]


def find_reports(root: Path) -> list[Path]:
    """``report.md`` in ``root`` and in each subfolder, newest first."""
    if not root.is_dir():
        return []
    found = [p for p in [root / "report.md", *root.glob("*/report.md")] if p.is_file()]
    found = [p for p in found if inside(root, p)]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:MAX_REPORTS]


def inside(root: Path, path: Path) -> bool:
    """True when ``path`` (symlinks followed) is ``root`` or lies under it."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, ValueError):  # a NUL byte, a symlink loop
        return False


def eval_file_path(root: Path, relative: str) -> Path | None:
    """The PNG at ``relative`` under ``root``, or None if it is outside, missing or not a PNG.

    ``relative`` comes from the URL: an absolute path, ``..`` segments or a symlink that leads
    out of ``root`` all resolve outside it and are refused.
    """
    if not relative or "\x00" in relative:
        return None
    candidate = root / relative
    if not inside(root, candidate):
        return None
    target = candidate.resolve()
    if target.suffix.lower() != ".png" or not target.is_file():
        return None
    return target


@router.get("/v1/eval/reports", response_model=list[EvalReport], tags=["eval"])
def eval_reports(settings: SettingsDep) -> list[EvalReport]:
    """Every eval ``report.md`` under ``eval_dir`` (newest first), with its charts."""
    root = settings.eval_dir
    out = []
    for report in find_reports(root):
        folder = report.parent
        with report.open("rb") as fh:
            text = fh.read(MAX_REPORT_BYTES).decode("utf-8", errors="replace")
        charts = sorted(
            p.relative_to(root).as_posix()
            for p in folder.glob("*.png")
            if eval_file_path(root, p.relative_to(root).as_posix())
        )
        modified = datetime.fromtimestamp(report.stat().st_mtime, UTC)
        out.append(
            EvalReport(
                name=folder.relative_to(root).as_posix(),
                path=report.relative_to(root).as_posix(),
                modified=modified.isoformat(timespec="seconds"),
                markdown=text,
                charts=charts,
            )
        )
    return out


@router.get(
    "/v1/eval/files/{path:path}",
    tags=["eval"],
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}, 404: {}},
)
def eval_file(path: str, settings: SettingsDep) -> FileResponse:
    """A chart (PNG) from inside ``eval_dir``; 404 for anything else."""
    target = eval_file_path(settings.eval_dir, path)
    if target is None:
        raise HTTPException(404, f"no chart '{path}'")
    return FileResponse(target, media_type="image/png", headers={"Cache-Control": "no-cache"})

"""The browser UI: ``/`` (chat and documents), ``/eval`` (eval reports), and the eval data.

The pages are static shells with no data in them; everything they show comes from ``/v1/*``
calls made with the key the user typed, so the optional API-key auth covers the UI's data too.
Eval reports quote the briefings, which is why they are served under ``/v1/eval`` and not next
to the page. Chart files are served only from inside ``settings.eval_dir`` (no traversal,
PNG only).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from api.deps import SettingsDep

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

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
MAX_REPORTS = 50
MAX_REPORT_BYTES = 2_000_000

router = APIRouter()


def static_files() -> StaticFiles:
    """The ``/static`` mount: the UI's scripts and styles (no build step, no CDN)."""
    return StaticFiles(directory=STATIC_DIR)


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

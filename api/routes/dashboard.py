"""The operations dashboard: ``/`` serves ``dashboard/index.html``, ``/dashboard/*`` its files.

The page is plain ES modules with no build step. Its one front-end dependency, uPlot, is
installed by npm into ``dashboard/node_modules`` (``make`` does it) and served from
``/dashboard/vendor/uplot/*`` out of ``node_modules/uplot/dist``, never from a CDN. When
that folder is missing the page still loads and says that the charts need the set-up.

Only the dashboard's own page files are served: nothing under ``node_modules`` except
uPlot's ``dist`` folder, no dot-files, no ``package.json``, and no path leaving the folder.
No API key is needed for these files: they hold no data; the page asks for a key when
``/api/v1/live`` answers 401.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.deps import SettingsDep

router = APIRouter(include_in_schema=False)

# Served page files by suffix, with explicit types: module scripts need a JavaScript type,
# whatever the machine's mimetypes database says.
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
# The page changes with the code: browsers revalidate (cheap with the ETag) on every load.
NO_CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
UPLOT_DIST = Path("node_modules") / "uplot" / "dist"
# index.html carries this marker; it is switched to "missing" when uPlot is not installed.
CHARTS_READY = '<meta name="smartplace-charts" content="ready">'
CHARTS_MISSING = '<meta name="smartplace-charts" content="missing">'

_NO_DASHBOARD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>smartplace</title>
<link rel="icon" href="data:,"></head>
<body><h1>smartplace</h1>
<p>The dashboard's files were not found in <code>{folder}</code>. Set
<code>SMARTPLACE_DASHBOARD_DIR</code> to the repository's <code>dashboard/</code> folder.</p>
<p>The API is running: see <a href="/docs">/docs</a>.</p></body></html>
"""


def default_dashboard_dir() -> Path:
    """The repository's ``dashboard/`` folder: a sibling of the ``api`` package."""
    return Path(__file__).resolve().parent.parent.parent / "dashboard"


def dashboard_dir(configured: Path | None) -> Path:
    """The dashboard folder in force: the setting, else :func:`default_dashboard_dir`."""
    return configured if configured is not None else default_dashboard_dir()


def uplot_installed(folder: Path) -> bool:
    """True when ``npm ci`` has installed uPlot's distribution files under ``folder``."""
    dist = folder / UPLOT_DIST
    return (dist / "uPlot.esm.js").is_file() and (dist / "uPlot.min.css").is_file()


def safe_file(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names inside ``root``, if it is one that may be served.

    Refuses absolute paths, ``..``, dot-files, anything under ``node_modules`` and
    suffixes outside :data:`MEDIA_TYPES`; the resolved path must stay inside ``root``.
    """
    parts = Path(relative).parts
    if not parts or Path(relative).is_absolute():
        return None
    if any(part in ("..", "node_modules") or part.startswith(".") for part in parts):
        return None
    if Path(relative).suffix not in MEDIA_TYPES:
        return None
    root = root.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _file(path: Path | None) -> FileResponse:
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="not found")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=NO_CACHE)


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def index(settings: SettingsDep) -> Response:
    """The dashboard page (or a short page saying where its files were expected)."""
    folder = dashboard_dir(settings.dashboard_dir)
    page = folder / "index.html"
    if not page.is_file():
        return HTMLResponse(_NO_DASHBOARD.format(folder=escape(str(folder))),
                            headers=NO_CACHE)
    text = page.read_text(encoding="utf-8")
    if not uplot_installed(folder):
        text = text.replace(CHARTS_READY, CHARTS_MISSING)
    return HTMLResponse(text, headers=NO_CACHE)


@router.get("/favicon.ico")
async def favicon(settings: SettingsDep) -> FileResponse:
    """The dashboard's icon, for clients that ask for ``/favicon.ico`` regardless."""
    return _file(safe_file(dashboard_dir(settings.dashboard_dir), "favicon.svg"))


@router.get("/dashboard/vendor/uplot/{name}")
async def uplot_file(
    settings: SettingsDep, name: Annotated[str, PathParam(max_length=100)]
) -> FileResponse:
    """uPlot's distribution files from ``node_modules/uplot/dist`` (installed by npm)."""
    return _file(safe_file(dashboard_dir(settings.dashboard_dir) / UPLOT_DIST, name))


@router.get("/dashboard/{path:path}")
async def dashboard_file(
    settings: SettingsDep, path: Annotated[str, PathParam(max_length=300)]
) -> FileResponse:
    """The page's own files (scripts, styles, icon)."""
    return _file(safe_file(dashboard_dir(settings.dashboard_dir), path))

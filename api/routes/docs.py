"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) without the internet.

FastAPI's own pages load both from a CDN and write an inline script, so without the
internet they are blank, and they need a loose Content-Security-Policy. These pages load
the pinned npm packages instead (``dashboard/package.json``: ``swagger-ui-dist`` and
``redoc``, installed by ``make dashboard`` into ``dashboard/node_modules``, as uPlot is)
and start Swagger UI from a script file of ours (``/docs/init.js``); ReDoc starts from its
``<redoc spec-url>`` element and needs no script. When the packages are missing the pages
say so and link to ``/openapi.json``. No key is needed: the pages hold no data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.deps import SettingsDep
from api.routes.dashboard import MEDIA_TYPES, NO_CACHE, dashboard_dir

router = APIRouter(include_in_schema=False)

SWAGGER_DIST = Path("node_modules") / "swagger-ui-dist"
REDOC_BUNDLES = Path("node_modules") / "redoc" / "bundles"
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
REDOC_FILE = "redoc.standalone.js"
OPENAPI_URL = "/openapi.json"

SWAGGER_INIT = """// Starts Swagger UI on /docs (a file: the page's policy allows no inline script).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis],
  validatorUrl: null,
  showCommonExtensions: true,
});
"""

_PAGE = """<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml">
{head}</head>
<body style="margin:0">
{body}
</body>
</html>
"""

_MISSING = """<main>
<h1>{title}</h1>
<p>{what} is not installed on this server. Run <code>make dashboard</code> (or
<code>npm ci</code> in <code>dashboard/</code>), then reload this page.</p>
<p>The API's description is at <a href="{openapi}">{openapi}</a>.</p>
</main>"""


def _installed(folder: Path, names: tuple[str, ...]) -> bool:
    return all((folder / name).is_file() for name in names)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_page(settings: SettingsDep) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``."""
    title = "smartplace API: Swagger UI"
    if not _installed(dashboard_dir(settings.dashboard_dir) / SWAGGER_DIST, SWAGGER_FILES):
        return HTMLResponse(_PAGE.format(title=title, head="", body=_MISSING.format(
            title=title, what="Swagger UI", openapi=OPENAPI_URL)), headers=NO_CACHE)
    head = '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">\n'
    body = ('<div id="swagger-ui"></div>\n'
            '<script src="/docs/assets/swagger-ui-bundle.js"></script>\n'
            '<script src="/docs/init.js"></script>')
    return HTMLResponse(_PAGE.format(title=title, head=head, body=body), headers=NO_CACHE)


@router.get("/docs/init.js")
async def swagger_init() -> Response:
    """The script that starts Swagger UI."""
    return Response(SWAGGER_INIT, media_type=MEDIA_TYPES[".js"], headers=NO_CACHE)


@router.get("/docs/assets/{name}")
async def swagger_asset(settings: SettingsDep,
                        name: Annotated[str, PathParam(max_length=100)]) -> FileResponse:
    """Swagger UI's bundle and style sheet from ``node_modules/swagger-ui-dist``."""
    return _asset(dashboard_dir(settings.dashboard_dir) / SWAGGER_DIST, name, SWAGGER_FILES)


@router.get("/redoc", response_class=HTMLResponse)
async def redoc_page(settings: SettingsDep) -> HTMLResponse:
    """ReDoc over ``/openapi.json``."""
    title = "smartplace API: ReDoc"
    if not _installed(dashboard_dir(settings.dashboard_dir) / REDOC_BUNDLES, (REDOC_FILE,)):
        return HTMLResponse(_PAGE.format(title=title, head="", body=_MISSING.format(
            title=title, what="ReDoc", openapi=OPENAPI_URL)), headers=NO_CACHE)
    body = (f'<redoc spec-url="{OPENAPI_URL}"></redoc>\n'
            f'<script src="/redoc/{REDOC_FILE}"></script>')
    return HTMLResponse(_PAGE.format(title=title, head="", body=body), headers=NO_CACHE)


@router.get("/redoc/{name}")
async def redoc_asset(settings: SettingsDep,
                      name: Annotated[str, PathParam(max_length=100)]) -> FileResponse:
    """ReDoc's standalone bundle from ``node_modules/redoc/bundles``."""
    return _asset(dashboard_dir(settings.dashboard_dir) / REDOC_BUNDLES, name, (REDOC_FILE,))


def _asset(folder: Path, name: str, allowed: tuple[str, ...]) -> FileResponse:
    # Only the named files: nothing else of node_modules is served.
    path = folder / name
    if name not in allowed or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="not found")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=NO_CACHE)

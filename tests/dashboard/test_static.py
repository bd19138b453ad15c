"""The dashboard's files as the API serves them (no servers, no browser)."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import httpx
import pytest

from api.main import create_app
from api.routes.dashboard import CHARTS_MISSING, CHARTS_READY, default_dashboard_dir, safe_file
from sensors.settings import Settings
from tests.dashboard.helpers import dashboard_copy_without_uplot


class _Client:
    """GET requests to the app in process; its lifespan (the InfluxDB client) is not needed."""

    def __init__(self, dashboard_dir: Path | None) -> None:
        self.app = create_app(Settings(_env_file=None, dashboard_dir=dashboard_dir))

    def get(self, path: str, *, follow_redirects: bool = False) -> httpx.Response:
        async def request() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.get(path, follow_redirects=follow_redirects)

        return anyio.run(request)


def _client(dashboard_dir: Path | None = None) -> _Client:
    return _Client(dashboard_dir)


def test_front_page_is_the_dashboard() -> None:
    response = _client().get("/", follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert '<script type="module" src="/dashboard/app.js">' in response.text
    # uPlot is installed (by `make`/npm ci): the page is told the charts can load.
    assert CHARTS_READY in response.text


@pytest.mark.parametrize(("path", "media_type"), [
    ("/dashboard/app.js", "text/javascript"),
    ("/dashboard/sse.js", "text/javascript"),
    ("/dashboard/style.css", "text/css"),
    ("/dashboard/favicon.svg", "image/svg+xml"),
    ("/favicon.ico", "image/svg+xml"),
    ("/dashboard/vendor/uplot/uPlot.esm.js", "text/javascript"),
    ("/dashboard/vendor/uplot/uPlot.min.css", "text/css"),
])
def test_page_files_are_served_with_their_types(path: str, media_type: str) -> None:
    response = _client().get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"].split(";")[0] == media_type


# A static import of another page module: `import ... from "./name.js"` (maybe multi-line).
RELATIVE_IMPORT = re.compile(r'\bfrom\s+"\./([^"]+)"')


def test_every_module_app_js_imports_is_served_and_none_is_left_over() -> None:
    """The page loads app.js, which imports the rest: each module it reaches is served as
    JavaScript from the folder itself (the Docker image copies ``dashboard/*.js``, nothing
    below), and every module in the folder is reached (no dead file)."""
    folder = default_dashboard_dir()
    client = _client()
    reached: set[str] = set()
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        assert "/" not in name, f"{name}: page modules stay flat in dashboard/"
        response = client.get(f"/dashboard/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].split(";")[0] == "text/javascript", name
        todo.extend(RELATIVE_IMPORT.findall(response.text))
    assert reached == {path.name for path in folder.glob("*.js")}
    assert {"state.js", "schematic-layout.js", "sse.js"} <= reached


@pytest.mark.parametrize("path", [
    "/dashboard/package.json",
    "/dashboard/package-lock.json",
    "/dashboard/node_modules/uplot/package.json",
    "/dashboard/node_modules/uplot/dist/uPlot.esm.js",
    "/dashboard/%2e%2e/pyproject.toml",
    "/dashboard/..%2fapi/main.py",
    "/dashboard/vendor/uplot/..%2f..%2fpackage.json",
    "/dashboard/vendor/uplot/uPlot.d.ts",
    "/dashboard/missing.js",
    "/dashboard/.hidden.js",
])
def test_nothing_else_is_served(path: str) -> None:
    assert _client().get(path).status_code == 404, path


def test_safe_file_refuses_paths_leaving_the_folder(tmp_path: Path) -> None:
    (tmp_path / "ok.js").write_text("")
    assert safe_file(tmp_path, "ok.js") == (tmp_path / "ok.js").resolve()
    for bad in ("../ok.js", "/etc/passwd", "", ".", "node_modules/x.js", ".env.js"):
        assert safe_file(tmp_path, bad) is None, bad


def test_without_uplot_the_page_still_loads_and_says_so(tmp_path: Path) -> None:
    folder = dashboard_copy_without_uplot(tmp_path)
    client = _client(folder)
    page = client.get("/")
    assert page.status_code == 200
    assert CHARTS_MISSING in page.text
    assert client.get("/dashboard/vendor/uplot/uPlot.esm.js").status_code == 404
    assert client.get("/dashboard/app.js").status_code == 200


def test_a_missing_dashboard_folder_says_where_it_looked(tmp_path: Path) -> None:
    page = _client(tmp_path / "nowhere").get("/")
    assert page.status_code == 200
    assert "SMARTPLACE_DASHBOARD_DIR" in page.text
    assert str(tmp_path / "nowhere") in page.text


def test_default_folder_is_the_repository_dashboard() -> None:
    folder = default_dashboard_dir()
    assert (folder / "index.html").is_file()
    assert (folder / "package-lock.json").is_file()

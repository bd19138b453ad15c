"""The dashboard against the real stack: mosquitto, influxd, the ingestor and the API
(uvicorn in a thread), driven by Debian's chromium through Playwright.

Playwright's own browser download does not work on these machines, so the tests use
``/usr/bin/chromium`` (``make test`` installs it). When ``CI`` is set, a missing
chromium, Playwright or ``dashboard/node_modules`` (uPlot) fails the run instead of
skipping it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from api.routes.dashboard import default_dashboard_dir, uplot_installed
from sensors.settings import Settings
from smartplace.servers import free_port
from tests.dashboard.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LIVE_REFRESH_S,
    WALL,
    ApiThread,
    Console,
    Dashboard,
    unavailable,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize


# Module scope: the sync API keeps an event loop in this thread while the browser is up,
# which must be gone before tests that run their own loop (test_static.py).
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, for every dashboard test (a fresh profile each launch)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (run `make test`, which installs it)")
    if not CHROMIUM.is_file():
        unavailable(f"{CHROMIUM} is not installed (run `make test`, which installs chromium)")
    if not uplot_installed(default_dashboard_dir()):
        unavailable("dashboard/node_modules is missing (run `make test`, which runs npm ci)")
    with sync_playwright() as playwright:
        # Playwright gives every launch a new temporary --user-data-dir.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def dashboard(
    browser: Browser, settings: Settings, ingest_thread: Callable[..., Any]
) -> Iterator[Callable[..., Dashboard]]:
    """Start the ingestor and the API (with setting overrides) and open a tab on them.

    The tab is closed before the API stops, so that no stream holds the shutdown up; the
    console is checked by each test (``assert_clean``).
    """
    opened: list[tuple[Dashboard, Any]] = []

    def start(*, viewport: ViewportSize | None = None,
              before: Callable[[Settings], object] | None = None,
              shared: dict[str, Any] | None = None, **overrides: Any) -> Dashboard:
        """``before(settings)`` runs once the ingestor is up and before the API starts;
        ``shared`` are overrides of both the ingestor and the API (a devices file)."""
        ingest_thread(ingest_stats_interval_s=1.0, **(shared or {}))
        if before is not None:
            before(settings)
        app_settings = settings.model_copy(update={
            "live_refresh_s": LIVE_REFRESH_S, "api_port": free_port(), **(shared or {}),
            **overrides,
        })
        api = ApiThread(app_settings)
        api.start()
        context = browser.new_context(viewport=viewport or WALL, locale="en-GB",
                                      timezone_id="Europe/London")
        page = context.new_page()
        page.set_default_timeout(15_000)
        console = Console()
        page.on("console", console.on_console)
        page.on("pageerror", console.on_page_error)
        board = Dashboard(f"http://127.0.0.1:{app_settings.api_port}/", app_settings, page,
                          console, api)
        opened.append((board, context))
        return board

    yield start
    for board, context in reversed(opened):
        context.close()
        board.api.stop()



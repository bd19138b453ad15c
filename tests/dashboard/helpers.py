"""Helpers for the dashboard tests: the stack under test, the tab, readings to publish.

The fixtures are in ``conftest.py``; see it for how the stack and the browser start.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
import uvicorn

from api.main import create_app
from api.routes.dashboard import default_dashboard_dir
from sensors.readings import AirQualityReading, Carrier, EnergyReading, Reading, to_payload
from sensors.settings import Settings
from sensors.topics import Domain, build_topic
from tests.helpers import eventually, publish

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, ViewportSize

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("SMARTPLACE_TEST_CHROMIUM", "/usr/bin/chromium"))
# As root on a closed network: no sandbox, no GPU, and none of chromium's own traffic.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AXE = ROOT / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
LIVE_REFRESH_S = 0.5
WALL: ViewportSize = {"width": 1920, "height": 1080}
LAPTOP: ViewportSize = {"width": 1366, "height": 768}


def unavailable(message: str) -> None:
    """Skip, or fail when ``CI`` is set (CI must run every test)."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)

@dataclass
class Console:
    """What the page printed: console errors and warnings, and uncaught exceptions."""

    problems: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            where = message.location.get("url", "") if message.location else ""
            self.problems.append(f"{message.type}: {message.text} ({where})")

    def on_page_error(self, error: Exception) -> None:
        self.problems.append(f"uncaught: {error}")

    def unexpected(self, allowed: Callable[[str], bool] = lambda _: False) -> list[str]:
        return [problem for problem in self.problems if not allowed(problem)]


@dataclass
class Dashboard:
    """A running stack and the tab showing its dashboard."""

    url: str
    settings: Settings
    page: Page
    console: Console
    api: ApiThread

    def restart_api(self) -> None:
        """Stop the API (its streams end) and start a new one on the same port at once."""
        self.api.stop()
        self.api = ApiThread(self.settings)
        self.api.start()

    def open(self) -> None:
        self.page.goto(self.url)
        self.page.wait_for_selector("#schematic .sensor", timeout=15_000)

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).first.text_content() or "").strip()

    def value(self, name: str) -> float | None:
        """A figure's raw number (``data-value``), None while it shows no data."""
        raw = self.page.locator(f'[data-field="{name}"]').first.get_attribute("data-value")
        return float(raw) if raw is not None else None

    def marker_status(self, sensor: str) -> str | None:
        locator = self.page.locator(f'#schematic .sensor[data-sensor="{sensor}"]')
        return locator.get_attribute("data-status") if locator.count() else None

    def wait(self, check: Callable[[], Any], timeout_s: float = 20.0, message: str = "") -> Any:
        return eventually(check, timeout_s=timeout_s, interval_s=0.1, message=message)

    def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


class ApiThread:
    """uvicorn serving the app on a free loopback port, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.api_port, log_config=None,
            access_log=False, lifespan="on", timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api", daemon=True)

    def start(self) -> None:
        self.thread.start()
        eventually(lambda: self.server.started, timeout_s=15, message="the API started")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        assert not self.thread.is_alive(), "the API did not stop"


def assert_clean(board: Dashboard, allowed: Callable[[str], bool] = lambda _: False) -> None:
    """No console errors or warnings and no uncaught exceptions on the page."""
    problems = board.console.unexpected(allowed)
    assert not problems, "the page logged:\n" + "\n".join(problems)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (id, impact, help, up to 5 targets).

    axe comes from ``dashboard/node_modules`` (npm, pinned in the lockfile). It is run by
    ``evaluate``, which the page's Content-Security-Policy does not apply to (the policy
    itself stays on, so the page is checked as users get it).
    """
    if not AXE.is_file():
        unavailable("axe-core is not installed (run `make dashboard`, which runs npm ci)")
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    found: list[dict[str, Any]] = page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                                resultTypes: ["violations"]});
        return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}));
    }""", AXE_TAGS)
    return found


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The serious and critical ones (the issue's bar)."""
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def publish_readings(settings: Settings, readings: list[tuple[Domain, str, str, Reading]]) -> None:
    """Publish readings as a sensor would (QoS 1, acknowledged by the broker)."""
    publish(settings, [
        (build_topic(settings.topic_prefix, domain, site, sensor),
         orjson.dumps(to_payload(reading)))
        for domain, site, sensor, reading in readings
    ])


def energy(ts_ms: int, seq: int, *, interval_s: int = 1, power_kw: float = 12.0) -> EnergyReading:
    """An electricity reading for an interval of ``interval_s`` ending at ``ts_ms``."""
    return EnergyReading(ts=ts_ms, seq=seq, carrier=Carrier.ELECTRICITY,
                         energy_kwh=round(power_kw * interval_s / 3600, 6),
                         interval_s=interval_s, power_kw=power_kw)


def no2(ts_ms: int, seq: int, value: float) -> AirQualityReading:
    return AirQualityReading(ts=ts_ms, seq=seq, no2_ugm3=value)


def dashboard_copy_without_uplot(tmp_path: Path) -> Path:
    """The dashboard's page files without node_modules (as before `npm ci`)."""
    target = tmp_path / "dashboard"
    shutil.copytree(default_dashboard_dir(), target,
                    ignore=shutil.ignore_patterns("node_modules", "package*.json"))
    return target

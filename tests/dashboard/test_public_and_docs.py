"""The residents' page ``/public`` and the offline API docs (``/docs``, ``/redoc``) in real
Chromium, against one API (uvicorn in a thread) on a real InfluxDB for the whole module.

The API has keys (``/public`` and the docs need none) and publishes two of the six
air-quality sites and the carbon figure. Readings are written straight to InfluxDB: the
page reads what is stored, the ingestor is not what is tested here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import httpx
import pytest
from pydantic import SecretStr

from api.clock import LONDON
from api.public.page import month_windows
from sensors.factors import load_factors
from sensors.readings import AirQualityReading, Carrier, EnergyReading, Reading
from sensors.settings import Settings
from sensors.timestamps import NS_PER_MS, now_ms
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer, free_port
from tests.api.helpers import create_database, write_readings
from tests.dashboard.helpers import (
    LAPTOP,
    SCREENSHOTS,
    WALL,
    ApiThread,
    Console,
    axe_violations,
    serious,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PHONE: ViewportSize = {"width": 390, "height": 844}
KEY = "wall:viewer:viewer-secret-1"
FACTORS = load_factors()
# The page is its HTML, one style sheet and the icon; a slow 3G link (400 kbit/s) moves
# about 50 kB a second: the whole page must come in under a second there.
TRANSFER_BUDGET_BYTES = 50_000
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _grid(year: int) -> float:
    return FACTORS.value("electricity.generation", year) + FACTORS.value("electricity.td", year)


def _no2(site: str, sensor: str, value: float, now: int) -> list[tuple[Topic, Reading, None]]:
    # Every minute over the last hour (an hour's mean needs 75 % of its 60 readings).
    return [(Topic(Domain.AIR_QUALITY, site, sensor),
             AirQualityReading(ts=now - k * 60_000, seq=60 - k, no2_ugm3=value), None)
            for k in range(60)]


def _kwh(ts_ms: int, kwh: float) -> tuple[Topic, Reading, None]:
    return (Topic(Domain.ENERGY, "town-hall", "th-elec-main"),
            EnergyReading(ts=ts_ms, carrier=Carrier.ELECTRICITY, energy_kwh=kwh,
                          interval_s=60), None)


class Stack:
    """The API serving the module's data, and what the test expects of its carbon."""

    def __init__(self, settings: Settings, tonnes: float, last_year: float) -> None:
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.api_port}"
        self.tonnes = tonnes
        self.last_year = last_year


@pytest.fixture(scope="module")
def stack(influx: InfluxServer) -> Iterator[Stack]:
    settings = Settings(
        _env_file=None,
        influx_url=influx.url, influx_database="test_public_page", api_port=free_port(),
        api_keys=SecretStr(KEY), rollup_interval_s=0, metrics_port=free_port(),
        public_sites="town-hall,station", public_carbon=True, log_format="text")
    create_database(influx.url, settings.influx_database)
    now = now_ms()
    this, last, _, _ = month_windows(now)
    # 120 kWh at the Town Hall halfway through this month so far; 300 kWh at the same
    # point of last year's month.
    middle = (this.start_ns + (this.end_ns - this.start_ns) // 2) // NS_PER_MS
    before = (last.start_ns + (last.end_ns - last.start_ns) // 2) // NS_PER_MS
    write_readings(influx.url, settings.influx_database, [
        *_no2("town-hall", "aq-a6-roadside", 450.0, now),  # DAQI 7, High
        *_no2("station", "aq-station", 40.0, now),  # DAQI 1, Low
        *_no2("merseyway", "aq-merseyway", 450.0, now),  # not published
        _kwh(middle, 120.0), _kwh(before, 300.0),
    ])
    year = datetime.fromtimestamp(now / 1000, LONDON).year
    api = ApiThread(settings)
    api.start()
    try:
        yield Stack(settings, 120 * _grid(year) / 1000, 300 * _grid(year - 1) / 1000)
    finally:
        api.stop()


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="Europe/London")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        context.close()


def _watch(tab: Page) -> Console:
    console = Console()
    tab.on("console", console.on_console)
    tab.on("pageerror", console.on_page_error)
    return console


def test_the_public_page_shows_only_what_is_published(stack: Stack) -> None:
    answer = httpx.get(f"{stack.url}/public", timeout=10)  # no key: keys are set
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "public, max-age=60" in answer.headers["cache-control"]
    html = answer.text
    assert "<script" not in html
    assert httpx.get(f"{stack.url}/api/v1/sensors", timeout=10).status_code == 401
    assert 'data-site="town-hall" data-band="high"' in html
    assert 'data-site="station" data-band="low"' in html
    assert "merseyway" not in html.lower()
    assert "index 7 out of 10" in html
    assert "nitrogen dioxide" in html
    # DEFRA's advice for High, in our words, for everyone and for people at risk.
    assert "think about doing less outdoors" in html
    assert "reliever inhaler" in html
    assert f"<strong>{stack.tonnes:,.2f}</strong> tonnes" in html
    change = (stack.tonnes - stack.last_year) / stack.last_year * 100
    assert f"Over the same days last year: {stack.last_year:,.2f} tonnes." in html
    assert f"<strong>{abs(change):.1f}% less</strong> this year" in html
    assert "A roadside air-quality monitor, reporting every minute" in html


def test_the_public_page_in_the_browser_with_and_without_javascript(
        stack: Stack, page: Page, browser: Browser) -> None:
    console = _watch(page)
    page.goto(f"{stack.url}/public")
    # What came over the wire (headers and bodies; nothing cached: a new context), from the
    # page's own Resource Timing entries.
    sizes: list[list[object]] = page.evaluate("""() => [
        ...performance.getEntriesByType('navigation'),
        ...performance.getEntriesByType('resource')].map((e) => [e.name, e.transferSize])""")
    transfer = sum(int(str(size)) for _, size in sizes)
    assert {str(name).removeprefix(stack.url) for name, _ in sizes} - {
        "/dashboard/favicon.svg"} == {"/public", "/public/style.css"}
    assert all(int(str(size)) > 0 for _, size in sizes)
    assert transfer < TRANSFER_BUDGET_BYTES, transfer
    (SCREENSHOTS.parent / "public-transfer.json").write_text(json.dumps(
        {"requests": len(sizes), "bytes": transfer}))

    found = {}
    for name, size in (("390x844", PHONE), ("1366x768", LAPTOP), ("1920x1080", WALL)):
        page.set_viewport_size(size)
        found[name] = axe_violations(page)
        assert serious(found[name]) == [], (name, found[name])
        assert page.evaluate("document.documentElement.scrollWidth") == size["width"], name
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"public-{name}.png"))
        page.screenshot(path=str(SCREENSHOTS / f"public-{name}-full.png"), full_page=True)
    # The first Tab reaches the skip link, which leads to the figures.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    assert console.problems == []

    bare = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="en-GB")
    try:
        tab = bare.new_page()
        tab.goto(f"{stack.url}/public")
        sites = tab.locator(".site")
        assert sites.count() == 2
        assert tab.locator('.site[data-site="town-hall"] .band').inner_text() == "High"
        assert tab.locator(".advice").first.is_visible()
        assert tab.locator("#carbon ~ .big").is_visible()
        colour = tab.locator('.site[data-site="town-hall"] .band').evaluate(
            "element => getComputedStyle(element).color")
        assert colour == "rgb(138, 37, 0)"  # the style sheet applied: --high
    finally:
        bare.close()


def test_swagger_ui_and_redoc_render_without_the_internet(stack: Stack, page: Page) -> None:
    console = _watch(page)
    elsewhere: list[str] = []
    page.on("response", lambda response: elsewhere.append(response.url)
            if not response.url.startswith((stack.url, "data:", f"blob:{stack.url}"))
            else None)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{stack.url}/docs")
    operations = page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() >= 20
    assert page.locator('.opblock-summary-path[data-path="/api/v1/emissions"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / "docs-swagger-1366x768.png"))

    page.goto(f"{stack.url}/redoc")
    entries = page.locator('[data-section-id^="tag/"] h2, [data-section-id*="operation/"] h2')
    entries.first.wait_for()
    assert entries.count() >= 20
    assert page.get_by_text("/api/v1/emissions", exact=False).count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "docs-redoc-1366x768.png"))
    assert elsewhere == []
    # ReDoc always asks the internet for its logo; the page's policy refuses it.
    assert console.unexpected(lambda problem: REDOC_LOGO in problem) == []

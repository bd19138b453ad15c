"""The dashboard in a real browser against the real stack (see conftest.py)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import orjson
import pytest
from pydantic import SecretStr

from sensors.formats.devices import Format
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.topics import Domain
from simulators.devices import devices_file, plan
from simulators.engine import SimulationOptions, run_simulation
from simulators.profiles import synthetic_sensors
from simulators.publisher import MqttPublisher
from simulators.registration import register_simulated
from tests.dashboard.helpers import (
    LAPTOP,
    SCREENSHOTS,
    WALL,
    Dashboard,
    assert_clean,
    axe_violations,
    dashboard_copy_without_uplot,
    energy,
    no2,
    now_ms,
    publish_readings,
    serious,
)
from tests.helpers import as_publisher, eventually, influx_count

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REGISTRY = load_registry()
LONDON = ZoneInfo("Europe/London")


def _stored(settings: Settings, measurement: str, field: str, at_least: int) -> None:
    eventually(lambda: influx_count(settings.influx_url, settings.influx_database,
                                    measurement, field) >= at_least,
               timeout_s=60, message=f"{at_least} {measurement} points stored")


def _backfill_since_yesterday(settings: Settings) -> None:
    """The registry's sensors from yesterday 00:00 (Stockport) until now, some malformed,
    and an unregistered meter that reported two minutes ago and then went quiet."""
    midnight = datetime.now(LONDON).replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(days=1)
    report = run_simulation(as_publisher(settings), SimulationOptions(
        start_ms=int(start.timestamp() * 1000), seed=7, bad_ratio=0.0005))
    assert report.failed == 0
    quiet_since = now_ms() - 120_000
    publish_readings(settings, [
        (Domain.ENERGY, "station", "gate-meter", energy(quiet_since - 10_000 * k, 10 - k,
                                                       interval_s=10, power_kw=3.0))
        for k in range(3)
    ])
    _stored(settings, "energy", "energy_kwh", report.by_domain["energy"] + 3)
    _stored(settings, "air_quality", "no2_ugm3", report.by_domain["air_quality"])


def test_wall_screen_shows_the_town_centre_and_follows_the_simulator(
    dashboard: Callable[..., Dashboard],
) -> None:
    board = dashboard(before=_backfill_since_yesterday)
    board.open()
    page = board.page

    # Every panel fills from the first snapshots.
    board.wait(lambda: page.locator("#conn").get_attribute("data-state") == "live",
               message="connection live")
    for name in ("electricity_total_kw", "gas_kw", "traffic_vehicles_per_hour",
                 "active_per_hour", "today_kgco2e", "yesterday_same_time_kgco2e",
                 "daqi_index", "messages_in_per_s"):
        board.wait(partial(_shown, board, name), message=f"{name} shown")
    assert re.fullmatch(r"[\d,]+(\.\d+)?", board.text('[data-field="electricity_total_kw"]'))
    today = board.value("today_kgco2e")
    assert today is not None
    assert today > 0
    daqi = board.value("daqi_index")
    assert daqi is not None
    assert 1 <= daqi <= 10
    assert board.text('[data-field="daqi_band"]') in ("Low", "Moderate", "High", "Very High")

    # Every registered sensor is on the schematic, reporting; the quiet meter is silent.
    markers = page.locator("#schematic .sensor")
    board.wait(lambda: markers.count() == len(REGISTRY.sensors) + 1, message="all markers")
    board.wait(lambda: page.locator('#schematic .sensor[data-status="reporting"]').count()
               == len(REGISTRY.sensors), message="registered sensors reporting")
    assert board.marker_status("gate-meter") == "silent"
    assert page.locator('#schematic .sensor[data-sensor="gate-meter"].unregistered').count() == 1
    labels = page.locator("#schematic .site-label").all_text_contents()
    assert len(labels) == len(REGISTRY.sites)
    assert "Stockport Town Hall" in labels
    alert = page.locator('#alerts-active [data-alert-id="sensor_silent:gate-meter"]')
    alert.wait_for()
    assert "gate-meter" in (alert.text_content() or "")

    # Each tile says its window; the charts show the last hour, the tiles' window marked.
    for tile in ("electricity", "gas", "solar", "traffic", "active"):
        assert board.text(f"#tile-{tile} .window").startswith("5-min")
    _charts_show(board, "last hour")
    assert "means of the last 5 minutes" in board.text("#range-note")
    board.wait(lambda: page.locator("#dead-letter-reasons li[data-reason]").count() > 0,
               message="dead letters by reason")

    # One 1920x1080 screen, no scrolling (the tiles' dashes on the charts' last five minutes);
    # then a laptop, which reflows (and may scroll).
    size = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert size == [WALL["width"], WALL["height"]], size
    board.screenshot("dashboard-1920x1080.png")
    page.set_viewport_size(LAPTOP)
    page.wait_for_timeout(600)  # resize observers redraw the charts and the schematic
    board.screenshot("dashboard-1366x768.png")
    board.screenshot("dashboard-1366x768-full.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width == LAPTOP["width"], width
    assert _overlaps(page) == [], "schematic labels overlap each other or a marker"
    assert _clipped(page) == [], "text cut off at 1366x768"
    for panel in ("#map", "#alerts", "#pipeline"):  # the charts follow below the fold
        box = page.locator(panel).bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= LAPTOP["height"] + 1, f"{panel} below the fold"
    assert (SCREENSHOTS / "dashboard-1920x1080.png").stat().st_size > 10_000
    for size in (LAPTOP, WALL):  # axe-core, on the page full of data, at both sizes
        page.set_viewport_size(size)
        assert serious(axe_violations(page)) == [], size

    # The simulator keeps publishing: the figures follow.
    before = board.value("traffic_vehicles_per_hour")
    before_in = board.value("messages_in_per_s")
    stop = threading.Event()
    live = threading.Thread(target=run_simulation, args=(
        as_publisher(board.settings), SimulationOptions(rate=60, duration_s=4, seed=11)),
        kwargs={"stop": stop}, daemon=True)
    live.start()
    try:
        board.wait(lambda: board.value("traffic_vehicles_per_hour") != before,
                   message="traffic figure changed")
        board.wait(lambda: board.value("messages_in_per_s") != before_in,
                   message="pipeline rate changed")
    finally:
        stop.set()
        live.join(10)

    _charts_by_keyboard_and_range(board)
    _sensor_view_by_keyboard(board)
    assert_clean(board)


CHARTS = ("energy", "traffic", "no2")


def _overlaps(page: Page) -> list[str]:
    """Site labels that overlap another label or a sensor's marker on the schematic."""
    found: list[str] = page.evaluate("""() => {
        const box = (el) => el.getBoundingClientRect();
        const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom
            && b.top < a.bottom;
        const labels = [...document.querySelectorAll('#schematic .site-label')];
        const marks = [...document.querySelectorAll('#schematic .sensor use, #schematic .more')];
        const out = [];
        labels.forEach((label, i) => {
            labels.slice(i + 1).forEach((other) => {
                if (hit(box(label), box(other))) {
                    out.push(`${label.textContent} / ${other.textContent}`);
                }
            });
            marks.forEach((mark) => {
                if (hit(box(label), box(mark))) out.push(`${label.textContent} / a marker`);
            });
        });
        return out;
    }""")
    return found


def _clipped(page: Page) -> list[str]:
    """Text in the tiles and panel heads cut off by its box (screen-reader text aside)."""
    found: list[str] = page.evaluate("""() => [...document.querySelectorAll(
            '.tile *, .panel-head *, .top *')]
        .filter((el) => el.children.length === 0 && el.textContent.trim()
            && !el.closest('.sr-only')
            && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible')
        .map((el) => el.textContent.trim())""")
    return found


def _shown(board: Dashboard, name: str) -> bool:
    return board.value(name) is not None


def _plot_named(plot: Locator, label: str) -> bool:
    name = plot.get_attribute("aria-label") or ""
    return label in name and "latest" in name


def _charts_show(board: Dashboard, label: str) -> None:
    """Every chart is drawn over ``label``, its plot's name giving the latest values."""
    for chart in CHARTS:
        plot = board.page.locator(f'figure[data-chart="{chart}"] .plot')
        board.wait(partial(_plot_named, plot, label), message=f"{chart} chart over the {label}")
        assert plot.locator("canvas").count() == 1


def _charts_by_keyboard_and_range(board: Dashboard) -> None:
    page = board.page
    # The table alternative: a real button, reached and pressed from the keyboard.
    toggle = page.locator('figure[data-chart="energy"] .table-toggle')
    toggle.focus()
    page.keyboard.press("Enter")
    table = page.locator("#table-energy table")
    table.wait_for()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert table.locator("tbody tr").count() == 60  # the last hour in 1-minute steps
    assert "newest first" in (table.locator("caption").text_content() or "")
    assert table.locator("thead th").all_text_contents() == [
        "Time (UK)", "Electricity + EV", "Gas", "Solar"]

    # 24 hours (from the stream), with the keyboard; the open table follows.
    page.locator('.range-picker [data-range="24h"]').focus()
    page.keyboard.press("Space")
    _charts_show(board, "last 24 hours")
    assert page.locator('.range-picker [data-range="24h"]').get_attribute("aria-pressed") == "true"
    board.wait(lambda: table.locator("tbody tr").count() == 96, message="24 h in 15-min steps")
    board.screenshot("dashboard-24h-table-1920x1080.png")
    toggle.click()
    assert page.locator("#table-energy").is_hidden()

    # 7 days (GET /api/v1/live/series): hourly steps (over 2 days, which rollups can serve).
    page.locator('.range-picker [data-range="7d"]').click()
    _charts_show(board, "last 7 days")
    assert "1-hour steps" in board.text("#range-note")

    # A custom range: a start after the end is refused, then yesterday 06:00-18:00.
    page.locator('.range-picker [data-range="custom"]').click()
    form = page.locator("#custom-range")
    form.wait_for()
    yesterday = (datetime.now(LONDON) - timedelta(days=1)).strftime("%Y-%m-%d")
    form.locator('[name="start"]').fill(f"{yesterday}T18:00")
    form.locator('[name="end"]').fill(f"{yesterday}T06:00")
    form.get_by_role("button", name="Show").click()
    assert "start before the end" in board.text("#range-error")
    form.locator('[name="start"]').fill(f"{yesterday}T06:00")
    form.locator('[name="end"]').fill(f"{yesterday}T18:00")
    form.get_by_role("button", name="Show").click()
    _charts_show(board, "06:00 to")
    assert "5-minute steps" in board.text("#range-note")  # 12 h: 144 five-minute buckets
    assert page.locator("#range-error").is_hidden()
    page.locator('.range-picker [data-range="1h"]').click()
    _charts_show(board, "last hour")


def _sensor_view_by_keyboard(board: Dashboard) -> None:
    page = board.page
    # The schematic is one tab stop; the arrow keys move, Enter opens the sensor's view.
    page.locator('#schematic .sensor[tabindex="0"]').focus()
    first = page.evaluate("document.activeElement.dataset.sensor")
    page.keyboard.press("ArrowRight")
    chosen = page.evaluate("document.activeElement.dataset.sensor")
    assert chosen != first
    page.keyboard.press("Enter")
    dialog = page.locator("#sensor-dialog")
    dialog.wait_for()
    assert board.text("#sensor-title") == chosen
    readings = dialog.locator("table[data-domain] tbody tr")
    readings.first.wait_for()
    assert readings.count() == 10
    facts = dialog.locator("dl.facts").inner_text()
    assert "reporting" in facts
    assert "in the registry" in facts
    assert dialog.locator(".sensor-chart canvas").count() == 1
    assert "Gaps in seq" in dialog.locator(".gaps").inner_text()
    assert serious(axe_violations(page)) == []
    board.screenshot("dashboard-sensor-view-1920x1080.png")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # The quiet meter from the attention list: silent, and known only from its readings.
    page.locator('#attention button[data-sensor="gate-meter"]').click()
    dialog.wait_for()
    board.wait(lambda: "not in the registry" in dialog.locator("dl.facts").inner_text(),
               message="the gate meter's view")
    assert "silent" in dialog.locator("dl.facts").inner_text()
    page.keyboard.press("Escape")


def test_a_mixed_network_shows_what_each_sensor_sends(
    dashboard: Callable[..., Dashboard], tmp_path: Path,
) -> None:
    """Native, LoRaWAN (TTN, ChirpStack) and smart meters (Shelly, Tasmota) side by side."""
    sensors = REGISTRY.sensors
    formats = plan(sensors, "mixed")
    devices = tmp_path / "devices.json"
    devices.write_bytes(orjson.dumps(devices_file(sensors, formats)))
    expected = Counter(fmt.value if fmt else "native" for fmt in formats)

    def recent(settings: Settings) -> None:
        # Ten minutes of the town, each sensor in its format (registers start at zero).
        start_ms = now_ms() - 10 * 60_000
        report = run_simulation(as_publisher(settings), SimulationOptions(
            start_ms=start_ms, seed=3, device_format="mixed"))
        assert report.failed == 0
        _stored(settings, "air_quality", "no2_ugm3", report.by_domain["air_quality"])

    board = dashboard(before=recent, shared={"devices_file": devices})
    board.open()
    page = board.page
    board.wait(lambda: page.locator('#schematic .sensor[data-status="reporting"]').count()
               == len(sensors), message="every sensor reporting, in every format")
    sources = board.text("#sensor-sources")
    assert sources == "Sources: " + " · ".join(
        f"{name} {expected[name]}" for name in ["native", *sorted(set(expected) - {"native"})])
    shelly = next(s.id for s, f in zip(sensors, formats, strict=True)
                  if f is Format.SHELLY_GEN2)
    marker = page.locator(f'#schematic .sensor[data-sensor="{shelly}"]')
    assert marker.get_attribute("data-source") == "shelly-gen2"
    assert "via shelly-gen2" in (marker.locator("title").text_content() or "")
    board.screenshot("dashboard-mixed-network-1920x1080.png")
    assert_clean(board)


def test_a_sensor_that_stops_turns_silent_raises_an_alert_and_recovers(
    dashboard: Callable[..., Dashboard],
) -> None:
    board = dashboard()
    beacon = Beacon(board.settings, site="merseyway", sensor="test-beacon")
    beacon.start()
    try:
        board.open()
        page = board.page
        marker = page.locator('#schematic .sensor[data-sensor="test-beacon"]')
        board.wait(lambda: board.marker_status("test-beacon") == "reporting",
                   message="beacon reporting")
        # Unregistered: drawn at its site with a dashed ring, status by shape and letter.
        assert marker.get_attribute("data-site") == "merseyway"
        assert "unregistered" in (marker.get_attribute("class") or "")
        assert marker.locator("use").get_attribute("href") == "#mark-reporting"

        beacon.pause()
        board.wait(lambda: board.marker_status("test-beacon") == "silent", timeout_s=15,
                   message="beacon silent")
        assert marker.locator("use").get_attribute("href") == "#mark-silent"
        letter = page.locator("#mark-silent text").text_content()
        assert letter == "S"
        assert "silent" in (marker.locator("title").text_content() or "")
        active = page.locator('#alerts-active [data-alert-id="sensor_silent:test-beacon"]')
        active.wait_for()
        assert active.get_attribute("data-severity") in ("warning", "critical")
        assert "Sensor silent" in (active.text_content() or "")
        listed = page.locator('#attention li[data-sensor="test-beacon"][data-status="silent"]')
        assert listed.count() == 1
        _acknowledge_silence_and_history(board, active)

        beacon.resume()
        board.wait(lambda: board.marker_status("test-beacon") == "reporting", timeout_s=15,
                   message="beacon reporting again")
        cleared = page.locator('#alerts-cleared [data-alert-id="sensor_silent:test-beacon"]')
        cleared.wait_for()
        assert cleared.get_attribute("data-state") == "cleared"
        assert "cleared" in (cleared.locator(".when").text_content() or "")
        assert active.count() == 0
        opacity = cleared.evaluate("item => getComputedStyle(item).opacity")
        assert float(opacity) < 1  # greyed out
        board.screenshot("dashboard-alert-cleared-1920x1080.png")
    finally:
        beacon.stop()
    _a_burst_of_sensors_does_not_take_over(board)
    assert_clean(board)


def _acknowledge_silence_and_history(board: Dashboard, active: Locator) -> None:
    """The operator's buttons on an active alert (the API is open: anyone is operator)."""
    page = board.page
    badge = page.locator("#alert-count")
    needing = int(badge.get_attribute("data-count") or 0)
    active.get_by_role("button", name="Acknowledge").click()
    board.wait(lambda: active.get_attribute("data-acknowledged") == "true",
               message="acknowledged")
    assert "Acknowledged by anonymous" in active.locator(".life").inner_text()
    assert active.locator('[data-action="acknowledge"]').is_hidden()
    assert int(badge.get_attribute("data-count") or 0) == needing - 1

    active.get_by_role("button", name="Silence…").click()
    dialog = page.locator("#silence-dialog")
    dialog.wait_for()
    assert serious(axe_violations(page)) == []
    dialog.get_by_label("4 hours").check()
    dialog.get_by_label("Note (optional)").fill("roadworks on Princes Street")
    dialog.get_by_role("button", name="Silence", exact=True).click()
    dialog.wait_for(state="hidden")
    board.wait(lambda: active.get_attribute("data-silenced") == "true", message="silenced")
    assert "Silenced until" in active.locator(".life").inner_text()

    page.get_by_role("button", name="History").click()
    rows = page.locator("#history-dialog tbody tr")
    rows.first.wait_for()
    events = {row.get_attribute("data-event"): row.inner_text() for row in rows.all()}
    assert {"raised", "acknowledged", "silenced"} <= set(events)
    assert "roadworks on Princes Street" in events["silenced"]
    assert "anonymous" in events["acknowledged"]
    width = page.evaluate("[document.querySelector('#history-dialog').clientWidth,"
                          " document.querySelector('#history-dialog').scrollWidth]")
    assert width[0] == width[1], width  # every column within the dialog, none cut off
    board.screenshot("dashboard-alert-history-1920x1080.png")
    page.keyboard.press("Escape")

    active.get_by_role("button", name="End silence").click()
    board.wait(lambda: active.get_attribute("data-silenced") == "false",
               message="silence ended")


def _a_burst_of_sensors_does_not_take_over(board: Dashboard) -> None:
    """30 unregistered meters at one site and 30 simulated sensors, all at once."""
    page = board.page
    simulated = synthetic_sensors(30)
    register_simulated(board.settings, simulated)
    report = run_simulation(as_publisher(board.settings),
                            SimulationOptions(sensors=simulated, count=30, rate=500))
    assert report.failed == 0
    at = now_ms()
    publish_readings(board.settings, [
        (Domain.ENERGY, "merseyway", f"burst-{k:02d}", energy(at, 1, interval_s=1))
        for k in range(30)])
    # The simulated ones are counted apart, not drawn (the flags are read every 10 s).
    board.wait(lambda: "30 simulated" in board.text("#set-aside"), message="simulated set aside")
    assert page.locator('#schematic .sensor[data-sensor^="sim-"]').count() == 0
    # Merseyway's ring: 14 markers and one "+N" for the rest of its 37 (6 registered, the
    # beacon, the burst).
    more = page.locator('#schematic .more[data-count]')
    board.wait(lambda: more.count() == 1 and more.get_attribute("data-count") == "23",
               message="the burst folded into +23")
    assert page.locator('#schematic .sensor[data-site="merseyway"]').count() == 14
    # The silent meters' alerts come as one group; nothing for the simulated sensors.
    group = page.locator('#alerts-active [data-group="sensor_silent"]')
    board.wait(lambda: int(group.get_attribute("data-count") or 0) >= 30, timeout_s=30,
               message="the burst's alerts grouped")
    assert page.locator('#alerts-active [data-sensor^="sim-"]').count() == 0
    size = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert size == [WALL["width"], WALL["height"]], size
    board.screenshot("dashboard-burst-1920x1080.png")


def _high_no2_at_town_hall(settings: Settings) -> None:
    """A registry monitor's NO2 at 450 µg/m³ (DAQI 7, High), every minute for 50 minutes:
    at least the 45 readings (75 % of 60) an hour's mean needs."""
    now = now_ms()
    publish_readings(settings, [
        (Domain.AIR_QUALITY, "town-hall", "aq-a6-roadside", no2(now - k * 60_000, 50 - k, 450.0))
        for k in range(50)
    ])
    _stored(settings, "air_quality", "no2_ugm3", 50)


def test_a_high_daqi_reading_raises_its_alert(dashboard: Callable[..., Dashboard]) -> None:
    board = dashboard(before=_high_no2_at_town_hall)
    board.open()
    page = board.page
    board.wait(lambda: board.value("daqi_index") == 7, message="DAQI 7 shown")
    tile = page.locator("#tile-daqi")
    assert tile.get_attribute("data-band") == "high"
    assert board.text('[data-field="daqi_band"]') == "High"
    assert "Stockport Town Hall" in board.text('[data-field="daqi_where"]')
    assert "NO₂" in board.text('[data-field="daqi_where"]')
    alert = page.locator('#alerts-active [data-alert-id="daqi_high:town-hall"]')
    alert.wait_for()
    assert alert.get_attribute("data-severity") == "warning"
    assert alert.get_attribute("data-kind") == "daqi_high"
    text = alert.text_content() or ""
    assert "Warning" in text
    assert "Stockport Town Hall" in text
    assert "since" in text
    # The alert list is a live region: screen readers hear new alerts.
    assert page.locator("#alerts-active").get_attribute("aria-live") == "polite"
    assert_clean(board)


def _unauthorised_stream(problem: str) -> bool:
    # The browser itself logs the 401 of the stream request; the page handles it.
    return "status of 401" in problem and "/api/v1/live" in problem


def test_with_api_keys_the_page_asks_for_a_key_once(dashboard: Callable[..., Dashboard]) -> None:
    board = dashboard(api_keys=SecretStr("wall-screen-key,other-key"))
    page = board.page
    page.goto(board.url)
    dialog = page.locator("#key-dialog")
    dialog.wait_for(state="visible")
    assert page.locator("#conn").get_attribute("data-state") == "unauthorized"
    assert page.evaluate("document.activeElement.id") == "key-input"
    assert page.get_by_label("API key", exact=True).count() == 1

    # A wrong key is refused and the page asks again, saying so.
    page.get_by_label("API key", exact=True).fill("not-a-key")
    page.keyboard.press("Enter")
    board.wait(lambda: "not accepted" in (page.locator("#key-reason").text_content() or ""),
               message="refusal explained")
    dialog.wait_for(state="visible")

    page.get_by_label("API key", exact=True).fill("wall-screen-key")
    page.get_by_role("button", name="Connect").click()
    dialog.wait_for(state="hidden")
    page.wait_for_selector("#schematic .sensor")
    board.wait(lambda: page.locator("#conn").get_attribute("data-state") == "live",
               message="live with the key")
    assert page.evaluate("localStorage.getItem('smartplace.apiKey')") == "wall-screen-key"

    # Kept: a reload connects without asking.
    page.reload()
    page.wait_for_selector("#schematic .sensor")
    board.wait(lambda: page.locator("#conn").get_attribute("data-state") == "live",
               message="live after reload")
    assert not dialog.is_visible()

    # "Forget API key" is a real button; afterwards the page asks again.
    forget = page.get_by_role("button", name="Forget API key")
    forget.focus()
    page.keyboard.press("Enter")
    dialog.wait_for(state="visible")
    assert page.evaluate("localStorage.getItem('smartplace.apiKey')") is None
    assert_clean(board, allowed=_unauthorised_stream)


def test_without_node_modules_the_page_explains_the_missing_charts(
    dashboard: Callable[..., Dashboard], tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = dashboard_copy_without_uplot(tmp_path_factory.mktemp("bare"))
    board = dashboard(dashboard_dir=folder, viewport=LAPTOP)
    board.open()
    page = board.page
    note = page.locator("#charts-missing")
    note.wait_for(state="visible")
    assert "make" in (note.text_content() or "")
    assert page.locator("#charts canvas").count() == 0
    # Nothing stored yet: the figures say "no data" rather than zero.
    board.wait(lambda: page.locator("#conn").get_attribute("data-state") == "live",
               message="connection live")
    assert board.text('[data-field="electricity_total_kw"]') == "—"
    board.wait(lambda: page.locator('#schematic .sensor[data-status="silent"]').count()
               == len(REGISTRY.sensors), message="never-seen sensors silent")
    # Keyboard: the first Tab reaches the skip link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert_clean(board)


def test_the_page_reconnects_with_last_event_id_when_the_stream_drops(
    dashboard: Callable[..., Dashboard],
) -> None:
    board = dashboard()
    page = board.page
    requests: list[dict[str, str]] = []
    page.on("request", lambda request: requests.append(request.headers)
            if request.url.endswith("/api/v1/live") else None)
    states: list[str] = []
    board.open()
    board.wait(lambda: page.locator("#conn").get_attribute("data-state") == "live",
               message="connection live")
    page.expose_function("reportState", lambda state: states.append(state))
    page.evaluate("""() => new MutationObserver(() =>
        window.reportState(document.querySelector('#conn').dataset.state)
    ).observe(document.querySelector('#conn'), { attributes: true })""")
    first_id = page.evaluate("Number(document.body.dataset.lastEventId)")
    assert first_id >= 1

    board.restart_api()
    # Playwright delivers events only while the test calls into it: wait in the page.
    def second_request() -> bool:
        page.wait_for_timeout(50)
        return len(requests) >= 2

    board.wait(second_request, timeout_s=15, message="a second stream request")
    board.wait(lambda: page.locator("#conn").get_attribute("data-state") == "live",
               message="live again")
    assert "reconnecting" in states
    assert "last-event-id" not in requests[0]
    assert int(requests[1]["last-event-id"]) >= first_id
    # The new stream starts with hello: the schematic is drawn again from it.
    page.wait_for_selector("#schematic .sensor")
    # Stopping uvicorn cuts the open stream mid-chunk, and the browser logs that drop.
    assert_clean(board, allowed=lambda problem: "ERR_INCOMPLETE_CHUNKED_ENCODING" in problem
                 and "/api/v1/live" in problem)


class Beacon:
    """An unregistered sensor reporting every second (interval_s=1) until paused."""

    def __init__(self, settings: Settings, *, site: str, sensor: str) -> None:
        self.settings = settings
        self.site = site
        self.sensor = sensor
        self.running = threading.Event()
        self.running.set()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="beacon", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def pause(self) -> None:
        self.running.clear()

    def resume(self) -> None:
        self.running.set()

    def stop(self) -> None:
        self.stopped.set()
        self.running.set()
        self.thread.join(10)

    def _run(self) -> None:
        import orjson

        from sensors.readings import to_payload
        from sensors.topics import build_topic

        publisher = MqttPublisher(as_publisher(self.settings), client_id=f"beacon-{self.sensor}")
        publisher.connect()
        topic = build_topic(self.settings.topic_prefix, Domain.ENERGY, self.site, self.sensor)
        seq = 0
        try:
            while not self.stopped.is_set():
                self.running.wait()
                if self.stopped.is_set():
                    break
                reading = energy(now_ms(), seq, interval_s=1, power_kw=5.0)
                publisher.publish(topic, orjson.dumps(to_payload(reading)), "energy")
                publisher.settle()
                seq += 1
                self.stopped.wait(0.4)
        finally:
            publisher.flush(5)
            publisher.close()

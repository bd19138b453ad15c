"""The sensors panel holds the full list and applies changes (docs/live.md), in headless
Chromium, at 30,000 sensors.

The page is served by the real app; its stream is the hub's framing (``frame``) of events
written here, so that the test chooses exactly which change arrives against which list
(the real poller's changes are covered by test_dashboard.py's silent-and-recovers test).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from api.live.sse import frame, rfc3339_ms
from sensors.registry import load_registry
from sensors.settings import Settings
from smartplace.servers import free_port
from tests.dashboard.helpers import ApiThread

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SENSORS = 30_000
NOW = int(time.time() * 1000)


def _entry(k: int, status: str) -> dict[str, Any]:
    age_ms = 20_000 if status == "reporting" else 150_000 if status == "late" else 1_800_000
    return {"id": f"sensor-{k:05d}", "site": f"site-{k % 9}", "domain": "energy",
            "status": status, "last_seen": rfc3339_ms(NOW - age_ms), "age_s": age_ms / 1000,
            "interval_s": 60, "registered": False, "simulated": False, "retired": False,
            "source_format": "native"}


def _sensors(rev: int, counts: tuple[int, int, int], **body: Any) -> dict[str, Any]:
    reporting, late, silent = counts
    return {"at": rfc3339_ms(NOW + rev * 1000), "rev": rev,
            "counts": {"reporting": reporting, "late": late, "silent": silent},
            "set_aside": {"simulated": 0, "retired": 0}, **body}


def _stream() -> bytes:
    registry = load_registry()
    hello = {"server_time": rfc3339_ms(NOW), "refresh_s": 1, "heartbeat_s": 15,
             "sites": [{"id": s.id, "name": s.name, "lat": s.lat, "lon": s.lon}
                       for s in registry.sites], "sensors": []}
    # Every 100th sensor silent: 300 of them.
    full = _sensors(1, (SENSORS - 300, 0, 300), full=True, sensors=[
        _entry(k, "silent" if k % 100 == 0 else "reporting") for k in range(SENSORS)])
    # Five turn late and sensor-00000 leaves the list.
    change = _sensors(2, (SENSORS - 305, 5, 299), full=False, base=1,
                      changed=[_entry(k, "late") for k in range(1, 6)],
                      removed=["sensor-00000"])
    # A change to a list the page never had (it lost rev 3): ignored, counts and all.
    stale = _sensors(4, (0, 0, SENSORS), full=False, base=3,
                     changed=[_entry(k, "silent") for k in range(6, 20)], removed=[])
    return b"".join(frame(name, data, number) for number, (name, data) in enumerate(
        [("hello", hello), ("sensors", full), ("sensors", change), ("sensors", stale)],
        start=1))


def test_thirty_thousand_sensors_then_changes(browser: Browser) -> None:
    settings = Settings(_env_file=None, influx_url="http://127.0.0.1:9",
                        api_keys=None, rollup_interval_s=0, api_port=free_port())
    api = ApiThread(settings)
    api.start()
    body = _stream()
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        page.route("**/api/v1/live", lambda route: route.fulfill(
            status=200, headers={"Content-Type": "text/event-stream"}, body=body))
        page.goto(f"http://127.0.0.1:{settings.api_port}/")
        page.wait_for_function(
            "document.body.dataset.lastEventId === '4'", timeout=60_000)
        counts = [page.text_content(f'[data-count="{status}"]')
                  for status in ("reporting", "late", "silent")]
        assert counts == [str(SENSORS - 305), "5", "299"]  # rev 2's, not the stale rev 4's
        attention = page.locator("#attention li")
        # Worst first: silent ones (sensor-00000 removed), oldest first, then by id.
        assert [attention.nth(n).get_attribute("data-sensor") for n in range(6)] == [
            f"sensor-{k:05d}" for k in range(100, 700, 100)]
        assert page.text_content("#attention .more") == "and 298 more not reporting"
        # The drawing stays bounded: the unplaced row shows what fits and one "+N" mark.
        assert page.locator("#schematic .sensor").count() < 40
        more = page.locator("#schematic .more")
        assert more.count() == 1
        hidden = int(more.get_attribute("data-count") or 0)
        assert more.locator("text").text_content() == f"+{round(hidden / 1000)}k"
        # The count stays inside its ring (it spilled over its neighbours as "+29992").
        ring, label = (more.locator(part).bounding_box() for part in ("circle", "text"))
        assert ring is not None
        assert label is not None
        assert label["width"] <= ring["width"]
        assert page.evaluate("1 + 1") == 2  # the page still answers
    finally:
        page.close()
        api.stop()

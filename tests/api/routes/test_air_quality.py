"""``/api/v1/air-quality/daqi`` and ``.../history`` against a real InfluxDB, worked by hand."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.air.queries import fetch_sites_daqi
from api.influx import InfluxStore
from api.main import create_app
from api.params import parse_time
from sensors.readings import AirQualityReading, Reading
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer, free_port
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MIN_MS = 60_000
HOUR_MS = 60 * MIN_MS
DAQI = "/api/v1/air-quality/daqi"
HISTORY = f"{DAQI}/history"
AT = "2025-06-01T12:00:00Z"


def _ms(text: str) -> int:
    return parse_time("t", text) // 1_000_000


AT_MS = _ms(AT)


def _aq(site: str, sensor: str, ts: int, **values: float) -> tuple[Topic, Reading, None]:
    reading = AirQualityReading.model_validate({"ts": ts, **values})
    return Topic(Domain.AIR_QUALITY, site, sensor), reading, None


def _every(site: str, sensor: str, start_ms: int, end_ms: int, step_ms: int,
           **values: float) -> list[tuple[Topic, Reading, None]]:
    return [_aq(site, sensor, ts, **values) for ts in range(start_ms, end_ms, step_ms)]


def _readings() -> list[tuple[Topic, Reading, None]]:
    th, hour = "town-hall", AT_MS - HOUR_MS
    return [
        # town-hall at 12:00, every minute (the registry's 60 s): NO2 410 over the last hour
        # (index 7), PM2.5 30 over 24 h (index 3), O3 for only 5 hours (null), SO2 300 in the
        # last 15 minutes (index 4).
        *_every(th, "aq-a6-roadside", hour, AT_MS, MIN_MS, no2_ugm3=410.0),
        _aq(th, "aq-a6-roadside", AT_MS, no2_ugm3=999.0),  # at the end: excluded
        _aq(th, "aq-a6-roadside", hour - 1, no2_ugm3=999.0),  # before the hour: excluded
        *_every(th, "aq-a6-roadside", AT_MS - 24 * HOUR_MS + 1000, AT_MS, MIN_MS,
                pm25_ugm3=30.0),
        *_every(th, "aq-a6-roadside", AT_MS - 5 * HOUR_MS + 2000, AT_MS, MIN_MS,
                o3_ugm3=80.0),
        *_every(th, "aq-a6-roadside", AT_MS - 15 * MIN_MS, AT_MS, MIN_MS, so2_ugm3=300.0),
        *_every(th, "aq-a6-roadside", AT_MS - 30 * MIN_MS, AT_MS - 15 * MIN_MS, MIN_MS,
                so2_ugm3=2000.0),  # the previous 15 minutes
        # mersey-square: 44 one-minute NO2 readings in the last hour, one short of 75 %.
        *_every("mersey-square", "aq-mersey-square", hour, hour + 44 * MIN_MS, MIN_MS,
                no2_ugm3=50.0),
        # interchange: two monitors pooled, 100 and 200 -> 150 (index 3); the second is not
        # registered, so its interval is the median gap of its readings (60 s).
        *_every("interchange", "aq-interchange", hour, AT_MS, MIN_MS, no2_ugm3=100.0),
        *_every("interchange", "aq-interchange-2", hour, AT_MS, MIN_MS, no2_ugm3=200.0),
        # hillgate: a site and monitor the registry does not know, every 2 minutes: known
        # from its data; 30 of the 30 expected readings (23 needed), NO2 300 (index 5).
        *_every("hillgate", "aq-hillgate", hour, AT_MS, 2 * MIN_MS, no2_ugm3=300.0),
        # market-place, for history: NO2 50, 410, 700 in the hours from 08:00, 09:00, 10:00;
        # PM10 60 for the 18 hours from 16:00 the day before to 10:00.
        *_every("market-place", "aq-market-background", _ms("2025-06-01T08:00:00Z"),
                _ms("2025-06-01T09:00:00Z"), MIN_MS, no2_ugm3=50.0),
        *_every("market-place", "aq-market-background", _ms("2025-06-01T09:00:00Z"),
                _ms("2025-06-01T10:00:00Z"), MIN_MS, no2_ugm3=410.0),
        *_every("market-place", "aq-market-background", _ms("2025-06-01T10:00:00Z"),
                _ms("2025-06-01T11:00:00Z"), MIN_MS, no2_ugm3=700.0),
        *_every("market-place", "aq-market-background", _ms("2025-05-31T16:00:00Z") + 500,
                _ms("2025-06-01T10:00:00Z"), MIN_MS, pm10_ugm3=60.0),
    ]


@pytest.fixture
def app_settings(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    return settings


def _app(settings: Settings) -> FastAPI:
    return create_app(settings)


async def _get(settings: Settings, path: str, **params: str) -> httpx.Response:
    async with api_client(_app(settings)) as client:
        return await client.get(path, params=params)


async def _daqi(settings: Settings, **params: str) -> dict[str, Any]:
    response = await _get(settings, DAQI, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_daqi_per_pollutant_and_overall(app_settings: Settings) -> None:
    body = await _daqi(app_settings, site="town-hall", at=AT)
    assert (body["site"], body["at"]) == ("town-hall", AT)
    assert body["overall"] == {"index": 7, "band": "High", "driven_by": ["no2"]}
    assert body["source"].startswith("https://uk-air.defra.gov.uk/air-pollution/daqi")
    p = body["pollutants"]
    assert set(p) == {"no2", "pm25", "pm10", "o3", "so2"}
    assert p["no2"] == {
        "index": 7, "band": "High", "mean_ugm3": 410.0, "rounded_ugm3": 410, "window": "1h",
        "window_start": "2025-06-01T11:00:00Z", "window_end": AT, "readings": 60,
        "needed_per_unit": 45, "reason": None,
    }
    assert (p["pm25"]["index"], p["pm25"]["band"], p["pm25"]["window"]) == (3, "Low", "24h")
    assert p["pm25"]["mean_ugm3"] == pytest.approx(30.0)
    assert (p["pm25"]["readings"], p["pm25"]["window_start"]) == (1440, "2025-05-31T12:00:00Z")
    assert (p["so2"]["index"], p["so2"]["band"], p["so2"]["window"]) == (4, "Moderate", "15m")
    assert (p["so2"]["mean_ugm3"], p["so2"]["readings"]) == (300.0, 15)
    assert p["so2"]["needed_per_unit"] == 12  # 75 % of 15 one-minute readings
    assert p["o3"]["window"] == "8h"
    assert (p["o3"]["index"], p["o3"]["band"], p["o3"]["mean_ugm3"]) == (None, None, None)
    assert p["o3"]["readings"] == 300
    assert p["o3"]["reason"] == "insufficient data: 5 hours with 75 % data capture, 6 needed"
    assert (p["pm10"]["index"], p["pm10"]["readings"]) == (None, 0)
    assert {(i["sensor"], i["interval_s"], i["source"]) for i in body["intervals"]} == {
        ("aq-a6-roadside", 60.0, "registry")}


async def test_too_few_readings_give_null_with_reason(app_settings: Settings) -> None:
    body = await _daqi(app_settings, site="mersey-square", at=AT)
    no2 = body["pollutants"]["no2"]
    assert (no2["index"], no2["band"], no2["mean_ugm3"], no2["readings"]) == (None, None, None,
                                                                               44)
    assert no2["reason"] == "insufficient data: 44 readings, 45 needed (75 % capture)"
    assert body["overall"] == {"index": None, "band": None, "driven_by": []}


async def test_monitors_at_a_site_are_pooled(app_settings: Settings) -> None:
    body = await _daqi(app_settings, site="interchange", at=AT)
    no2 = body["pollutants"]["no2"]
    assert (no2["index"], no2["mean_ugm3"], no2["readings"]) == (3, 150.0, 120)
    intervals = {(i["sensor"], i["pollutant"]): i for i in body["intervals"]}
    assert intervals[("aq-interchange", "no2")]["source"] == "registry"
    assert intervals[("aq-interchange-2", "no2")] == {
        "sensor": "aq-interchange-2", "pollutant": "no2", "interval_s": 60.0,
        "source": "median_gap"}


async def test_a_site_with_readings_is_known_though_not_registered(
        app_settings: Settings) -> None:
    # Before: 404 "unknown site". The registry adds a name; it is not a gate.
    body = await _daqi(app_settings, site="hillgate", at=AT)
    no2 = body["pollutants"]["no2"]
    assert (no2["index"], no2["band"], no2["mean_ugm3"], no2["readings"]) == (5, "Moderate",
                                                                              300.0, 30)
    assert no2["needed_per_unit"] == 23  # 75 % of the 30 readings a 120 s monitor sends
    assert body["intervals"][0]["source"] == "median_gap"
    assert body["intervals"][0]["interval_s"] == 120.0
    history = await _get(app_settings, HISTORY, site="hillgate", start="2025-06-01T11:00:00Z",
                         end="2025-06-01T12:00:01Z")
    assert history.status_code == 200
    assert [h["overall"]["index"] for h in history.json()["hours"]] == [None, 5]


async def test_at_with_offset_and_unaligned_moment(app_settings: Settings) -> None:
    same = await _daqi(app_settings, site="town-hall", at="2025-06-01T13:00:00+01:00")
    assert same["at"] == AT
    assert same["pollutants"]["no2"]["index"] == 7
    # 11:45: the hour [10:45, 11:45) holds 45 NO2 readings at 410 and one of 999 at
    # 10:59:59.999; buckets align to `at`, not to clock hours. SO2: 2000 in [11:30, 11:45).
    later = await _daqi(app_settings, site="town-hall", at="2025-06-01T11:45:00Z")
    assert later["pollutants"]["no2"]["readings"] == 46
    assert later["pollutants"]["no2"]["mean_ugm3"] == pytest.approx((45 * 410 + 999) / 46)
    assert later["pollutants"]["no2"]["index"] == 7  # 423.2
    assert later["pollutants"]["no2"]["window_start"] == "2025-06-01T10:45:00Z"
    assert later["pollutants"]["so2"]["index"] == 10
    # 11:30: [10:30, 11:30) has 31 readings (30 + the 999), under 45: null.
    early = await _daqi(app_settings, site="town-hall", at="2025-06-01T11:30:00Z")
    assert (early["pollutants"]["no2"]["index"], early["pollutants"]["no2"]["readings"]) == (
        None, 31)


async def test_at_defaults_to_now(app_settings: Settings) -> None:
    before = time.time()
    body = await _daqi(app_settings, site="town-hall")
    at = parse_time("at", body["at"]) / 1e9
    assert before - 1 <= at <= time.time() + 1
    assert body["overall"]["index"] is None  # no readings near now


async def test_fetch_sites_daqi_in_order(app_settings: Settings) -> None:
    store = InfluxStore(app_settings)
    try:
        sites = ["interchange", "town-hall", "nowhere", "town-hall' OR site =~ /.*/",
                 "interchange"]
        result = await fetch_sites_daqi(store, sites, AT_MS)
        assert await fetch_sites_daqi(store, [], AT_MS) == []
    finally:
        await store.aclose()
    assert [r.site for r in result] == sites
    assert [r.overall_index for r in result] == [3, 7, None, None, 3]
    assert all(one.readings == 0 for r in result[2:4] for one in r.pollutants.values())


async def test_history_hourly_index_changes(app_settings: Settings) -> None:
    response = await _get(app_settings, HISTORY, site="market-place",
                          start="2025-06-01T08:30:00Z", end="2025-06-01T12:00:00Z")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["site"], body["start"], body["end"]) == (
        "market-place", "2025-06-01T08:30:00Z", "2025-06-01T12:00:00Z")
    hours = body["hours"]
    assert [h["at"] for h in hours] == [
        "2025-06-01T09:00:00Z", "2025-06-01T10:00:00Z", "2025-06-01T11:00:00Z"]
    assert [h["pollutants"]["no2"]["index"] for h in hours] == [1, 7, 10]
    assert [h["pollutants"]["no2"]["mean_ugm3"] for h in hours] == [50.0, 410.0, 700.0]
    # PM10: 17 valid hours in the day before 09:00 (null), 18 before 10:00 and 11:00.
    assert [h["pollutants"]["pm10"]["index"] for h in hours] == [None, 5, 5]
    assert hours[0]["pollutants"]["pm10"]["reason"] == (
        "insufficient data: 17 hours with 75 % data capture, 18 needed")
    assert [(h["overall"]["index"], h["overall"]["band"]) for h in hours] == [
        (1, "Low"), (7, "High"), (10, "Very High")]
    # Each hour is what /daqi answers for that moment.
    single = await _daqi(app_settings, site="market-place", at="2025-06-01T10:00:00Z")
    assert {k: single[k] for k in ("at", "overall", "pollutants")} == {
        k: hours[1][k] for k in ("at", "overall", "pollutants")}
    assert {h["site"] for h in hours} == {"market-place"}


async def test_history_defaults_and_longest_window(app_settings: Settings) -> None:
    recent = await _get(app_settings, HISTORY, site="town-hall")
    assert recent.status_code == 200, recent.text
    assert len(recent.json()["hours"]) == 24
    started = time.perf_counter()
    month = await _get(app_settings, HISTORY, site="town-hall",
                       start="2025-05-01T12:00:00Z", end=AT)
    assert month.status_code == 200, month.text
    hours = month.json()["hours"]
    assert len(hours) == 31 * 24
    assert hours[-1]["at"] == "2025-06-01T11:00:00Z"
    assert hours[-1]["pollutants"]["pm25"]["index"] == 3
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(("params", "name"), [
    ({"start": "2025-05-01T00:00:00Z", "end": "2025-06-01T00:00:01Z"}, "start"),
    ({"start": AT, "end": AT}, "end"),
    ({"start": AT, "end": "2025-06-01T11:00:00Z"}, "end"),
    ({"start": "yesterday"}, "start"),
    ({"end": "2025-06-01T12:00:00"}, "end"),
    ({"end": "2025-02-30T12:00:00Z"}, "end"),
])
async def test_history_bad_windows_are_422(app_settings: Settings, params: dict[str, str],
                                           name: str) -> None:
    response = await _get(app_settings, HISTORY, site="town-hall", **params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", name]


@pytest.mark.parametrize("at", [
    "now()", "2025-06-01T12:00:00", "2025-13-01T00:00:00Z", "1969-12-31T23:59:59Z",
    "2025-06-01T12:00:00Z' OR 1=1", "9" * 64,
])
async def test_bad_at_is_422(app_settings: Settings, at: str) -> None:
    response = await _get(app_settings, DAQI, site="town-hall", at=at)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "at"]


@pytest.mark.parametrize(("site", "code"), [
    ("nowhere", 404), ("town-hall' OR '1'='1", 404), ('town-hall" OR site =~ /.*/', 404),
    ("$s0", 404), ("town-hall;DROP DATABASE x", 404), ("../../etc/passwd", 404),
    ("tówn-hall\u0000", 404), ("Town-Hall", 404), ("x" * 200, 404), ("x" * 201, 422),
    ("", 422),
])
async def test_hostile_sites_never_500(app_settings: Settings, site: str, code: int) -> None:
    for path in (DAQI, HISTORY):
        response = await _get(app_settings, path, site=site)
        assert response.status_code == code, response.text


async def test_site_is_required_at_a_moment(app_settings: Settings) -> None:
    response = await _get(app_settings, DAQI)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "site"]


async def test_store_down_is_503(settings: Settings) -> None:
    down = settings.model_copy(update={"influx_url": f"http://127.0.0.1:{free_port()}"})
    for path, params in ((DAQI, {"at": AT}), (HISTORY, {})):
        response = await _get(down, path, site="town-hall", **params)
        assert response.status_code == 503, response.text
        assert response.json()["detail"].startswith("store unavailable")


async def test_history_without_site_covers_every_site_and_min_band_filters(
        app_settings: Settings) -> None:
    window = {"start": "2025-06-01T11:00:00Z", "end": "2025-06-01T12:00:01Z"}
    response = await _get(app_settings, HISTORY, **window)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["site"] is None
    registered = ["town-hall", "mersey-square", "interchange", "market-place", "merseyway",
                  "station"]
    assert body["sites"] == [*registered, "hillgate"]  # registered first, then from data
    assert len(body["hours"]) == 2 * len(body["sites"])
    assert [h["at"] for h in body["hours"]][::len(body["sites"])] == [
        "2025-06-01T11:00:00Z", AT]
    high = (await _get(app_settings, HISTORY, min_band="High", **window)).json()
    assert [(h["at"], h["site"], h["overall"]["band"]) for h in high["hours"]] == [
        ("2025-06-01T11:00:00Z", "market-place", "Very High"), (AT, "town-hall", "High")]
    assert high["min_band"] == "High"
    bad = await _get(app_settings, HISTORY, min_band="Awful", **window)
    assert bad.status_code == 422

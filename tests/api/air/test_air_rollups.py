"""The air-quality rollups on a real influxd: what they hold, that long DAQI reads take them
first and answer what the raw readings answer, and how their coverage joins the activity's."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

from api.activity.rollup_job import AIR_CATCHUP_MS, backfill, run_rollup
from api.activity.rollups import COVERAGE_MEMO_S, Coverage, read_coverage
from api.air.daily import fetch_daily
from api.air.queries import fetch_daqi_history
from api.clock import HOUR_MS, format_ms
from api.influx import InfluxStore
from api.main import create_app
from sensors.readings import AirQualityReading, Reading
from sensors.settings import Settings
from sensors.storage import Measurement
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

Row = tuple[Topic, Reading, None]
FIRST = datetime(2026, 10, 23, 22, 0, tzinfo=UTC)  # the days cross the October clock change
DAYS = 4
COVERED_H = 3 * 24 + 5  # the last 19 hours are not rolled up: read raw
SITES = ["alpha", "beta"]


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _readings() -> list[Row]:
    """Three unregistered monitors as they report: uneven values, an outage, thin hours."""
    rows: list[Row] = []
    for minute in range(DAYS * 24 * 60):
        at = FIRST + timedelta(minutes=minute)
        hour = minute // 60
        if 30 <= hour < 33 or (hour % 17 == 5 and minute % 60 >= 40):
            continue  # a three-hour outage, and hours with 40 of 60 readings (no capture)
        rows.append((Topic(Domain.AIR_QUALITY, "alpha", "aq-alpha-1"), AirQualityReading(
            ts=_ms(at), seq=minute, no2_ugm3=20.0 + (hour * 3 % 11) * 30 + (minute * 7 % 23) * 1.37,
            pm25_ugm3=4.0 + (minute % 13) * 0.71, pm10_ugm3=9.0 + (minute % 29) * 0.53,
            o3_ugm3=None if minute % 11 == 0 else 30.0 + (hour * 5 % 9) * 14 + (minute % 31) * 0.9),
            None))
        if minute % 5 == 0:
            rows.append((Topic(Domain.AIR_QUALITY, "alpha", "aq-alpha-2"), AirQualityReading(
                ts=_ms(at) + 1234, so2_ugm3=5.0 + (minute % 17) * 3.3,
                no2_ugm3=31.0 + (minute % 7) * 0.9), None))
        if minute % 2 == 0:
            rows.append((Topic(Domain.AIR_QUALITY, "beta", "aq-beta-1"), AirQualityReading(
                ts=_ms(at), pm25_ugm3=None if minute % 10 == 0 else 12.5 + (minute % 5) * 1.1,
                temperature_c=8.5), None))
    return rows


@pytest.fixture
async def store(settings: Settings, influx: InfluxServer) -> AsyncIterator[InfluxStore]:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    one = InfluxStore(settings)
    yield one
    await one.aclose()


async def _backfill(store: InfluxStore) -> Coverage | None:
    return await backfill(store, _ms(FIRST), _ms(FIRST) + COVERED_H * HOUR_MS,
                          time.time_ns() // 1_000_000)


def _assert_same(raw: Any, rolled: Any, path: str = "") -> None:
    if dataclasses.is_dataclass(raw) and not isinstance(raw, type):
        _assert_same(dataclasses.asdict(raw), dataclasses.asdict(rolled), path)
    elif isinstance(raw, dict):
        assert raw.keys() == rolled.keys(), path
        for key in raw:
            _assert_same(raw[key], rolled[key], f"{path}.{key}")
    elif isinstance(raw, list | tuple):
        assert len(raw) == len(rolled), path
        for index, (a, b) in enumerate(zip(raw, rolled, strict=True)):
            _assert_same(a, b, f"{path}[{index}]")
    elif isinstance(raw, float):
        assert math.isclose(raw, rolled, rel_tol=1e-9, abs_tol=1e-12), (path, raw, rolled)
    else:
        assert raw == rolled, (path, raw, rolled)


async def test_a_tier_holds_each_units_count_and_sum(store: InfluxStore) -> None:
    await _backfill(store)
    hour = _ms(FIRST) + 2 * HOUR_MS
    params = {"s": hour * 1_000_000, "e": (hour + HOUR_MS) * 1_000_000}
    (raw,) = await store.query([
        "SELECT count(no2_ugm3) AS n, sum(no2_ugm3) AS s FROM air_quality "
        "WHERE sensor = 'aq-alpha-1' AND time >= $s AND time < $e"], params)
    tier, quarters = await store.query([
        f"SELECT n_no2, s_no2, g_no2, e_no2 FROM {Measurement.AIR_HOURLY} "
        "WHERE sensor = 'aq-alpha-1' AND time >= $s AND time < $e GROUP BY site, sensor",
        f"SELECT n_so2, s_so2 FROM {Measurement.AIR_QUARTER_HOURLY} "
        "WHERE sensor = 'aq-alpha-2' AND time >= $s AND time < $e"], params, own=True)
    (expected,), (point,) = raw[0].rows(), tier[0].rows()
    assert (point["time"], point["n_no2"]) == (hour, 60)
    assert point["s_no2"] == pytest.approx(expected["s"], rel=1e-12)
    assert tier[0].tags == {"site": "alpha", "sensor": "aq-alpha-1"}
    # The hour's median gap between readings, and how many gaps (one ends each minute).
    assert (point["g_no2"], point["e_no2"]) == (60_000, 60)
    # SO2 lives only in the 15-minute tier: three readings per quarter (every 5 minutes).
    assert [row["n_so2"] for row in quarters[0].rows()] == [3, 3, 3, 3]
    assert [row["time"] for row in quarters[0].rows()] == [hour + q * 900_000 for q in range(4)]


async def test_history_from_rollups_is_the_raw_history(store: InfluxStore) -> None:
    start, end = _ms(FIRST) + 24 * HOUR_MS + 20 * 60_000, _ms(FIRST) + DAYS * 24 * HOUR_MS
    before, span = await fetch_daqi_history(store, SITES, start, end)
    assert span is None  # no rollups yet
    coverage = await _backfill(store)
    assert coverage == Coverage(_ms(FIRST), _ms(FIRST) + COVERED_H * HOUR_MS, _ms(FIRST))
    raw, no_span = await fetch_daqi_history(store, SITES, start, end, rollups=False)
    rolled, span = await fetch_daqi_history(store, SITES, start, end)
    assert no_span is None
    # The reads reach back a day before the first hour; the rollups cover them to COVERED_H.
    assert span == (_ms(FIRST) + 1 * HOUR_MS, _ms(FIRST) + COVERED_H * HOUR_MS)
    _assert_same(raw, rolled)
    _assert_same(before, rolled)
    # The outage leaves O3's 8-hour windows without capture; the bands are not all one.
    assert any(hour.pollutants["o3"].index is None for hour in rolled["alpha"])
    assert len({hour.overall_index for hour in rolled["alpha"]}) > 2


async def test_daily_index_from_rollups_survives_the_raw_readings(settings: Settings,
                                                                  store: InfluxStore) -> None:
    start, end = _ms(FIRST) + 2 * HOUR_MS, _ms(FIRST) + DAYS * 24 * HOUR_MS
    await _backfill(store)
    raw, _ = await fetch_daily(store, SITES, start, end, rollups=False)
    rolled, span = await fetch_daily(store, SITES, start, end)
    assert span is not None
    _assert_same(raw, rolled)
    assert any(day.overall_index is not None for day in rolled)
    # Raw readings past their retention: the covered hours are still answered from rollups.
    lo, hi = span[0] + 6 * HOUR_MS, span[1] - 6 * HOUR_MS
    deleted = httpx.post(f"{settings.influx_url}/query", timeout=30, data={
        "db": settings.influx_database,
        "q": f"DELETE FROM air_quality WHERE time >= {lo}ms AND time < {hi}ms"})
    assert deleted.status_code == 200, deleted.text
    assert "error" not in deleted.text, deleted.text
    after, _ = await fetch_daily(store, SITES, start, end)
    _assert_same(rolled, after)
    gone, _ = await fetch_daily(store, SITES, start, end, rollups=False)
    assert [day.overall_index for day in gone] != [day.overall_index for day in rolled]


async def test_answers_say_which_hours_came_from_rollups(settings: Settings,
                                                          store: InfluxStore) -> None:
    app = create_app(settings.model_copy(update={"rollup_interval_s": 0}))
    params = {"site": "alpha", "start": format_ms(_ms(FIRST) + 24 * HOUR_MS),
              "end": format_ms(_ms(FIRST) + DAYS * 24 * HOUR_MS)}
    async with api_client(app) as client:
        before = (await client.get("/api/v1/air-quality/daqi/history", params=params)).json()
        await _backfill(store)
        await anyio.sleep(COVERAGE_MEMO_S)  # the app's store remembers the coverage it read
        history = await client.get("/api/v1/air-quality/daqi/history", params=params)
        daily = await client.get("/api/v1/air-quality/daqi/daily", params=params)
    assert (before["rollup_start"], before["rollup_end"]) == (None, None)
    assert history.status_code == daily.status_code == 200, history.text + daily.text
    covered_end = format_ms(_ms(FIRST) + COVERED_H * HOUR_MS)
    assert history.json()["rollup_end"] == daily.json()["rollup_end"] == covered_end
    assert history.json()["rollup_start"] == format_ms(_ms(FIRST))
    assert history.json()["hours"] == before["hours"]


async def _old_state(store: InfluxStore, since_ms: int, until_ms: int) -> None:
    """A coverage point as versions before the air-quality tiers wrote it."""
    await store.write([f"{Measurement.ROLLUP_STATE} since_ms={since_ms}i,until_ms={until_ms}i,"
                       f"run_at_ms={until_ms}i {until_ms}"])


async def test_coverage_from_before_the_air_tiers_is_caught_up(settings: Settings,
                                                                store: InfluxStore) -> None:
    since, until = _ms(FIRST), _ms(FIRST) + 72 * HOUR_MS
    await _old_state(store, since, until)
    assert (await read_coverage(store, fresh=True)) == Coverage(since, until, None)
    # Each scheduled run rolls up its own hours and a day more of air, newest first.
    now = until + 10 * 60_000
    first = await run_rollup(store, settings, now)
    assert first == Coverage(since, until, until - 6 * HOUR_MS - AIR_CATCHUP_MS)
    assert (await run_rollup(store, settings, now)).air_since_ms == \
        until - 6 * HOUR_MS - 2 * AIR_CATCHUP_MS
    assert await run_rollup(store, settings, now) == Coverage(since, until, since)
    start, end = since + 24 * HOUR_MS, until
    raw, _ = await fetch_daqi_history(store, SITES, start, end, rollups=False)
    rolled, span = await fetch_daqi_history(store, SITES, start, end)
    assert span == (since, until - HOUR_MS)  # a day before the first hour to the last hour
    _assert_same(raw, rolled)


async def test_a_backfill_catches_up_the_air_tiers_of_old_coverage(store: InfluxStore) -> None:
    since, until = _ms(FIRST), _ms(FIRST) + 72 * HOUR_MS
    await _old_state(store, since, until)
    now = time.time_ns() // 1_000_000
    assert await backfill(store, until - 2 * HOUR_MS, until, now) == \
        Coverage(since, until, since)
    # Within the limit only: the newest hours first, the coverage start where it stopped.
    await _old_state(store, since, until + HOUR_MS)
    assert await backfill(store, until, until + HOUR_MS, now, limit_ms=10 * HOUR_MS) == \
        Coverage(since, until + HOUR_MS, until - 10 * HOUR_MS)

"""The live ``carbon`` panel against a real InfluxDB: the hours the rollups cover from the
rollups (read once per coverage), every other hour raw and incrementally, the same figures
as ``/api/v1/emissions`` (source=auto) for the same windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.activity.rollup_job import backfill
from api.activity.rollups import Coverage
from api.clock import HOUR_MS
from api.influx import InfluxStore
from api.live.carbon import CarbonPanel, covered_hours, today_and_yesterday
from api.live.sse import rfc3339_ms
from api.main import create_app
from sensors.factors import load_factors
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.timestamps import NS_PER_MS
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

Row = tuple[Topic, Reading, float | None]
# 14:25 BST: today's window is 23:00Z the day before to now, yesterday's the same a day on.
NOW = datetime(2026, 6, 10, 13, 25, tzinfo=UTC)
TODAY_START = datetime(2026, 6, 9, 23, 0, tzinfo=UTC)
YESTERDAY_START = TODAY_START - timedelta(days=1)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _meter(kwh: float, at: datetime) -> Row:
    return (Topic(Domain.ENERGY, "alpha", "meter"),
            EnergyReading(ts=_ms(at), carrier=Carrier.ELECTRICITY, energy_kwh=kwh,
                          interval_s=600), None)


def _cars(cars: int, at: datetime) -> Row:
    return (Topic(Domain.TRANSPORT, "beta", "counter"),
            TransportReading(ts=_ms(at), interval_s=600, counts={VehicleClass.CAR: cars}),
            0.5)


def _readings(start: datetime, hours: int) -> list[Row]:
    """Every 20 minutes from start: 1 kWh and 4 cars over a 0.5 km link."""
    return [row for step in range(hours * 3)
            for row in (_meter(1.0, start + timedelta(minutes=20 * step)),
                        _cars(4, start + timedelta(minutes=20 * step)))]


def _per_row() -> float:
    """kgCO2e of one 20-minute step, by hand from the factor table."""
    factors = load_factors()
    return (factors.value("electricity.generation") + factors.value("electricity.td")
            + 4 * 0.5 * factors.value("vehicle.car"))


async def _emissions(settings: Settings, start_ms: int, end_ms: int) -> dict[str, Any]:
    app = create_app(settings.model_copy(update={"rollup_interval_s": 0}))
    async with api_client(app) as client:
        response = await client.get("/api/v1/emissions", params={
            "start": rfc3339_ms(start_ms), "end": rfc3339_ms(end_ms), "source": "auto"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _matches_emissions(settings: Settings, body: dict[str, Any], now: int) -> None:
    today, yesterday = today_and_yesterday(now)
    for window, key in ((today, "today_kgco2e"), (yesterday, "yesterday_same_time_kgco2e")):
        answer = await _emissions(settings, window.start_ns // NS_PER_MS,
                                  window.end_ns // NS_PER_MS)
        assert answer["source"]["rollup_start"] is not None  # rollups were read
        assert body[key] == pytest.approx(answer["total_kgco2e"], rel=1e-9, abs=0.002)


async def test_covered_hours_from_rollups_the_rest_raw(settings: Settings,
                                                       influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    # Yesterday's readings up to 12:40Z, today's to 13:40Z (13:40Z is after NOW).
    write_readings(influx.url, settings.influx_database,
                   _readings(YESTERDAY_START, 14) + _readings(TODAY_START, 15))
    store = InfluxStore(settings)
    factors = load_factors()
    per_kwh = factors.value("electricity.generation") + factors.value("electricity.td")
    try:
        now = _ms(NOW)
        # Roll up to 11:00Z today: 11:00-13:00Z of today stay raw, as does 13:00Z on.
        eleven = _ms(NOW) - 2 * HOUR_MS - 25 * 60_000
        coverage = await backfill(store, _ms(YESTERDAY_START), eleven, now)
        assert coverage is not None
        assert coverage.until_ms == eleven
        # A reading written after its hour was rolled up: the rollup does not have it, so
        # a figure read from the rollups leaves it out (as /emissions?source=auto does).
        # One 15 s before now: newer than the overlap, so read again by the next refresh.
        write_readings(influx.url, settings.influx_database,
                       [_meter(1000.0, TODAY_START + timedelta(minutes=5)),
                        _meter(1.0, NOW - timedelta(seconds=15))])

        panel = CarbonPanel(store, factors)
        body = await panel.fetch(now)
        # Today: 14 whole hours (42 steps), the steps at 13:00Z and 13:20Z and the kWh at
        # 13:24:45Z; yesterday to 13:25Z: 14 hours of readings, 42 steps.
        assert body["today_kgco2e"] == pytest.approx(44 * _per_row() + per_kwh)
        assert body["yesterday_same_time_kgco2e"] == pytest.approx(42 * _per_row())
        assert body["today_start"] == rfc3339_ms(_ms(TODAY_START))
        await _matches_emissions(settings, body, now)
        assert panel.rollup_reads == 2
        # Read raw: today's 11:00, 12:00 and 13:00Z, yesterday's 13:00Z, each long enough
        # for the per-sensor sums; the last 30 s of today as rows.
        assert panel.tally.bulk_reads == 4
        hours = [_ms(TODAY_START) + h * HOUR_MS for h in (12, 13, 14)]
        assert panel.tally.hours == [hours[-1] - 24 * HOUR_MS, *hours]

        # Later in the same hour: only the newest readings are read, the 13:24:45Z kWh
        # again (once in the figure), and a new one at 13:26Z.
        write_readings(influx.url, settings.influx_database,
                       [_meter(1.0, NOW + timedelta(minutes=1))])
        later = await panel.fetch(now + 2 * 60_000)
        assert panel.rollup_reads == 2
        assert panel.tally.bulk_reads == 4
        assert later["today_kgco2e"] == pytest.approx(44 * _per_row() + 2 * per_kwh)

        # A reading of 12:10Z stored now is older than the overlap: not read raw again...
        write_readings(influx.url, settings.influx_database,
                       [_meter(10.0, TODAY_START + timedelta(hours=13, minutes=10))])
        # ...an hour on (14:25Z): 13:40Z's step is in; yesterday's rollup part grew by its
        # 13:00Z hour (read again), which the tally forgets; today's is unchanged.
        next_hour = await panel.fetch(now + HOUR_MS)
        assert next_hour["today_kgco2e"] == pytest.approx(45 * _per_row() + 2 * per_kwh)
        assert panel.rollup_reads == 3
        assert panel.tally.hours == [hours[-1] - 23 * HOUR_MS, *hours, hours[-1] + HOUR_MS]

        # The rollup job reaches 14:00Z: today's 11:00-14:00Z now come from the rollups,
        # which have the late 12:10Z reading, as /emissions has.
        await backfill(store, eleven, now + 35 * 60_000, now + HOUR_MS)
        rolled = await panel.fetch(now + HOUR_MS)
        assert rolled["today_kgco2e"] == pytest.approx(45 * _per_row() + 12 * per_kwh)
        assert panel.tally.hours == [hours[-1] - 23 * HOUR_MS, hours[-1] + HOUR_MS]
        await _matches_emissions(settings, rolled, now + HOUR_MS)
    finally:
        await store.aclose()


def test_covered_hours_are_the_windows_whole_hours_inside_coverage() -> None:
    today, _ = today_and_yesterday(_ms(NOW))
    start = _ms(TODAY_START)
    assert covered_hours(today, None) is None
    # Coverage from before the window to after now: midnight to the open hour's start.
    assert covered_hours(today, Coverage(start - HOUR_MS, start + 20 * HOUR_MS)) == (
        start, start + 14 * HOUR_MS)
    assert covered_hours(today, Coverage(start + 3 * HOUR_MS, start + 5 * HOUR_MS)) == (
        start + 3 * HOUR_MS, start + 5 * HOUR_MS)
    assert covered_hours(today, Coverage(start - 5 * HOUR_MS, start)) is None

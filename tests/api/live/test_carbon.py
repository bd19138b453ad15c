"""The live ``carbon`` panel against a real InfluxDB: closed hours from the hourly rollups
where they cover them, the open hour raw, the same figures as ``/api/v1/emissions``
(source=auto) for the same windows, and closed hours read once per hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.activity.rollup_job import backfill
from api.clock import HOUR_MS
from api.influx import InfluxStore
from api.live.carbon import CarbonPanel, today_and_yesterday
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


async def test_closed_hours_from_rollups_open_hour_raw(settings: Settings,
                                                      influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    # Yesterday's readings up to 13:00Z, today's to 13:20Z (the open hour has two steps).
    write_readings(influx.url, settings.influx_database,
                   _readings(YESTERDAY_START, 14) + _readings(TODAY_START, 15))
    store = InfluxStore(settings)
    try:
        now = _ms(NOW)
        # Roll up to 11:00Z today: 11:00-13:00Z of today stay raw, as does 13:00Z on.
        eleven = _ms(NOW) - 2 * HOUR_MS - 25 * 60_000
        coverage = await backfill(store, _ms(YESTERDAY_START), eleven, now)
        assert coverage is not None
        assert coverage.until_ms == eleven
        # A reading written after its hour was rolled up: the rollup does not have it, so
        # a figure read from the rollups leaves it out (as /emissions?source=auto does).
        write_readings(influx.url, settings.influx_database,
                       [_meter(1000.0, TODAY_START + timedelta(minutes=5))])

        panel = CarbonPanel(store, load_factors())
        body = await panel.fetch(now)
        today, yesterday = today_and_yesterday(now)
        # Today: 14 whole hours (42 steps) and the two steps at 13:00Z and 13:20Z;
        # yesterday to 13:25Z: 14 hours of readings, 42 steps.
        assert body["today_kgco2e"] == pytest.approx(44 * _per_row())
        assert body["yesterday_same_time_kgco2e"] == pytest.approx(42 * _per_row())
        assert body["today_start"] == rfc3339_ms(_ms(TODAY_START))
        for window, key in ((today, "today_kgco2e"), (yesterday, "yesterday_same_time_kgco2e")):
            answer = await _emissions(settings, window.start_ns // NS_PER_MS,
                                      window.end_ns // NS_PER_MS)
            assert answer["source"]["rollup_start"] is not None  # rollups were read
            assert body[key] == pytest.approx(answer["total_kgco2e"], rel=1e-9, abs=0.002)
        assert panel.closed_reads == 2

        # Later in the same hour: only the open hour is read again (a new reading in it).
        write_readings(influx.url, settings.influx_database,
                       [_meter(1.0, NOW + timedelta(minutes=1))])
        later = await panel.fetch(now + 2 * 60_000)
        assert panel.closed_reads == 2
        factors = load_factors()
        per_kwh = factors.value("electricity.generation") + factors.value("electricity.td")
        assert later["today_kgco2e"] == pytest.approx(44 * _per_row() + per_kwh)

        # The next hour closes 13:00-14:00Z: both windows' closed parts are read again.
        await panel.fetch(now + HOUR_MS)
        assert panel.closed_reads == 4
    finally:
        await store.aclose()

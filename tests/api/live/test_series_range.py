"""``GET /api/v1/live/series`` ranges read in requests of at most two days
(api/live/series.py, ``fetch_range``): the parts put end to end are the one query's answer,
on a real InfluxDB, for energy, traffic and NO2 over six days."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from api.live.series import RANGE_CHUNK_MS, fetch_buckets, fetch_range, range_bounds
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import RecordingStore, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

HOUR = 3_600_000
END = int(datetime(2026, 6, 10, 12, 7, tzinfo=UTC).timestamp() * 1000)
START = END - 6 * 24 * HOUR


def _readings() -> list[tuple[Topic, Reading, float | None]]:
    rows: list[tuple[Topic, Reading, float | None]] = []
    for step in range(0, 6 * 24 * 4):  # every 15 minutes, values that vary with time
        at = START + step * 15 * 60_000 + 7_000
        rows += [
            (Topic(Domain.ENERGY, "alpha", "meter"),
             EnergyReading(ts=at, carrier=Carrier.ELECTRICITY, energy_kwh=1 + step % 7,
                           interval_s=900), None),
            (Topic(Domain.ENERGY, "alpha", "boiler"),
             EnergyReading(ts=at, carrier=Carrier.GAS, energy_kwh=0.5 * (step % 3),
                           interval_s=900), None),
            (Topic(Domain.TRANSPORT, "beta", "counter"),
             TransportReading(ts=at, interval_s=900, counts={
                 VehicleClass.CAR: step % 11, VehicleClass.BICYCLE: step % 5}), 0.4),
            (Topic(Domain.AIR_QUALITY, "gamma", "aq"),
             AirQualityReading(ts=at, no2_ugm3=10.0 + step % 13), None),
        ]
    return rows


@pytest.fixture
def store(settings: Settings, influx: InfluxServer) -> RecordingStore:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    return RecordingStore(settings)


@pytest.mark.parametrize("chunk_ms", [RANGE_CHUNK_MS, 5 * HOUR, 1])
async def test_a_range_read_in_parts_is_the_single_query(store: RecordingStore,
                                                         chunk_ms: int) -> None:
    try:
        start, end, step = range_bounds(START, END)
        assert step == 1_800_000  # six days: 30-minute steps
        whole = await fetch_buckets(store, start, end, step)  # one request
        store.requests.clear()
        parts = await fetch_range(store, START, END, chunk_ms)
        assert parts == {"window": "range", **whole}
        assert len(parts["energy_kw"]) == (end - start) // step
        assert any(row[1] for row in parts["energy_kw"])  # the data is in the answer
        assert any(row[1] for row in parts["no2_ugm3"])
        per_request = max(step, chunk_ms // step * step)
        assert len(store.requests) == math.ceil((end - start) / per_request)
    finally:
        await store.aclose()

"""``GET /api/v1/live/series`` ranges read in requests of at most two days
(api/live/series.py, ``fetch_range``): the parts put end to end are the one query's answer,
on a real InfluxDB, for energy, traffic and NO2 over six days; and the steps the rollups
cover read from them give the raw answer (api/live/series_rollups.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from api.activity.rollup_job import backfill
from api.activity.scope import SensorScope, sensor_scope
from api.live.series import RANGE_CHUNK_MS, fetch_buckets, fetch_range, range_bounds
from api.live.sse import rfc3339_ms
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
        assert step == 3_600_000  # six days, over two: hourly steps (rollups may serve them)
        whole = await fetch_buckets(store, start, end, step)  # one request
        store.requests.clear()
        parts = await fetch_range(store, START, END, chunk_ms)
        assert parts == {"window": "range", **whole, "rollup_start": None, "rollup_end": None}
        assert len(parts["energy_kw"]) == (end - start) // step
        assert any(row[1] for row in parts["energy_kw"])  # the data is in the answer
        assert any(row[1] for row in parts["no2_ugm3"])
        per_request = max(step, chunk_ms // step * step)
        # and one for the rollups' coverage (none here: all raw)
        assert len(store.requests) == math.ceil((end - start) / per_request) + 1
    finally:
        await store.aclose()


def _same_rows(raw: dict[str, Any], rolled: dict[str, Any]) -> None:
    for key in ("energy_kw", "traffic_vph", "no2_ugm3"):
        assert len(raw[key]) == len(rolled[key]), key
        for a, b in zip(raw[key], rolled[key], strict=True):
            assert [x is None for x in a] == [x is None for x in b], (key, a, b)
            assert [x or 0 for x in a] == pytest.approx([x or 0 for x in b], rel=1e-9), (key, a, b)
    assert {k: v for k, v in raw.items() if k not in ("energy_kw", "traffic_vph", "no2_ugm3",
                                                      "rollup_start", "rollup_end")} == \
        {k: v for k, v in rolled.items() if k not in ("energy_kw", "traffic_vph", "no2_ugm3",
                                                      "rollup_start", "rollup_end")}


async def test_covered_steps_come_from_rollups_and_agree_with_raw(
        settings: Settings, store: RecordingStore) -> None:
    try:
        until = END // HOUR * HOUR - 10 * HOUR  # the last ten hours not rolled up yet
        await backfill(store, START, until, END + HOUR)
        raw = await fetch_range(store, START, END, rollups=False)
        store.requests.clear()
        rolled = await fetch_range(store, START, END)
        first = START // HOUR * HOUR  # the range widened to whole steps, all rolled up
        assert (rolled["rollup_start"], rolled["rollup_end"]) == (rfc3339_ms(first),
                                                                  rfc3339_ms(until))
        assert raw["rollup_start"] is None
        _same_rows(raw, rolled)
        assert any(row[2] for row in rolled["traffic_vph"])  # bicycles from the rollups too
        # The coverage, the rolled-up steps in one request, the last ten hours raw.
        assert len(store.requests) == 3
        with sensor_scope(SensorScope(excluded=frozenset({"boiler"}))):
            scoped_raw = await fetch_range(store, START, END, rollups=False)
            scoped = await fetch_range(store, START, END)
        _same_rows(scoped_raw, scoped)
        assert all(row[2] is None for row in scoped["energy_kw"])  # the boiler's gas is out
    finally:
        await store.aclose()


async def test_a_short_range_stays_raw(store: RecordingStore) -> None:
    try:
        await backfill(store, START, END, END + HOUR)
        two_days = await fetch_range(store, END - 2 * 24 * HOUR, END)
        assert (two_days["step_s"], two_days["rollup_start"]) == (900, None)
    finally:
        await store.aclose()

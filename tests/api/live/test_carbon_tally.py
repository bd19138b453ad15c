"""The carbon panel's raw tally against a real InfluxDB: the rows form and the bulk form
give the raw reader's activity, refreshes never count a reading twice, a slice InfluxDB
truncates is halved, and the sensor scope applies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.raw import fetch_activity
from api.activity.scope import SensorScope, sensor_scope
from api.clock import HOUR_MS, TimeWindow
from api.influx import InfluxStore
from api.live.carbon_tally import RawTally
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.timestamps import NS_PER_MS
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

Row = tuple[Topic, Reading, float | None]
HOUR = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _meter(sensor: str, kwh: float, at_ms: int) -> Row:
    return (Topic(Domain.ENERGY, "alpha", sensor),
            EnergyReading(ts=at_ms, carrier=Carrier.ELECTRICITY, energy_kwh=kwh,
                          interval_s=60), None)


def _counter(sensor: str, cars: int, vans: int, at_ms: int, link_km: float | None) -> Row:
    return (Topic(Domain.TRANSPORT, "beta", sensor),
            TransportReading(ts=at_ms, interval_s=60,
                             counts={VehicleClass.CAR: cars, VehicleClass.VAN: vans}),
            link_km)


def _totals(energy: list[EnergyActivity], transport: list[TransportActivity]
            ) -> tuple[float, dict[str, float], dict[str, int], dict[str, int], int]:
    """kWh, vehicle-km, attributed and unattributed counts per class, and readings."""
    vkm: dict[str, float] = {}
    counts: dict[str, int] = {}
    unattributed: dict[str, int] = {}
    for row in transport:
        name = row.vehicle_class.value
        vkm[name] = vkm.get(name, 0.0) + row.vehicle_km
        counts[name] = counts.get(name, 0) + row.counts
        unattributed[name] = unattributed.get(name, 0) + row.unattributed_counts
    readings = sum(row.readings for row in energy)
    return sum(row.energy_kwh for row in energy), vkm, counts, unattributed, readings


def _network(start_ms: int) -> list[Row]:
    """Three meters and three counters, one reading each per minute for 20 minutes; the
    counter "gamma" changes its link length half way (the raw reader's slow path)."""
    rows: list[Row] = []
    for minute in range(20):
        at = start_ms + minute * 60_000
        rows += [_meter(f"m{k}", 0.5 + k + minute / 100, at + k) for k in range(3)]
        rows += [_counter("alpha", 3 + minute, 1, at, 0.4),
                 _counter("gamma", 2, minute % 3, at + 1, 0.4 if minute < 10 else 0.9),
                 _counter("delta", 5, 2, at + 2, None)]  # no link: counted, unattributed
    return rows


async def test_rows_and_bulk_give_the_raw_readers_activity(settings: Settings,
                                                           influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    start = _ms(HOUR)
    write_readings(influx.url, settings.influx_database, _network(start))
    store = InfluxStore(settings)
    try:
        window = TimeWindow(start * NS_PER_MS, (start + 20 * 60_000) * NS_PER_MS)
        expected = _totals(*await fetch_activity(store, window, None))
        kwh, vkm, counts, unattributed, _ = expected
        # By hand: alpha's cars sum(3..22) x 0.4, gamma's 10 x 2 x 0.4 + 10 x 2 x 0.9.
        assert vkm["car"] == pytest.approx(sum(range(3, 23)) * 0.4 + 10 * 2 * 0.4
                                           + 10 * 2 * 0.9)
        assert unattributed["car"] == 5 * 20
        assert kwh == pytest.approx(sum(0.5 + k + m / 100 for k in range(3) for m in range(20)))

        # Long enough for one bulk read (all settled: "now" is far after the window).
        bulk = RawTally(store)
        got = _totals(*await bulk.read(window, None, start + 2 * HOUR_MS))
        assert (bulk.bulk_reads, bulk.row_requests) == (1, 0)
        # Rows: the same 20 minutes read as four 5-minute windows, each too short for bulk.
        rows = RawTally(store)
        for end_min in (5, 10, 15, 20):
            part = TimeWindow(window.start_ns, (start + end_min * 60_000) * NS_PER_MS)
            stepped = _totals(*await rows.read(part, None, start + 2 * HOUR_MS))
        assert rows.bulk_reads == 0
        assert rows.row_requests == 40  # 30 s slices, each read once
        for one in (got, stepped):
            assert one[0] == pytest.approx(kwh)
            assert one[1] == pytest.approx(vkm)
            assert one[2:] == (counts, unattributed, expected[4])
    finally:
        await store.aclose()


async def test_refreshes_count_each_reading_once(settings: Settings,
                                                 influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    start = _ms(HOUR)
    store = InfluxStore(settings)
    tally = RawTally(store, overlap_ms=30_000)
    try:
        kwh_seen = []
        for step in range(6):  # a refresh every 20 s, each after one new reading
            now = start + 60_000 + step * 20_000
            # Each reading is stored 5 s after its own time, inside the overlap.
            write_readings(influx.url, settings.influx_database,
                           [_meter("m0", 1.0, now - 5_000)])
            window = TimeWindow(start * NS_PER_MS, now * NS_PER_MS)
            kwh_seen.append(_totals(*await tally.read(window, None, now))[0])
            tally.forget_unread()
        assert kwh_seen == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        assert tally.hours == [start]
        # A reading stored after the overlap passed its time is not read again raw (the
        # rollups bring it in once they cover its hour: tests/api/live/test_carbon.py).
        write_readings(influx.url, settings.influx_database,
                       [_meter("m0", 100.0, start + 61_000)])
        now = start + 60_000 + 6 * 20_000
        late = _totals(*await tally.read(TimeWindow(start * NS_PER_MS, now * NS_PER_MS),
                                         None, now))
        assert late[0] == pytest.approx(6.0)
    finally:
        await store.aclose()


async def test_truncated_slice_is_halved(settings: Settings, influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    start = _ms(HOUR)
    # 12,000 readings in 24 s: more than InfluxDB 1.x answers at once (10,000 rows).
    write_readings(influx.url, settings.influx_database,
                   [_meter("m0", 0.25, start + 2 * index) for index in range(12_000)])
    store = InfluxStore(settings)
    tally = RawTally(store)
    try:
        window = TimeWindow(start * NS_PER_MS, (start + 30_000) * NS_PER_MS)
        kwh, _, _, _, readings = _totals(*await tally.read(window, None, start + HOUR_MS))
        assert kwh == pytest.approx(3_000.0)
        assert readings == 12_000
        assert tally.row_requests == 3  # the 30 s slice, then its two halves
    finally:
        await store.aclose()


async def test_scope_leaves_sensors_out_and_resets(settings: Settings,
                                                   influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    start = _ms(HOUR)
    write_readings(influx.url, settings.influx_database,
                   [_meter("m0", 1.0, start + 1_000), _meter("sim-1", 50.0, start + 2_000),
                    _counter("sim-2", 10, 10, start + 3_000, 0.5)])
    store = InfluxStore(settings)
    tally = RawTally(store)
    window = TimeWindow(start * NS_PER_MS, (start + 60_000) * NS_PER_MS)
    try:
        with sensor_scope(SensorScope(excluded=frozenset({"sim-1", "sim-2"}))):
            energy, transport = await tally.read(window, None, start + HOUR_MS)
        assert _totals(energy, transport)[0] == pytest.approx(1.0)
        assert transport == []
        everything = _totals(*await tally.read(window, None, start + HOUR_MS))
        assert everything[0] == pytest.approx(51.0)
        assert everything[1]["car"] == pytest.approx(5.0)
        # Hours inside the covered span are left to the rollups.
        assert await tally.read(window, (start, start + HOUR_MS), start + HOUR_MS) == ([], [])
    finally:
        await store.aclose()


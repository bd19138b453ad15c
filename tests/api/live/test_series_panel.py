"""The stream's ``series`` panel kept between refreshes (api/live/series_panel.py), against a
real InfluxDB: the same payload as reading the window whole, only unsettled buckets read
again, the first read in chunks, newest first, filling in over refreshes when they are
slow."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from api.activity.scope import SensorScope, sensor_scope
from api.influx import InfluxStore
from api.live.series import Window, fetch_buckets, series_bounds
from api.live.series_panel import SeriesPanel
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

Row = tuple[Topic, Reading, float | None]
NOW = int(datetime(2026, 6, 10, 12, 0, 20, tzinfo=UTC).timestamp() * 1000)  # 20 s past


def _meter(sensor: str, kwh: float, at_ms: int) -> Row:
    return (Topic(Domain.ENERGY, "alpha", sensor),
            EnergyReading(ts=at_ms, carrier=Carrier.ELECTRICITY, energy_kwh=kwh,
                          interval_s=60), None)


def _counter(cars: int, at_ms: int) -> Row:
    return (Topic(Domain.TRANSPORT, "beta", "counter"),
            TransportReading(ts=at_ms, interval_s=60, counts={VehicleClass.CAR: cars}), 0.4)


async def _whole(store: InfluxStore, now_ms: int, window: Window = "1h") -> dict[str, object]:
    return {"window": window, "partial": False,
            **await fetch_buckets(store, *series_bounds(window, now_ms))}


async def test_buckets_are_read_once_settled(settings: Settings, influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    hour_ago = NOW - 3_600_000
    write_readings(influx.url, settings.influx_database, [
        row for minute in range(62) for row in (
            _meter("m1", 0.5 + minute / 10, hour_ago + minute * 60_000 - 30_000),
            _counter(minute, hour_ago + minute * 60_000 - 20_000))])
    store = InfluxStore(settings)
    panel = SeriesPanel(store, "1h", clock=lambda: 0.0)  # every answer "instant"
    try:
        first = await panel.fetch(NOW)
        assert first == await _whole(store, NOW)
        # In chunks, the first of 15 minutes, doubled while InfluxDB answers fast.
        assert panel.reads == 3
        opening = panel.reads
        # 20 s after its end the last bucket is not settled: read again 10 s later (30 s
        # after its end: settled then)...
        write_readings(influx.url, settings.influx_database,
                       [_meter("m2", 6.0, NOW - 25_000)])  # stored late, within the overlap
        later = await panel.fetch(NOW + 10_000)
        assert panel.reads == opening + 1
        assert later == await _whole(store, NOW + 10_000)
        assert later["energy_kw"][-1] != first["energy_kw"][-1]
        # ...and once it is settled, nothing is read until the next bucket ends.
        await panel.fetch(NOW + 15_000)
        await panel.fetch(NOW + 39_000)
        assert panel.reads == opening + 1
        # A reading stored after its bucket settled stays out until the panel starts afresh.
        write_readings(influx.url, settings.influx_database,
                       [_meter("m3", 100.0, NOW - 90_000)])
        kept = await panel.fetch(NOW + 35_000)
        assert kept["energy_kw"] == later["energy_kw"]
        # The next minute: the new bucket only (the oldest leaves the window).
        next_minute = await panel.fetch(NOW + 60_000)
        assert panel.reads == opening + 2
        assert next_minute["energy_kw"][:-1] == kept["energy_kw"][1:]
        assert next_minute["start"] != kept["start"]
        # Another scope (simulated sensors left out): read afresh, late reading included.
        with sensor_scope(SensorScope(excluded=frozenset({"m2"}))):
            scoped = await panel.fetch(NOW + 60_000)
            assert scoped == await _whole(store, NOW + 60_000)
        assert panel.reads == opening + 3  # one request: the chunk has grown past the hour
    finally:
        await store.aclose()


def _history(start_ms: int, minutes: int) -> list[Row]:
    return [row for minute in range(minutes) for row in (
        _meter("m1", 0.5 + minute / 10, start_ms + minute * 60_000 + 5_000),
        _counter(minute % 7, start_ms + minute * 60_000 + 7_000))]


async def test_slow_first_read_fills_in_newest_first(settings: Settings,
                                                     influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _history(NOW - 86_400_000, 24 * 60))
    store = InfluxStore(settings)
    ticks = itertools.count(0, 20)  # every request "20 s": over the budget, and shrunk
    panel = SeriesPanel(store, "24h", budget_s=2, clock=lambda: float(next(ticks)))
    try:
        first = await panel.fetch(NOW)
        # One request per refresh, one bucket each: the newest only, the rest null.
        assert (panel.reads, panel.partial, first["partial"]) == (1, True, True)
        energy: list[list[float | None]] = first["energy_kw"]
        assert len(energy) == 96
        assert energy[-1][1] is not None
        assert all(row[1:] == [None] * 3 for row in energy[:-1])
        whole = await fetch_buckets(store, *series_bounds("24h", NOW))
        assert [row[0] for row in energy] == [row[0] for row in whole["energy_kw"]]
        # Each refresh reads the newest bucket again (not settled: 20 s after its end) and
        # one bucket more.
        second = await panel.fetch(NOW)
        assert second["energy_kw"][-2][1] is not None
        assert second["energy_kw"][-3][1] is None
        for _ in range(94):
            last = await panel.fetch(NOW)
        assert panel.reads == 1 + 2 * 95
        assert not panel.partial
        assert last == await _whole(store, NOW, "24h")
        # A 1h panel with room in its budget reads the hour in one refresh: 15 minutes,
        # then 30, then the 15 left.
        hour = SeriesPanel(store, "1h", clock=lambda: 0.0)
        assert await hour.fetch(NOW) == await _whole(store, NOW)
        assert hour.reads == 3
    finally:
        await store.aclose()

"""Seq jumps kept by the last-seen index (api/network/seq_gaps.py), against a real influxd:
the seed's hour (aggregates, then raw readings of the sensors that need them), then
refreshes that bring new, re-read and late readings."""

from __future__ import annotations

import time

import pytest

from api.errors import StoreError
from api.influx import InfluxStore
from api.network import seq_gaps
from api.network.last_seen_index import OVERLAP_MS, SEQ_SEED_RETRY_MS, LastSeenIndex
from api.network.seq_gaps import (
    SEED_SLICE_MS,
    SEQ_WINDOW_MS,
    SeqGap,
    SeqTracker,
    seed_tracker,
)
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import RecordingStore, create_database, seq_seed_gate, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

NOW = int(time.time() * 1000) // 1000 * 1000
MIN = 60_000
Written = tuple[Topic, Reading, float | None]


class Clock:
    def __init__(self, at_ms: int) -> None:
        self.at_ms = at_ms

    def __call__(self) -> int:
        return self.at_ms


def _meter(sensor: str, ts: int, seq: int, site: str = "alpha") -> Written:
    return (Topic(Domain.ENERGY, site, sensor),
            EnergyReading(ts=ts, carrier=Carrier.ELECTRICITY, energy_kwh=1.0, interval_s=60,
                          seq=seq), None)


def _counter(sensor: str, ts: int, seq: int) -> Written:
    return (Topic(Domain.TRANSPORT, "gamma", sensor),
            TransportReading(ts=ts, interval_s=60, counts={VehicleClass.CAR: 1}, seq=seq), 0.3)


async def test_seed_then_refreshes_match_the_hour(settings: Settings,
                                                 influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    readings = [
        # 1, 2, 5 (2 lost at -30 min), 6, 9 (2 lost at -10 min): 4 lost, first at -30 min.
        *(_meter("lossy", NOW - m * MIN, seq) for m, seq in
          [(40, 1), (35, 2), (30, 5), (20, 6), (10, 9)]),
        # A restart (seq falls) loses nothing.
        *(_meter("restart", NOW - m * MIN, seq) for m, seq in [(30, 70), (20, 71), (10, 0)]),
        # The jump's earlier reading is older than the hour: outside the window, as for
        # difference() over [now - 1 h, now).
        _counter("edge", NOW - 61 * MIN, 10), _counter("edge", NOW - 59 * MIN, 20),
        _counter("edge", NOW - 58 * MIN, 21),
    ]
    write_readings(influx.url, settings.influx_database, readings)
    store, clock = InfluxStore(settings), Clock(NOW)
    try:
        index = LastSeenIndex(store, refresh_s=5, reseed_s=3600, clock=clock)
        assert await index.seq_gaps(NOW) == [SeqGap("alpha", "lossy", 4, NOW - 30 * MIN)]

        # New readings: a jump of 3 for "restart"; "lossy" goes on without loss.
        write_readings(influx.url, settings.influx_database, [
            _meter("restart", NOW + 2_000, 4), _meter("lossy", NOW + 3_000, 10)])
        clock.at_ms = NOW + 10_000
        assert await index.seq_gaps(clock.at_ms) == [
            SeqGap("alpha", "lossy", 4, NOW - 30 * MIN),
            SeqGap("alpha", "restart", 3, NOW + 2_000)]

        # A reading that arrives late, within the overlap, between two already read: the
        # jump 0 -> 4 becomes 0 -> 1 (none) and 1 -> 4 (2 lost, at the later reading).
        write_readings(influx.url, settings.influx_database,
                       [_meter("restart", NOW + 1_000, 1)])
        clock.at_ms = NOW + 20_000
        assert clock.at_ms - 10_000 - OVERLAP_MS < NOW + 1_000  # inside the re-read window
        gaps = await index.seq_gaps(clock.at_ms)
        assert gaps[1] == SeqGap("alpha", "restart", 2, NOW + 2_000)

        # 35 minutes on, the first jump of "lossy" (-35 min -> -30 min) has left the hour.
        later = NOW + 26 * MIN
        clock.at_ms = later
        assert (await index.seq_gaps(later))[0] == SeqGap("alpha", "lossy", 2, NOW - 10 * MIN)
    finally:
        await store.aclose()


def test_tracker_forgets_quiet_sensors_and_ignores_settled_late_readings() -> None:
    tracker = SeqTracker()
    tracker.add([("s", "a", 1_000, 1), ("s", "a", 2_000, 4)], settled_ms=2_000, now_ms=3_000)
    assert tracker.gaps(3_000) == [SeqGap("s", "a", 2, 2_000)]
    # Older than the settled time: never read again in the real flow, so not re-paired.
    tracker.add([("s", "a", 1_500, 2)], settled_ms=2_000, now_ms=3_000)
    assert tracker.gaps(3_000) == [SeqGap("s", "a", 2, 2_000)]
    hour_on = 2_000 + 3_600_000 + 1  # the last reading is older than the hour
    tracker.add([], settled_ms=hour_on, now_ms=hour_on)
    assert tracker.gaps(hour_on) == []
    assert not tracker._tracks  # nothing left to pair with inside the hour


def _write_runs(settings: Settings, influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    runs = {
        "steady": [1, 2, 3, 4], "single": [7], "counter": [40, 41],  # consecutive
        "lossy": [1, 2, 5],  # 2 lost
        "repeat": [5, 5, 6],  # a repeat loses nothing, but is not a plain run
        "shuffled": [1, 2, 4, 3],  # consecutive as a set; 2 -> 4 loses 1 in time order
    }
    written: list[Written] = []
    for name, seqs in runs.items():
        for step, seq in enumerate(seqs):
            at = NOW - (40 - 5 * step) * MIN
            written.append(_counter(name, at, seq) if name == "counter"
                           else _meter(name, at, seq))
    write_readings(influx.url, settings.influx_database, written)


async def test_seed_reads_raw_only_sensors_whose_seqs_do_not_run_on(
        settings: Settings, influx: InfluxServer) -> None:
    _write_runs(settings, influx)
    store = RecordingStore(settings)
    tracker = SeqTracker()
    try:
        await seed_tracker(store, tracker, NOW - 60 * MIN, NOW, NOW - OVERLAP_MS, 30.0)
        aggregates, *raw = store.requests
        assert len(aggregates[0]) == 2  # both aggregate statements, one request
        assert len(raw) == SEQ_WINDOW_MS // SEED_SLICE_MS  # one group of sensors, sliced
        named = {value for _, params in raw for key, value in params.items()
                 if key.startswith("f")}
        assert named == {"lossy", "repeat", "shuffled"}
        assert tracker.gaps(NOW) == [SeqGap("alpha", "lossy", 2, NOW - 30 * MIN),
                                     SeqGap("alpha", "shuffled", 1, NOW - 30 * MIN)]
        # A clean sensor's next reading pairs with its latest: 4 -> 7 loses 2.
        tracker.add([("alpha", "steady", NOW + 1_000, 7)], settled_ms=NOW, now_ms=NOW + 2_000)
        assert SeqGap("alpha", "steady", 2, NOW + 1_000) in tracker.gaps(NOW + 2_000)
        tracker.add([("gamma", "counter", NOW + 1_000, 42)], settled_ms=NOW, now_ms=NOW + 2_000)
        assert [gap.sensor for gap in tracker.gaps(NOW + 2_000)] == [
            "lossy", "shuffled", "steady"]
    finally:
        await store.aclose()


async def test_seed_reads_every_reading_when_many_sensors_need_it(
        settings: Settings, influx: InfluxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_runs(settings, influx)
    monkeypatch.setattr(seq_gaps, "SEED_NAMED_AT_MOST", 2)  # three need raw readings
    store = RecordingStore(settings)
    tracker = SeqTracker()
    try:
        await seed_tracker(store, tracker, NOW - 60 * MIN, NOW, NOW - OVERLAP_MS, 30.0)
        _, *raw = store.requests
        assert len(raw) == SEQ_WINDOW_MS // SEED_SLICE_MS
        assert all(not any(key.startswith("f") for key in params) for _, params in raw)
        # The same answer; the clean sensors' readings are not added over their anchor.
        assert tracker.gaps(NOW) == [SeqGap("alpha", "lossy", 2, NOW - 30 * MIN),
                                     SeqGap("alpha", "shuffled", 1, NOW - 30 * MIN)]
        tracker.add([("alpha", "steady", NOW + 1_000, 5)], settled_ms=NOW, now_ms=NOW + 2_000)
        assert len(tracker.gaps(NOW + 2_000)) == 2  # 4 -> 5: none
    finally:
        await store.aclose()


async def test_the_index_answers_while_the_seq_seed_runs_and_hands_it_the_refreshes(
        settings: Settings, influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, [
        _meter("lossy", NOW - 20 * MIN, 1), _meter("lossy", NOW - 10 * MIN, 4),
        _meter("steady", NOW - 20 * MIN, 7), _meter("steady", NOW - 10 * MIN, 8)])
    store, clock = seq_seed_gate(settings), Clock(NOW)
    try:
        index = LastSeenIndex(store, refresh_s=5, reseed_s=3600, clock=clock)
        assert set(await index.get()) == {"lossy", "steady"}  # not held up by the seq seed
        assert not index.seq_ready
        assert await index.seq_gaps(NOW, wait_s=0.05) is None
        # A refresh while the seed waits: its jump (8 -> 12) must not be lost.
        write_readings(influx.url, settings.influx_database, [_meter("steady", NOW + 1_000, 12)])
        clock.at_ms = NOW + 5_000
        assert (await index.get())["steady"].time_ms == NOW + 1_000
        store.opened.set()
        assert await index.seq_gaps(clock.at_ms, wait_s=10) == [
            SeqGap("alpha", "lossy", 2, NOW - 10 * MIN),
            SeqGap("alpha", "steady", 3, NOW + 1_000)]
        assert index.seq_ready
    finally:
        await index.aclose()
        await store.aclose()


async def test_a_failed_seq_seed_is_named_and_tried_again_later(
        settings: Settings, influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, [
        _meter("lossy", NOW - 20 * MIN, 1), _meter("lossy", NOW - 10 * MIN, 4)])
    store, clock = seq_seed_gate(settings), Clock(NOW)
    store.opened.set()
    store.failures = 1
    try:
        index = LastSeenIndex(store, refresh_s=5, reseed_s=3600, clock=clock)
        assert "lossy" in await index.get()
        with pytest.raises(StoreError, match="took too long"):
            await index.seq_gaps(NOW)
        assert index.seq_error == "InfluxDB took too long to answer"
        clock.at_ms = NOW + SEQ_SEED_RETRY_MS - 1  # not yet: the error again, no new seed
        with pytest.raises(StoreError, match="took too long"):
            await index.seq_gaps(clock.at_ms)
        assert store.gated == 1
        clock.at_ms = NOW + SEQ_SEED_RETRY_MS
        assert await index.seq_gaps(clock.at_ms) == [SeqGap("alpha", "lossy", 2, NOW - 10 * MIN)]
        assert index.seq_ready
        assert index.seq_error is None
        assert store.gated == 2
    finally:
        await index.aclose()
        await store.aclose()

"""The last-seen index against a real InfluxDB: seed, refresh, drop-out, re-seed, one
query for many callers. Queries are counted by a store that records what it sends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from api.main import create_app
from api.network import seq_gaps
from api.network.last_seen import (
    LOOKBACK_MS,
    LastSeen,
    fetch_last_seen,
    fetch_since,
    last_seen_statements,
    recent_statements,
)
from api.network.last_seen_index import OVERLAP_MS, LastSeenIndex
from api.network.status import sensor_statuses
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
from tests.api.helpers import (
    RecordingStore,
    api_client,
    create_database,
    meters_registry,
    write_readings,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

NOW = int(time.time() * 1000) // 1000 * 1000
SEED_REQUESTS = len(last_seen_statements())
SEQ_SEED_REQUESTS = seq_gaps.SEED_AGGREGATES


class CountingStore(RecordingStore):
    """The real store, counting the requests of each kind."""

    def count(self, kind: str) -> int:
        """Requests of one look-back statement (``seed``) or recent reads (``recent``)."""
        sent = [statements for statements, _ in self.requests]
        if kind == "recent":
            return sent.count(tuple(recent_statements()))
        return sum(1 for request in sent
                   if len(request) == 1 and request[0] in last_seen_statements())


class Clock:
    def __init__(self, at_ms: int = NOW) -> None:
        self.at_ms = at_ms

    def __call__(self) -> int:
        return self.at_ms


def _meter(sensor: str, ts: int, interval_s: int = 60, site: str = "alpha"
           ) -> tuple[Topic, Reading, float | None]:
    return (Topic(Domain.ENERGY, site, sensor),
            EnergyReading(ts=ts, carrier=Carrier.ELECTRICITY, energy_kwh=1.0,
                          interval_s=interval_s), None)


def _mixed() -> list[tuple[Topic, Reading, float | None]]:
    return [
        _meter("meter-a", NOW - 20_000), _meter("meter-a", NOW - 80_000),
        (Topic(Domain.ENERGY, "beta", "gas-b"),
         EnergyReading(ts=NOW - 5_000, carrier=Carrier.GAS, energy_kwh=2.0, interval_s=300),
         None),
        (Topic(Domain.TRANSPORT, "gamma", "counter-c"),
         TransportReading(ts=NOW - 10_000, interval_s=900, counts={VehicleClass.CAR: 4}), 0.3),
        # The latest air-quality reading carries another field than the one before.
        (Topic(Domain.AIR_QUALITY, "delta", "aq-d"),
         AirQualityReading(ts=NOW - 40_000, no2_ugm3=20.0), None),
        (Topic(Domain.AIR_QUALITY, "delta", "aq-d"),
         AirQualityReading(ts=NOW - 2_000, humidity_pct=55.0), None),
        # A sensor that moved site: the later reading's site.
        _meter("mover", NOW - 90_000, site="alpha"), _meter("mover", NOW - 15_000, site="beta"),
    ]


@pytest.fixture
def db(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _mixed())
    return settings


async def test_seed_and_recent_readings_answer_as_the_single_query(db: Settings) -> None:
    store = CountingStore(db)
    try:
        index = LastSeenIndex(store, refresh_s=5, reseed_s=600, clock=Clock())
        seeded = dict(await index.get())
        assert seeded == await fetch_last_seen(store, now_ms=NOW)
        assert store.count("seed") == SEED_REQUESTS  # one statement per request
        assert seeded["aq-d"] == LastSeen("aq-d", "delta", Domain.AIR_QUALITY, NOW - 2_000,
                                          None, None)
        assert seeded["mover"].site == "beta"
        assert (seeded["gas-b"].carrier, seeded["gas-b"].interval_s) == ("gas", 300)
        assert (seeded["counter-c"].interval_s, seeded["counter-c"].carrier) == (900, None)
        # The raw form over a window picks the same latest reading as last() GROUP BY.
        assert await fetch_since(store, NOW - 60_000, NOW) == seeded
        recent = await fetch_since(store, NOW - 12_000, NOW)
        assert set(recent) == {"gas-b", "counter-c", "aq-d"}
        assert recent["gas-b"] == seeded["gas-b"]
    finally:
        await store.aclose()


async def test_new_readings_appear_after_a_refresh_and_statuses_follow_the_clock(
        db: Settings, influx: InfluxServer) -> None:
    store, clock = CountingStore(db), Clock()
    registry = meters_registry("meter-a")
    try:
        index = LastSeenIndex(store, refresh_s=5, reseed_s=600, clock=clock)
        assert (await index.get())["meter-a"].time_ms == NOW - 20_000
        write_readings(influx.url, db.influx_database, [_meter("meter-a", NOW + 1_000),
                                                        _meter("newcomer", NOW + 2_000)])
        clock.at_ms = NOW + 4_999
        assert "newcomer" not in await index.get()  # within the refresh interval: no query
        assert store.count("recent") == 0
        clock.at_ms = NOW + 5_000
        seen = await index.get()
        assert (seen["meter-a"].time_ms, seen["newcomer"].time_ms) == (NOW + 1_000, NOW + 2_000)
        assert store.count("recent") == 1

        def status(at_ms: int) -> str:
            clock.at_ms = at_ms
            return sensor_statuses(registry, seen, at_ms)[0].status

        # 60 s interval: reporting up to 120 s after the reading, late to 180 s, then silent.
        assert [status(NOW + 1_000 + age) for age in (120_000, 120_001, 180_000, 180_001)] == [
            "reporting", "late", "late", "silent"]
        # Only new readings are read again: the answer is the merge, the newer time winning.
        write_readings(influx.url, db.influx_database, [_meter("meter-a", NOW + 181_000)])
        clock.at_ms = NOW + 182_000
        seen = await index.get()
        assert seen["meter-a"].time_ms == NOW + 181_000
        assert seen["gas-b"].time_ms == NOW - 5_000  # kept from the seed
        assert sensor_statuses(registry, seen, clock())[0].status == "reporting"
        assert store.count("seed") == SEED_REQUESTS
    finally:
        await store.aclose()


async def test_readings_older_than_the_lookback_drop_out(db: Settings,
                                                         influx: InfluxServer) -> None:
    write_readings(influx.url, db.influx_database,
                   [_meter("fading", NOW - LOOKBACK_MS + 10_000)])
    store, clock = CountingStore(db), Clock()
    try:
        index = LastSeenIndex(store, refresh_s=5, reseed_s=10 * 86_400, clock=clock)
        assert "fading" in await index.get()
        clock.at_ms = NOW + 9_999  # a refresh: 30 days old less a millisecond
        assert "fading" in await index.get()
        clock.at_ms = NOW + 14_998
        assert "fading" in await index.get()  # no refresh yet: the map is as of 9,999
        clock.at_ms = NOW + 14_999  # the next refresh: out, as with `time > now() - 30d`
        assert "fading" not in await index.get()
        assert "meter-a" in await index.get()
    finally:
        await store.aclose()


async def test_a_reseed_finds_readings_written_with_old_timestamps(
        db: Settings, influx: InfluxServer) -> None:
    store, clock = CountingStore(db), Clock()
    try:
        index = LastSeenIndex(store, refresh_s=0, reseed_s=600, clock=clock)
        await index.get()
        # An import: readings timed well before the last query, beyond the overlap.
        old = NOW - OVERLAP_MS - 60_000
        write_readings(influx.url, db.influx_database, [_meter("imported", old)])
        clock.at_ms = NOW + 1_000
        assert "imported" not in await index.get()  # the recent read cannot see it
        clock.at_ms = NOW + 600_000
        await index.get()  # due: starts the re-seed in the background
        assert store.count("seed") == SEED_REQUESTS
        await _until(lambda: "imported" in index._seen)
        assert (await index.get())["imported"].time_ms == old
        assert index.seeds == 2
        # After an import the API is told (POST /rollups/backfill): the next request re-reads.
        write_readings(influx.url, db.influx_database, [_meter("imported-2", old)])
        index.invalidate()
        await index.get()
        await _until(lambda: "imported-2" in index._seen)
        assert index.seeds == 3
    finally:
        await store.aclose()


async def _until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "not within the timeout"
        await asyncio.sleep(0.02)


async def test_concurrent_callers_share_one_seed_and_one_refresh(db: Settings) -> None:
    store, clock = CountingStore(db), Clock()
    try:
        index = LastSeenIndex(store, refresh_s=5, reseed_s=600, clock=clock)
        answers = await asyncio.gather(*(index.get() for _ in range(12)))
        assert store.count("seed") == SEED_REQUESTS
        assert index.seeds == 1
        assert all(answer is answers[0] for answer in answers)
        clock.at_ms = NOW + 5_000
        await asyncio.gather(*(index.get() for _ in range(12)))
        assert store.count("recent") == 1
    finally:
        await store.aclose()


async def test_concurrent_sensor_lists_make_one_seed(db: Settings) -> None:
    app = create_app(db.model_copy(update={"last_seen_refresh_s": 5.0}),
                     registry=meters_registry("meter-a"))
    async with api_client(app) as client:
        store = CountingStore(db)
        app.state.last_seen = LastSeenIndex(store, refresh_s=5, reseed_s=600)
        try:
            answers = await asyncio.gather(*(client.get("/api/v1/sensors") for _ in range(8)))
            assert [answer.status_code for answer in answers] == [200] * 8
            assert store.count("seed") == SEED_REQUESTS
            # The seed's look-back and its seq slices (api/network/seq_gaps.py), nothing else.
            assert len(store.requests) == SEED_REQUESTS + SEQ_SEED_REQUESTS
            listed = answers[0].json()["sensors"]
            assert [one["id"] for one in listed] == [
                "meter-a", "aq-d", "counter-c", "gas-b", "mover"]
            seen = [[(one["id"], one["last_seen"]) for one in answer.json()["sensors"]]
                    for answer in answers]  # age_s is each answer's own
            assert all(one == seen[0] for one in seen)
        finally:
            await app.state.last_seen.aclose()
            await store.aclose()

"""The answer cache: single flight, expiry, invalidation, and through the app on a real
InfluxDB (identical requests share one answer; a rollup backfill makes it stale)."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from api.cache import AnswerCache
from api.main import create_app
from sensors.readings import Carrier, EnergyReading
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = pytest.mark.anyio


class Counter:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.delay_s = delay_s

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return self.calls


async def test_identical_requests_in_flight_share_one_computation() -> None:
    cache = AnswerCache(ttl_s=60)
    compute = Counter(delay_s=0.05)
    key = cache.key("/x", [("b", "2"), ("a", "1")])
    answers = await asyncio.gather(*(cache.get(key, compute) for _ in range(50)))
    assert compute.calls == 1
    assert {one.value for one in answers} == {1}
    assert sum(not one.hit for one in answers) == 1
    # Parameter order does not matter; any other parameter does.
    assert (await cache.get(cache.key("/x", [("a", "1"), ("b", "2")]), compute)).hit
    assert not (await cache.get(cache.key("/x", [("a", "1")]), compute)).hit


async def test_answers_expire_and_invalidation_drops_them() -> None:
    now = [1000.0]
    cache = AnswerCache(ttl_s=5, clock=lambda: now[0])
    compute = Counter()
    key = cache.key("/x", [])
    assert (await cache.get(key, compute)).value == 1
    now[0] += 4.9
    hit = await cache.get(key, compute)
    assert (hit.value, hit.hit, hit.headers()) == (1, True, {"Age": "4", "X-Cache": "hit"})
    # Past its time an answer is served once more while one refresh runs behind it...
    now[0] += 0.2
    stale = await cache.get(key, compute)
    assert (stale.value, stale.hit) == (1, True)
    assert stale.age_s == pytest.approx(5.1)
    await asyncio.gather(*cache._refreshing)  # the refresh behind it
    assert compute.calls == 2
    assert (await cache.get(key, compute)).value == 2
    # ...and past twice its time it is not served at all.
    now[0] += 10
    fresh = await cache.get(key, compute)
    assert (fresh.value, fresh.hit) == (3, False)
    cache.invalidate()
    assert (await cache.get(cache.key("/x", []), compute)).value == 4


async def test_ttl_zero_computes_every_request_and_stays_bounded() -> None:
    off = AnswerCache(ttl_s=0)
    compute = Counter()
    key = off.key("/x", [])
    assert [(await off.get(key, compute)).value for _ in range(3)] == [1, 2, 3]
    small = AnswerCache(ttl_s=60, max_entries=2)
    for n in range(5):
        await small.get(small.key("/x", [("n", str(n))]), compute)
    assert len(small._entries) == 2


async def test_a_failure_reaches_every_waiter_and_is_not_cached() -> None:
    cache = AnswerCache(ttl_s=60)
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        raise RuntimeError("store down")

    key = cache.key("/x", [])
    outcomes = await asyncio.gather(*(cache.get(key, failing) for _ in range(5)),
                                    return_exceptions=True)
    assert calls == 1
    assert all(isinstance(one, RuntimeError) for one in outcomes)
    assert (await cache.get(key, Counter())).value == 1  # nothing cached from the failure


async def test_a_cancelled_first_caller_does_not_fail_the_others() -> None:
    cache = AnswerCache(ttl_s=60)
    compute = Counter(delay_s=0.05)
    key = cache.key("/x", [])
    first = asyncio.create_task(cache.get(key, compute))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(cache.get(key, compute))
    await asyncio.sleep(0.01)
    first.cancel()
    answer = await second
    assert (answer.value, compute.calls) == (2, 2)


async def test_the_app_serves_identical_requests_from_one_answer_until_a_backfill(
        settings: Settings, influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    topic = Topic(Domain.ENERGY, "alpha", "e1")

    def meter(kwh: float, ts_ms: int) -> list[tuple[Topic, EnergyReading, None]]:
        return [(topic, EnergyReading(ts=ts_ms, carrier=Carrier.GAS, energy_kwh=kwh,
                                      interval_s=60), None)]

    start_ms = 1_780_000_000_000 - 1_780_000_000_000 % 3_600_000  # an hour in 2026
    write_readings(influx.url, settings.influx_database, meter(10.0, start_ms + 60_000))
    window = {"start": "2026-05-28T20:00:00Z", "end": "2026-05-28T22:00:00Z"}
    app = create_app(settings.model_copy(update={
        "api_cache_s": 300, "rollup_interval_s": 0,
        "api_keys": SecretStr("duty:operator:operator-secret-1")}))
    headers = {"X-API-Key": "operator-secret-1"}
    async with api_client(app) as client:
        first = await client.get("/api/v1/emissions", params=window, headers=headers)
        # A reading arrives in the window: identical requests still get the cached answer,
        # and say how old it is.
        write_readings(influx.url, settings.influx_database, meter(5.0, start_ms + 120_000))
        second = await client.get("/api/v1/emissions", params=window, headers=headers)
        csv = await client.get("/api/v1/emissions", params={**window, "format": "csv"},
                               headers=headers)
        other = await client.get("/api/v1/emissions", headers=headers,
                                 params={**window, "group_by": "site"})
        backfill = await client.post("/api/v1/rollups/backfill", params=window,
                                     headers=headers)
        third = await client.get("/api/v1/emissions", params=window, headers=headers)
    assert backfill.status_code == 200, backfill.text
    assert first.headers["X-Cache"] == "miss"
    assert second.headers["X-Cache"] == "hit"
    assert int(second.headers["Age"]) >= 0
    assert first.json() == second.json()
    assert first.json()["activity"]["energy_kwh"] == pytest.approx(10.0)
    # Other parameters are other answers, read now.
    assert csv.headers["X-Cache"] == "miss"
    assert other.headers["X-Cache"] == "miss"
    assert other.json()["activity"]["energy_kwh"] == pytest.approx(15.0)
    # The backfill changed what the rollups hold: nothing computed before it is served.
    assert third.headers["X-Cache"] == "miss"
    assert third.json()["activity"]["energy_kwh"] == pytest.approx(15.0)

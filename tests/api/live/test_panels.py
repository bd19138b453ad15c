"""The live panels' back-off and background job (api/live/panels.py): a failing panel is
retried after 2, 4, 8 ... refresh periods, at most a minute, and reported as failed
meanwhile; a slow panel runs beside the ticks, one job at a time."""

from __future__ import annotations

import asyncio

import pytest

from api.errors import StoreUnavailableError
from api.live.panels import BACKOFF_MAX_S, BackgroundJob, PanelBackoff, settle

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.at = 100.0

    def __call__(self) -> float:
        return self.at


async def test_failing_panel_backs_off_and_recovers() -> None:
    clock, calls = Clock(), {"now": 0, "carbon": 0}
    down = True

    async def now() -> str:
        calls["now"] += 1
        return "fresh"

    async def carbon() -> float:
        calls["carbon"] += 1
        if down:
            raise StoreUnavailableError("InfluxDB timed out")
        return 1.5

    backoff = PanelBackoff(refresh_s=1.0, clock=clock)
    tried_at = []
    for tick in range(40):
        clock.at = 100.0 + tick
        before = calls["carbon"]
        results, failures = await settle({"now": now(), "carbon": carbon()}, {}, backoff)
        if calls["carbon"] > before:
            tried_at.append(tick)
        assert results == {"now": "fresh"}  # the other panel runs at every tick
        assert failures == {"carbon": "InfluxDB timed out"}  # reported while held back
    # Waits of 2, 4, 8, 16 s after the failures at ticks 0, 2, 6, 14 (then 30 ...).
    assert tried_at == [0, 2, 6, 14, 30]
    assert calls["now"] == 40

    down = False
    clock.at = 100.0 + 30 + 32
    results, failures = await settle({"now": now(), "carbon": carbon()}, {}, backoff)
    assert (results, failures) == ({"now": "fresh", "carbon": 1.5}, {})
    assert not backoff.failing("carbon")


def test_wait_is_capped() -> None:
    clock = Clock()
    backoff = PanelBackoff(refresh_s=1.0, clock=clock)
    for _ in range(10):
        backoff.record({"daqi": None}, {"daqi": "down"})
    clock.at += BACKOFF_MAX_S - 0.001
    assert not backoff.due("daqi")
    clock.at += 0.001
    assert backoff.due("daqi")
    backoff.forget()
    assert backoff.held({}) == {}


async def test_background_job_does_not_hold_back_the_ticks() -> None:
    clock = Clock()
    backoff = PanelBackoff(refresh_s=1.0, clock=clock)
    job = BackgroundJob("carbon", backoff)
    release = asyncio.Event()
    started = []

    async def slow_carbon(value: float) -> float:
        started.append(value)
        await release.wait()
        return value

    results: dict[str, object] = {}
    failures: dict[str, str] = {}
    job.start(slow_carbon(1.0))
    await job.collect(0.05, {}, results, failures)  # the tick goes on without it
    assert (results, failures, job.running) == ({}, {}, True)
    job.start(slow_carbon(2.0))  # due again while it runs: not a second one
    await asyncio.sleep(0)
    assert started == [1.0]
    release.set()
    await job.collect(1.0, {}, results, failures)  # a later tick publishes it
    assert (results, failures, job.running) == ({"carbon": 1.0}, {}, False)

    async def failing() -> float:
        raise StoreUnavailableError("InfluxDB timed out")

    job.start(failing())
    results, failures = {}, {}
    await job.collect(1.0, {}, results, failures)
    assert failures == {"carbon": "InfluxDB timed out"}
    assert backoff.failing("carbon")
    # Held back by the back-off: not run, its failure reported again.
    job.start(slow_carbon(3.0))
    failures = {}
    await job.collect(1.0, {}, results, failures)
    assert (started, failures) == ([1.0], {"carbon": "InfluxDB timed out"})
    clock.at += 2.0  # the first back-off (2 refresh periods) is over
    release.clear()
    job.start(slow_carbon(4.0))
    await asyncio.sleep(0)
    task = job.cancel()  # the poller stops
    assert task is not None
    await asyncio.wait({task})
    assert task.cancelled()
    assert started == [1.0, 4.0]
    assert not job.running

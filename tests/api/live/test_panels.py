"""The live panels' back-off (api/live/panels.py): a failing panel is retried after 2, 4,
8 ... refresh periods, at most a minute, and reported as failed meanwhile."""

from __future__ import annotations

import pytest

from api.errors import StoreUnavailableError
from api.live.panels import BACKOFF_MAX_S, PanelBackoff, settle

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

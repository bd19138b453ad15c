"""The live ``sensors`` event: the full list first, then only what changed (docs/live.md),
over a real InfluxDB; and the full list again for a client that lost a change."""

from __future__ import annotations

from typing import Any

import pytest

from api.influx import InfluxStore
from api.live.hub import LiveHub
from api.live.subscription import QUEUE_EVENTS, Event, Subscription
from sensors.factors import load_factors
from sensors.readings import Carrier
from sensors.registry import load_registry
from sensors.settings import Settings
from smartplace.servers import InfluxServer
from tests.api.helpers import create_database, write_readings
from tests.api.live.test_stream import Events, _energy, _now_ms, live_app, streaming_client

pytestmark = pytest.mark.anyio
REGISTERED = [sensor.id for sensor in load_registry().sensors]


@pytest.fixture
def db(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    return settings.model_copy(update={"live_refresh_s": 0.2})


@pytest.mark.integration
async def test_full_list_then_changes_only(db: Settings, influx: InfluxServer) -> None:
    now = _now_ms()
    write_readings(influx.url, db.influx_database, [
        _energy("mw-elec-main", "merseyway", Carrier.ELECTRICITY, now - 1_000, 1.0),
        _energy("rogue-1", "nowhere", Carrier.ELECTRICITY, now - 1_000, 1.0)])
    async with streaming_client(live_app(db)) as client, \
            client.stream("GET", "/api/v1/live") as response:
        events = Events(response)
        full = await events.until("sensors")
        assert full["full"] is True
        assert [one["id"] for one in full["sensors"]] == [*REGISTERED, "rogue-1"]
        status = {one["id"]: one["status"] for one in full["sensors"]}
        assert (status["mw-elec-main"], status["rogue-1"], status["mw-gas-boiler"]) == (
            "reporting", "reporting", "silent")
        # Nothing changes: the next ticks carry the counts and no sensor.
        quiet = await events.until("sensors")
        assert (quiet["full"], quiet["base"], quiet["rev"]) == (False, full["rev"],
                                                               full["rev"] + 1)
        assert (quiet["changed"], quiet["removed"], quiet["counts"]) == (
            [], [], full["counts"])
        assert "sensors" not in quiet
        # A silent registered sensor reports; a reporting one reports again (not resent).
        write_readings(influx.url, db.influx_database, [
            _energy("mw-gas-boiler", "merseyway", Carrier.GAS, _now_ms() - 500, 2.0),
            _energy("mw-elec-main", "merseyway", Carrier.ELECTRICITY, _now_ms() - 400, 1.0)])
        change = await events.until("sensors", lambda data: bool(data["changed"]))
        (boiler,) = change["changed"]
        assert (boiler["id"], boiler["status"], boiler["registered"]) == (
            "mw-gas-boiler", "reporting", True)
        assert change["counts"]["reporting"] == full["counts"]["reporting"] + 1
        assert change["counts"]["silent"] == full["counts"]["silent"] - 1


def _panel(status: str) -> dict[str, Any]:
    entry = {"id": "m-1", "site": "alpha", "domain": "energy", "status": status,
             "last_seen": "2026-11-26T10:00:00.000Z", "age_s": 1.0, "interval_s": 60,
             "registered": True, "simulated": False, "retired": False,
             "source_format": "native"}
    return {"counts": {"reporting": 0, "late": 0, "silent": 0, status: 1},
            "set_aside": {"simulated": 0, "retired": 0}, "sensors": [entry]}


async def test_a_client_that_lost_a_change_gets_the_full_list() -> None:
    settings = Settings(_env_file=None)
    store = InfluxStore(settings)  # never asked: the events are made here
    hub = LiveHub(settings, load_registry(), load_factors(), store)
    client = Subscription()
    hub._subscribers.add(client)  # without the poller: this test publishes
    try:
        hub._publish([hub._sensors.update("t1", _panel("reporting"))])
        first = await client.get()
        assert first is not None
        assert (first.data["full"], first.data["sensors"][0]["status"]) == (True, "reporting")
        hub._publish([hub._sensors.update("t2", _panel("late"))])
        change = await client.get()
        assert change is not None
        assert (change.data["full"], change.data["base"]) == (False, first.data["rev"])
        assert [one["status"] for one in change.data["changed"]] == ["late"]
        # The client falls behind: its queued change goes, the next list is a full one.
        hub._publish([hub._sensors.update("t3", _panel("silent"))])
        for number in range(QUEUE_EVENTS):
            hub._publish([Event("now", {"n": number})])
        assert client.needs_full_sensors
        for _ in range(QUEUE_EVENTS):
            await client.get()
        hub._publish([hub._sensors.update("t4", _panel("silent"))])
        again = await client.get()
        assert again is not None
        assert (again.data["full"], again.data["rev"]) == (True, 4)
        assert [one["status"] for one in again.data["sensors"]] == ["silent"]
        assert hub._latest["sensors"] == again  # a client connecting now starts from it
    finally:
        await hub.aclose()
        await store.aclose()

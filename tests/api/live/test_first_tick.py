"""The live hub's first ticks while the seq seed is slow (at 30,000 sensors it takes
seconds): the sensors and other panels come at once, the alerts once the seed has ended,
with its seq gaps; over a real InfluxDB."""

from __future__ import annotations

import pytest

from api.live import hub as hub_module
from api.live.hub import LiveHub
from api.network.last_seen_index import LastSeenIndex
from sensors.factors import load_factors
from sensors.readings import Carrier
from sensors.registry import load_registry
from sensors.settings import Settings
from smartplace.servers import InfluxServer
from tests.api.helpers import SeqSeedGate, create_database, write_readings
from tests.api.live.test_stream import _energy, _now_ms

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_alerts_wait_for_the_seq_seed_and_the_other_panels_do_not(
        settings: Settings, influx: InfluxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "SEQ_WAIT_S", 0.05)
    create_database(influx.url, settings.influx_database)
    now = _now_ms()
    write_readings(influx.url, settings.influx_database, [
        _energy("mw-elec-main", "merseyway", Carrier.ELECTRICITY, now - 120_000, 1.0, seq=3),
        _energy("mw-elec-main", "merseyway", Carrier.ELECTRICITY, now - 60_000, 1.0, seq=9)])
    store = SeqSeedGate(settings)
    index = LastSeenIndex(store, refresh_s=settings.last_seen_refresh_s, reseed_s=3600)
    hub = LiveHub(settings, load_registry(), load_factors(), store, last_seen=index)
    try:
        first = {event.name: event.data for event in await hub.tick()}
        assert {"now", "series", "sensors", "pipeline"} <= set(first)
        assert "alerts" not in first
        assert "error" not in first  # a seed still running is no failure
        store.opened.set()
        await index.seq_gaps(now)  # the seed ends
        later = {event.name: event.data for event in await hub.tick()}
        gaps = [alert for alert in later["alerts"]["active"] if alert["kind"] == "seq_gap"]
        assert [(alert["sensor"], alert["severity"]) for alert in gaps] == [
            ("mw-elec-main", "warning")]
    finally:
        await hub.aclose()
        await hub.ledger.aclose()  # its event writes (the app's lifespan does this)
        await index.aclose()
        await store.aclose()

"""The live hub's ticks while a slow read runs (at 30,000 sensors the seq seed and a
series' first read take seconds): the seq seed holds back only the alerts, a series read
only its own panel; over a real InfluxDB."""

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
from tests.api.helpers import GatedStore, create_database, seq_seed_gate, write_readings
from tests.api.live.test_stream import _energy, _now_ms

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def _main_meter(settings: Settings, influx: InfluxServer, *at: tuple[int, int]) -> None:
    """A database with readings of the main electricity meter, at (age ms, seq) each."""
    create_database(influx.url, settings.influx_database)
    now = _now_ms()
    write_readings(influx.url, settings.influx_database, [
        _energy("mw-elec-main", "merseyway", Carrier.ELECTRICITY, now - age_ms, 1.0, seq=seq)
        for age_ms, seq in at])


async def test_alerts_wait_for_the_seq_seed_and_the_other_panels_do_not(
        settings: Settings, influx: InfluxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "SEQ_WAIT_S", 0.05)
    _main_meter(settings, influx, (120_000, 3), (60_000, 9))  # 5 lost between
    store = seq_seed_gate(settings)
    index = LastSeenIndex(store, refresh_s=settings.last_seen_refresh_s, reseed_s=3600)
    hub = LiveHub(settings, load_registry(), load_factors(), store, last_seen=index)
    try:
        first = {event.name: event.data for event in await hub.tick()}
        assert {"now", "series", "sensors", "pipeline"} <= set(first)
        assert "alerts" not in first
        assert "error" not in first  # a seed still running is no failure
        store.opened.set()
        await index.seq_gaps(_now_ms())  # the seed ends
        later = {event.name: event.data for event in await hub.tick()}
        gaps = [alert for alert in later["alerts"]["active"] if alert["kind"] == "seq_gap"]
        assert [(alert["sensor"], alert["severity"]) for alert in gaps] == [
            ("mw-elec-main", "warning")]
    finally:
        await hub.aclose()
        await hub.ledger.aclose()  # its event writes (the app's lifespan does this)
        await index.aclose()
        await store.aclose()


async def test_a_slow_series_read_holds_back_only_its_panel(
        settings: Settings, influx: InfluxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "SERIES_WAIT_S", 0.05)
    _main_meter(settings, influx, (60_000, 1))
    store = GatedStore(settings, ", carrier fill(null)")  # the series' energy statement
    hub = LiveHub(settings.model_copy(update={"live_refresh_s": 0.1}), load_registry(),
                  load_factors(), store)
    try:
        first = [event for event in await hub.tick()]
        names = {event.name for event in first}
        assert {"now", "sensors", "pipeline", "alerts"} <= names
        assert "series" not in names
        assert "error" not in names  # still under way: no failure
        second = {event.name for event in await hub.tick()}
        assert "series" not in second
        assert store.gated == 2  # one read per window, none started while one runs
        store.opened.set()
        windows = set()
        for _ in range(50):
            windows |= {event.data["window"] for event in await hub.tick()
                        if event.name == "series"}
            if windows == {"1h", "24h"}:
                break
        assert windows == {"1h", "24h"}
    finally:
        await hub.aclose()
        await hub.ledger.aclose()
        await store.aclose()


async def test_alerts_wait_for_the_first_daqi_read(
        settings: Settings, influx: InfluxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Computed without the DAQI, the alerts would clear a daqi_high alert that the history
    # holds and raise it again once the index is read.
    monkeypatch.setattr(hub_module, "SERIES_WAIT_S", 0.05)
    _main_meter(settings, influx, (60_000, 1))
    store = GatedStore(settings, "AS m_")  # the DAQI's per-bucket means
    hub = LiveHub(settings.model_copy(update={"live_refresh_s": 0.1}), load_registry(),
                  load_factors(), store)
    try:
        for _ in range(2):
            names = {event.name for event in await hub.tick()}
            assert {"now", "sensors", "pipeline"} <= names
            assert not names & {"alerts", "error"}
        store.opened.set()
        for _ in range(50):
            if "alerts" in {event.name for event in await hub.tick()}:
                break
        else:
            pytest.fail("no alerts after the DAQI was read")
        assert store.gated == 1  # one DAQI read while it ran
    finally:
        await hub.aclose()
        await hub.ledger.aclose()
        await store.aclose()

"""Simulated and retired sensors against a real InfluxDB: what the figures count.

A simulator registers its generated sensors as simulated (``sensor_flags``) before it
publishes: emissions, indicators and completeness leave them out unless asked; an
operator retires a sensor: no completeness expects it, its past readings still count.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.main import create_app
from api.params import parse_time
from sensors.factors import load_factors
from sensors.readings import Carrier, EnergyReading, Reading
from sensors.registry import Registry
from sensors.settings import Settings
from sensors.timestamps import now_ms
from sensors.topics import Domain, Topic
from simulators.registration import register_simulated
from smartplace.servers import InfluxServer
from tests.api.helpers import (
    api_client,
    create_database,
    kg_approx,
    meter,
    meters_registry,
    write_readings,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

START, END = "2025-06-01T10:00:00Z", "2025-06-01T11:00:00Z"
KEYS = "wall:viewer:viewer-secret-1,duty:operator:operator-secret-1"
VIEWER = {"X-API-Key": "viewer-secret-1"}
OPERATOR = {"X-API-Key": "operator-secret-1"}
FACTORS = load_factors()
GRID = FACTORS.value("electricity.generation", 2025) + FACTORS.value("electricity.td", 2025)


def _registry() -> Registry:
    return meters_registry("meter-a", "meter-b")


SIMULATED = meter("sim-energy-0001")


def _minutes(sensor: str, kwh: float) -> list[tuple[Topic, Reading, float | None]]:
    start = parse_time("t", START) // 1_000_000
    return [(Topic(Domain.ENERGY, "alpha", sensor),
             EnergyReading(ts=start + m * 60_000, carrier=Carrier.ELECTRICITY,
                           energy_kwh=kwh, interval_s=60, seq=m), None)
            for m in range(60)]


@pytest.fixture
def db(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    # meter-a 1 kWh a minute for the hour; meter-b 2 kWh for the first 30 minutes only
    # (half of its expected readings); the simulator's sensor 100 kWh a minute. meter-b and
    # the simulator's sensor also reported once, 10 minutes ago: both silent now.
    recent: list[tuple[Topic, Reading, float | None]] = [
        (Topic(Domain.ENERGY, "alpha", sensor),
         EnergyReading(ts=now_ms() - 600_000, carrier=Carrier.ELECTRICITY,
                       energy_kwh=1.0, interval_s=60), None)
        for sensor in ("meter-b", SIMULATED.id)]
    write_readings(influx.url, settings.influx_database,
                   _minutes("meter-a", 1.0) + _minutes("meter-b", 2.0)[:30]
                   + _minutes(SIMULATED.id, 100.0) + recent)
    return settings.model_copy(update={"api_keys": SecretStr(KEYS), "rollup_interval_s": 0})


async def _silent(app: FastAPI) -> set[str]:
    """The sensors the live poller raises a sensor_silent alert for."""
    events = await app.state.live_hub.tick()
    (alerts,) = [event.data for event in events if event.name == "alerts"]
    return {alert["sensor"] for alert in alerts["active"] if alert["kind"] == "sensor_silent"}


def _completeness(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["sensor"]: entry for entry in body["completeness"]["per_sensor"]}


async def test_simulated_sensors_are_left_out_unless_asked_for(db: Settings) -> None:
    register_simulated(db, [SIMULATED])
    register_simulated(db, [SIMULATED])  # again: the same points, not twice as many
    app = create_app(db, registry=_registry())
    window = {"start": START, "end": END}
    async with api_client(app) as client:
        plain = (await client.get("/api/v1/emissions", params=window, headers=VIEWER)).json()
        assert plain["total_kgco2e"] == kg_approx((60 * 1.0 + 30 * 2.0) * GRID, rows=4)
        both = (await client.get("/api/v1/emissions", params={**window,
                                 "include_simulated": "true"}, headers=VIEWER)).json()
        assert both["total_kgco2e"] == kg_approx((60 + 60 + 6000) * GRID, rows=6)
        by_sensor = (await client.get("/api/v1/emissions", headers=VIEWER, params={
            **window, "group_by": "sensor"})).json()
        assert {row["sensor"] for row in by_sensor["rows"]} == {"meter-a", "meter-b"}

        indicators = (await client.get("/api/v1/indicators", params=window,
                                       headers=VIEWER)).json()
        entries = _completeness(indicators)
        assert set(entries) == {"meter-a", "meter-b"}
        assert indicators["completeness"]["share"] == pytest.approx(90 / 120)
        with_sim = (await client.get("/api/v1/indicators", headers=VIEWER, params={
            **window, "include_simulated": "true"})).json()
        assert SIMULATED.id in _completeness(with_sim)

        listed = (await client.get("/api/v1/sensors", headers=VIEWER)).json()
        flags = {one["id"]: (one["simulated"], one["retired"]) for one in listed["sensors"]}
        assert flags == {"meter-a": (False, False), "meter-b": (False, False),
                         SIMULATED.id: (True, False)}
        assert await _silent(app) == {"meter-b"}  # the simulated one raises no alert


async def test_a_retired_sensor_counts_in_no_completeness_but_its_readings_count(
        db: Settings) -> None:
    register_simulated(db, [SIMULATED])
    app = create_app(db, registry=_registry())
    window = {"start": START, "end": END}
    async with api_client(app) as client:
        assert await _silent(app) == {"meter-b"}
        refused = await client.post("/api/v1/sensors/meter-b/retire", headers=VIEWER,
                                    json={"reason": "removed"})
        assert refused.status_code == 403
        assert "operator" in refused.json()["detail"]
        unknown = await client.post("/api/v1/sensors/no-such-meter/retire", headers=OPERATOR)
        assert unknown.status_code == 404
        done = await client.post("/api/v1/sensors/meter-b/retire", headers=OPERATOR,
                                 json={"reason": "meter removed in the refit"})
        assert done.status_code == 200
        assert done.json()["by"] == "duty"
        assert done.json()["retired"] is True
        assert await _silent(app) == set()  # retired: its alert clears, none is raised

        indicators = (await client.get("/api/v1/indicators", params=window,
                                       headers=VIEWER)).json()
        assert set(_completeness(indicators)) == {"meter-a"}
        assert indicators["completeness"]["share"] == pytest.approx(1.0)
        emissions = (await client.get("/api/v1/emissions", params=window,
                                      headers=VIEWER)).json()
        assert emissions["total_kgco2e"] == kg_approx((60 + 60) * GRID, rows=4)
        one = (await client.get("/api/v1/sensors/meter-b", headers=VIEWER)).json()
        assert one["retired"] is True

    # A new API process reads the retirement from InfluxDB; reinstating undoes it.
    again = create_app(db, registry=_registry())
    async with api_client(again) as client:
        assert (await client.get("/api/v1/sensors/meter-b", headers=VIEWER)).json()["retired"]
        back = await client.post("/api/v1/sensors/meter-b/reinstate", headers=OPERATOR)
        assert back.json()["retired"] is False
        indicators = (await client.get("/api/v1/indicators", params=window,
                                       headers=VIEWER)).json()
        assert set(_completeness(indicators)) == {"meter-a", "meter-b"}


async def test_the_registry_can_retire_a_sensor(db: Settings) -> None:
    register_simulated(db, [SIMULATED])
    registry = _registry()
    retired = registry.model_copy(update={"sensors": (
        registry.sensors[0], registry.sensors[1].model_copy(update={"retired": True}))})
    app = create_app(db, registry=retired)
    async with api_client(app) as client:
        indicators = (await client.get("/api/v1/indicators", headers=VIEWER,
                                       params={"start": START, "end": END})).json()
        assert set(_completeness(indicators)) == {"meter-a"}

"""Simulator -> MQTT -> ingest -> InfluxDB -> API, all real: the API's emissions equal the
sum computed here from the stored readings and the factors the API lists."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from api.clock import london_year
from api.main import create_app
from ingest.service import IngestService
from sensors.factors import load_factors
from sensors.readings import VehicleClass
from sensors.settings import Settings
from simulators.engine import SimulationOptions, run_simulation
from tests.api.helpers import api_client
from tests.helpers import as_publisher, eventually, influx_count, influx_rows

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

HOUR_MS = 3_600_000


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def stored(settings: Settings) -> int:
    url, db = settings.influx_url, settings.influx_database
    return sum(influx_count(url, db, m, f) for m, f in
               (("energy", "energy_kwh"), ("transport", "interval_s"),
                ("air_quality", "seq")))


async def test_simulated_readings_become_traceable_emissions(
    settings: Settings, ingest_thread: Callable[..., IngestService]
) -> None:
    ingest_thread()
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    start_ms = (now_ms - 3 * HOUR_MS) // HOUR_MS * HOUR_MS
    report = run_simulation(as_publisher(settings), SimulationOptions(
        start_ms=start_ms, count=2000, seed=11, bad_ratio=0.05))
    assert report.failed == 0
    valid = sum(report.by_domain.values())
    assert valid + sum(report.bad.values()) == report.total == 2000
    url, db = settings.influx_url, settings.influx_database
    eventually(lambda: stored(settings) == valid, 60, message=f"{valid} readings stored")
    eventually(lambda: influx_count(url, db, "dead_letter", "payload") == sum(report.bad.values()),
               message="dead letters stored")
    dead = influx_rows(url, db, 'SELECT count("payload") FROM dead_letter GROUP BY "reason"')
    assert {row["reason"]: row["count"] for row in dead} == report.bad

    window = {"start": rfc3339(start_ms), "end": rfc3339(now_ms + HOUR_MS)}
    async with api_client(create_app(settings)) as client:
        response = await client.get("/api/v1/emissions", params=window)
        assert response.status_code == 200, response.text
        body = response.json()
        by_domain = await client.get("/api/v1/emissions", params={**window, "group_by": "domain"})
        assert by_domain.status_code == 200

    factor = {entry["id"]: entry["value"] for entry in body["factors"]}
    # Each factor in force is the packaged row for the readings' (London) year.
    table, year = load_factors(), london_year(now_ms)
    assert all(entry["source"] and entry["year"] == table.factor(entry["id"], year).year
               for entry in body["factors"])
    energy = influx_rows(url, db, "SELECT carrier, energy_kwh FROM energy")
    transport = influx_rows(url, db, "SELECT * FROM transport")
    grid = factor["electricity.generation"] + factor["electricity.td"]
    per_kwh = {"electricity": grid, "ev_charging": grid, "gas": factor["gas"], "solar_pv": 0.0}
    energy_kg = [row["energy_kwh"] * per_kwh[row["carrier"]] for row in energy]
    vehicle_factor = {vc.value: factor.get(f"vehicle.{vc.value}", 0.0) for vc in VehicleClass}
    transport_kg = [
        row[f"count_{vc}"] * row["link_km"] * vehicle_factor[vc]
        for row in transport if row.get("link_km") is not None
        for vc in vehicle_factor
    ]
    expected_total = math.fsum(energy_kg + transport_kg)
    expected_avoided = math.fsum(row["energy_kwh"] * factor["electricity.generation"]
                                 for row in energy if row["carrier"] == "solar_pv")

    assert expected_total > 0
    assert body["unit"] == "kgCO2e"
    assert body["total_kgco2e"] == pytest.approx(expected_total, rel=1e-9)
    assert body["avoided_kgco2e"] == pytest.approx(expected_avoided, rel=1e-9)
    assert body["net_kgco2e"] == pytest.approx(expected_total - expected_avoided, rel=1e-9)
    assert math.fsum(row["kgco2e"] for row in body["rows"]) == pytest.approx(
        body["total_kgco2e"], rel=1e-12)
    domains = {row["domain"]: row["kgco2e"] for row in by_domain.json()["rows"]}
    assert domains["energy"] == pytest.approx(math.fsum(energy_kg), rel=1e-9)
    assert domains["transport"] == pytest.approx(math.fsum(transport_kg), rel=1e-9)
    assert domains.get("air_quality", 0.0) == 0.0

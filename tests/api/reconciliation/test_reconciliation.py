"""``smartplace reconcile import``, ``/api/v1/reconciliation`` and ``/api/v1/budget`` against a
real InfluxDB, with the sample DESNZ file and figures worked out by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.main import create_app
from api.params import parse_time
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.cli import app as cli
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings
from tests.helpers import influx_count

pytestmark = [pytest.mark.integration]

SAMPLE = Path(__file__).with_name("desnz_la_ghg_sample.csv")
STOCKPORT = "E08000007"
# The sample's Stockport 2023 rows (kt CO2e), summed by hand:
ELECTRICITY_KT = 40 + 0.1 + 0.2 + 45 + 0.3 + 15 + 90 + 0.2  # 190.8
GAS_KT = 35 + 0.1 + 25 + 20 + 330 + 0.5  # 410.6
ROAD_KT = 200 + 2 + 110 + 90  # 402.0
TOTAL_KT = 1068.4
# 2023 activity uses the earliest set (2024): electricity 1000 kWh x (0.20705 + 0.0183),
# gas 2000 kWh x 0.1829, cars 100 vehicle-km x 0.16691.
TOWN_ELEC_KG, TOWN_GAS_KG, TOWN_CAR_KG = 1000 * (0.20705 + 0.0183), 2000 * 0.1829, 100 * 0.16691


def _ms(text: str) -> int:
    return parse_time("t", text) // 1_000_000


def _readings() -> list[tuple[Topic, Reading, float | None]]:
    ts = _ms("2023-06-01T12:00:00Z")
    return [
        (Topic(Domain.ENERGY, "merseyway", "mw-elec-main"),
         EnergyReading(ts=ts, carrier=Carrier.ELECTRICITY, energy_kwh=1000.0, interval_s=60),
         None),
        (Topic(Domain.ENERGY, "merseyway", "mw-gas-boiler"),
         EnergyReading(ts=ts, carrier=Carrier.GAS, energy_kwh=2000.0, interval_s=60), None),
        (Topic(Domain.TRANSPORT, "interchange", "tr-daw-bank"),
         TransportReading(ts=ts, interval_s=60, counts={VehicleClass.CAR: 100}, link_km=1.0),
         None),
    ]


@pytest.fixture
def imported(settings: Settings, influx: InfluxServer, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The sample imported by the command into the API's own database (raw data is the
    ingestor's: the API and its commands never write there)."""
    own = f"{settings.influx_database}_api"
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMARTPLACE_INFLUX_URL", influx.url)
    monkeypatch.setenv("SMARTPLACE_INFLUX_DATABASE", settings.influx_database)
    monkeypatch.setenv("SMARTPLACE_INFLUX_API_DATABASE", own)
    result = CliRunner().invoke(cli, ["reconcile", "import", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "imported 38 rows of edition '2020-2023' (2020-2023, 2 authorities)" in result.output
    assert influx_count(influx.url, own, "la_inventory", "territorial_kt") == 37  # one [x]
    assert influx_count(influx.url, settings.influx_database, "la_inventory",
                        "territorial_kt") == 0
    return settings.model_copy(update={"influx_api_database": own})


async def _get(settings: Settings, path: str, **params: str) -> httpx.Response:
    async with api_client(create_app(settings.model_copy(update={"rollup_interval_s": 0}))
                          ) as client:
        return await client.get(path, params=params)


@pytest.mark.anyio
async def test_reconciliation_by_hand(imported: Settings) -> None:
    response = await _get(imported, "/api/v1/reconciliation", la=STOCKPORT, year="2023")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert (body["la"], body["la_name"], body["year"]) == (STOCKPORT, "Stockport", 2023)
    assert body["edition"]["edition"] == "2020-2023"
    assert body["edition"]["file_sha256"] == __import__("hashlib").sha256(
        SAMPLE.read_bytes()).hexdigest()
    assert "not a modelled borough inventory" in body["caveat"]
    borough = body["borough"]
    assert borough["total_kt_co2e"] == pytest.approx(TOTAL_KT, abs=1e-9)
    assert borough["total_kt_co2"] == pytest.approx(1035.0, abs=1e-9)  # less 33.4 CH4/N2O
    assert borough["per_capita_t_co2e"] == pytest.approx(TOTAL_KT / 297.0, rel=1e-12)
    assert borough["per_km2_kt_co2e"] == pytest.approx(TOTAL_KT / 126.1, rel=1e-12)
    sectors = {s["sector"]: s for s in borough["sectors"]}
    assert sectors["Domestic"]["kt_co2e"] == pytest.approx(432.7, abs=1e-9)
    assert sectors["LULUCF"]["kt_co2e"] == pytest.approx(-8.0)  # the [x] cell adds nothing
    groups = {g["group"]: g for g in body["comparison"]}
    expected = {"electricity": (ELECTRICITY_KT, TOWN_ELEC_KG, 1000.0, "kWh"),
                "gas": (GAS_KT, TOWN_GAS_KG, 2000.0, "kWh"),
                "road_transport": (ROAD_KT, TOWN_CAR_KG, 100.0, "vehicle-km")}
    for group, (borough_kt, town_kg, activity, unit) in expected.items():
        one = groups[group]
        assert one["borough_kt_co2e"] == pytest.approx(borough_kt, abs=1e-9)
        assert one["town_centre_kt_co2e"] == pytest.approx(town_kg / 1e6, rel=1e-12)
        assert one["coverage_ratio"] == pytest.approx(town_kg / 1e6 / borough_kt, rel=1e-9)
        assert one["town_centre_activity"] == {"amount": pytest.approx(activity), "unit": unit}
        assert one["town_centre_implied_factor"]["value"] == pytest.approx(town_kg / activity)
    assert groups["electricity"]["town_centre_implied_factor"]["value"] == pytest.approx(
        0.22535)
    assert groups["road_transport"]["borough_subsectors"] == [
        "Road Transport (A roads)", "Road Transport (Minor roads)", "Road Transport (Motorways)"]
    assert body["borough_not_comparable_kt_co2e"] == pytest.approx(
        TOTAL_KT - ELECTRICITY_KT - GAS_KT - ROAD_KT, abs=1e-9)  # 65.0
    town_kt = (TOWN_ELEC_KG + TOWN_GAS_KG + TOWN_CAR_KG) / 1e6
    assert body["town_centre"]["total_kt_co2e"] == pytest.approx(town_kt, rel=1e-12)
    assert body["town_centre_share_of_borough"] == pytest.approx(town_kt / TOTAL_KT, rel=1e-9)


@pytest.mark.anyio
async def test_reconciliation_defaults_and_missing(imported: Settings) -> None:
    latest = (await _get(imported, "/api/v1/reconciliation", la=STOCKPORT)).json()
    assert latest["year"] == 2023  # the edition's latest year
    older = (await _get(imported, "/api/v1/reconciliation", la=STOCKPORT, year="2021")).json()
    assert older["borough"]["total_kt_co2e"] == pytest.approx(350 + 195 - 9.0)
    for params in ({"la": "E08000099"}, {"la": STOCKPORT, "year": "2010"},
                   {"la": STOCKPORT, "edition": "2005-2099"}):
        response = await _get(imported, "/api/v1/reconciliation", **params)
        assert response.status_code == 404, response.text
        assert "smartplace reconcile import" in response.json()["detail"]
    for bad in ({"la": "Stockport"}, {"la": "E08000007'"}, {}):
        assert (await _get(imported, "/api/v1/reconciliation", **bad)).status_code == 422


@pytest.mark.anyio
async def test_budget_used_remaining_and_trajectory(imported: Settings, tmp_path: Path) -> None:
    budget = {"name": "Test energy-only CO2 budget", "source": "hand-made for the test",
              "url": "https://carbonbudget.manchester.ac.uk/", "la": STOCKPORT,
              "start_year": 2020, "total_kt_co2": 5000.0}
    path = tmp_path / "budget.json"
    path.write_text(json.dumps(budget))
    configured = imported.model_copy(update={"carbon_budget_file": path})
    response = await _get(configured, "/api/v1/budget")
    assert response.status_code == 200, response.text
    body = response.json()
    # CO2 rows without LULUCF: 2020 360 + 180; 2021 350 + 195; 2022 340 + 198;
    # 2023 1035 - (-8) = 1043. Used 2666, remaining 2334.
    assert [(y["year"], y["kt_co2"]) for y in body["by_year"]] == [
        (2020, pytest.approx(540.0)), (2021, pytest.approx(545.0)),
        (2022, pytest.approx(538.0)), (2023, pytest.approx(1043.0))]
    assert body["used_kt_co2"] == pytest.approx(2666.0)
    assert body["remaining_kt_co2"] == pytest.approx(2334.0)
    assert body["share_used"] == pytest.approx(2666 / 5000)
    trajectory = body["trajectory"]
    rate = 1043 / (2334 + 1043)  # E0 (1 - r) / r = remaining
    assert trajectory["annual_reduction"] == pytest.approx(rate, rel=1e-12)
    assert trajectory["linear_zero_year"] == 2023 + math.ceil(2 * 2334 / 1043)  # 2028
    first = trajectory["years"][0]
    assert first["year"] == 2024
    assert first["constant_rate_kt_co2"] == pytest.approx(1043 * (1 - rate), rel=1e-12)
    assert first["linear_kt_co2"] == pytest.approx(1043 * (1 - 1043 / (2 * 2334)), rel=1e-12)
    spent = math.fsum(y["constant_rate_kt_co2"] for y in trajectory["years"])
    assert spent == pytest.approx(2334.0, rel=1e-3)  # the path spends what is left
    unconfigured = await _get(imported, "/api/v1/budget")
    assert unconfigured.status_code == 404


def test_bad_budget_file_stops_start_up(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    path.write_text(json.dumps({"name": "x", "source": "y", "url": "http://insecure",
                                "la": STOCKPORT, "start_year": 2020, "total_kt_co2": 1}))
    from api.errors import BudgetFileError
    with pytest.raises(BudgetFileError, match="SMARTPLACE_CARBON_BUDGET_FILE"):
        create_app(settings.model_copy(update={"carbon_budget_file": path}))


def test_import_errors_are_clear(settings: Settings, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(cli, ["reconcile", "import", str(bad)])
    assert result.exit_code == 1
    assert "not the DESNZ local-authority layout" in result.output
    missing = CliRunner().invoke(cli, ["reconcile", "import", str(tmp_path / "absent.csv")])
    assert missing.exit_code == 1
    assert "cannot read" in missing.output
    assert "Traceback" not in result.output + missing.output

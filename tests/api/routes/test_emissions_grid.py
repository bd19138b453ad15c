"""``/api/v1/emissions?method=grid_intensity`` against a real InfluxDB, worked out by hand."""

from __future__ import annotations

import csv
import io
import itertools
import math
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.params import parse_time
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DAY = "2025-06-01T"  # British Summer Time: London = UTC + 1; 2025 factors
GEN, TD, GAS = 0.17700, 0.01853, 0.18296
CAR = 0.16725
WINDOW = {"start": f"{DAY}10:00:00Z", "end": f"{DAY}12:00:00Z"}
GRID = {**WINDOW, "method": "grid_intensity"}

# Slots (UTC half-hours, a reading in the slot containing its timestamp):
#   10:00  intensity 200: e-elec 10 kWh (10:05), e-ev 3 kWh (10:15)
#   10:30  intensity 150: e-elec 4 kWh (10:30:00, on the boundary), 6 kWh (10:45)
#   11:00  no intensity (region 3): e-elec 2 kWh (11:00:00, boundary), 5 kWh (11:10)
# NESO's intensity already includes T&D losses: slots priced at it get nothing added (before
# the fix they had electricity.td on top: 5.23931 kg for e-elec, 0.65559 for e-ev); the
# fallback slot is the annual generation + T&D.
ELEC = math.fsum([10 * 0.200, 4 * 0.150, 6 * 0.150, 2 * (GEN + TD), 5 * (GEN + TD)])  # 4.86871
EV = 3 * 0.200  # 0.6
GAS_KG = 50 * GAS
T1 = 10 * 0.5 * CAR
GRID_KWH, FALLBACK_KWH = 23.0, 7.0
MEAN_GCO2 = (10 * 200 + 3 * 200 + 4 * 150 + 6 * 150) / 23


def _ms(clock: str) -> int:
    return parse_time("t", f"{DAY}{clock}Z") // 1_000_000


def _energy(sensor: str, site: str, carrier: Carrier, kwh: float,
            clock: str) -> tuple[Topic, Reading, float | None]:
    reading = EnergyReading(ts=_ms(clock), carrier=carrier, energy_kwh=kwh, interval_s=60)
    return Topic(Domain.ENERGY, site, sensor), reading, None


def _readings() -> list[tuple[Topic, Reading, float | None]]:
    car = VehicleClass.CAR
    return [
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 500.0, "09:59:59.999"),  # before start
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 10.0, "10:05:00"),
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 4.0, "10:30:00"),
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 6.0, "10:45:00"),
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 2.0, "11:00:00"),
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 5.0, "11:10:00"),
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 1000.0, "12:00:00"),  # at end: out
        _energy("e-ev", "beta", Carrier.EV_CHARGING, 3.0, "10:15:00"),
        _energy("e-gas", "alpha", Carrier.GAS, 50.0, "10:30:00"),
        _energy("e-pv", "beta", Carrier.SOLAR_PV, 20.0, "11:45:00"),
        (Topic(Domain.TRANSPORT, "alpha", "t1"),
         TransportReading(ts=_ms("10:15:00"), interval_s=60, counts={car: 10}, link_km=0.5),
         None),
    ]


def _intensity_line(region: str, region_id: int, gco2: float, index: str, clock: str) -> str:
    # As ingest.decode.grid_lines writes it: stamped at the slot start.
    return (f'grid_intensity,region={region},regionid={region_id} '
            f'forecast_gco2_kwh={gco2!r},index="{index}" {_ms(clock) * 1_000_000}')


INTENSITY = [
    _intensity_line("north-west-england", 3, 200.0, "high", "10:00:00"),
    _intensity_line("north-west-england", 3, 150.0, "moderate", "10:30:00"),
    _intensity_line("north-east-england", 4, 999.0, "very high", "11:00:00"),  # other region
    _intensity_line("north-west-england", 3, 50.0, "very low", "12:00:00"),  # after the window
]


@pytest.fixture
def app_settings(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    response = httpx.post(f"{influx.url}/write",
                          params={"db": settings.influx_database, "precision": "ns"},
                          content="\n".join(INTENSITY).encode(), timeout=10)
    assert response.status_code == 204, response.text
    return settings


async def _get(settings: Settings, **params: str) -> httpx.Response:
    async with api_client(create_app(settings)) as client:
        return await client.get("/api/v1/emissions", params=params)


async def _json(settings: Settings, **params: str) -> dict[str, Any]:
    response = await _get(settings, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _rows(body: dict[str, Any], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(row.get(key) for key in keys): row for row in body["rows"]}


def _factors(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{f['id']}@{f['year']}": f for f in body["factors"]}


async def test_slots_priced_at_the_intensity_and_the_gap_falls_back(
        app_settings: Settings) -> None:
    body = await _json(app_settings, group_by="domain,carrier", **GRID)
    annual = await _json(app_settings, group_by="domain,carrier", **WINDOW)
    assert body["method"] == "grid_intensity"
    assert annual["method"] == "annual"
    assert "grid_intensity" not in annual
    rows, annual_rows = _rows(body, "domain", "carrier"), _rows(annual, "domain", "carrier")
    assert rows[("energy", "electricity")]["kgco2e"] == pytest.approx(ELEC, abs=1e-9)
    assert rows[("energy", "electricity")]["kgco2e"] == pytest.approx(4.86871, abs=1e-9)
    assert rows[("energy", "ev_charging")]["kgco2e"] == pytest.approx(EV, abs=1e-9)
    assert rows[("energy", "electricity")]["factors"] == [
        "electricity.generation@2025", "electricity.grid_intensity@2025", "electricity.td@2025"]
    # EV charging was all priced at the intensity: no T&D row applied to it.
    assert rows[("energy", "ev_charging")]["factors"] == ["electricity.grid_intensity@2025"]
    # The intensity is CO2 per kWh: its kg are the CO2-only figure too.
    assert rows[("energy", "ev_charging")]["kgco2"] == pytest.approx(EV, abs=1e-12)
    # Gas, transport and solar (avoided) are the annual method's, exactly.
    for key in (("energy", "gas"), ("transport", None), ("energy", "solar_pv")):
        assert rows[key] == annual_rows[key]
    assert rows[("energy", "gas")]["kgco2e"] == pytest.approx(GAS_KG, abs=1e-9)
    assert rows[("transport", None)]["kgco2e"] == pytest.approx(T1, abs=1e-9)
    # Activity is unchanged; the total is the sum of the rows.
    assert body["activity"] == annual["activity"]
    assert body["total_kgco2e"] == math.fsum(row["kgco2e"] for row in body["rows"])
    assert body["total_kgco2e"] == pytest.approx(math.fsum([ELEC, EV, GAS_KG, T1]), abs=1e-9)
    assert body["avoided_kgco2e"] == annual["avoided_kgco2e"]

    block = body["grid_intensity"]
    assert block == {
        "region_id": 3, "region": "north-west-england", "unit": "gCO2/kWh",
        "source": "NESO Carbon Intensity API, regional forecast (CC BY 4.0)",
        "basis": block["basis"], "comparability": block["comparability"], "td_added": False,
        "grid_kwh": GRID_KWH, "fallback_kwh": FALLBACK_KWH, "slots_used": 2,
        "missing_slots": 1, "first_missing": ["2025-06-01T11:00:00Z"],
    }
    factors = _factors(body)
    grid = factors["electricity.grid_intensity@2025"]
    assert grid["value"] == pytest.approx(MEAN_GCO2, abs=1e-9)
    assert (grid["unit"], grid["applied"]) == ("gCO2/kWh", True)
    assert grid["source"] == block["source"]
    assert factors["electricity.generation@2025"]["applied"] is True  # the fallback slot
    assert factors["electricity.td@2025"]["applied"] is True
    assert "electricity.grid_intensity@2025" not in _factors(annual)
    assert "transmission and distribution losses included" in block["basis"]
    assert "Not comparable with the DESNZ location-based figure" in block["comparability"]
    assert "T&D losses included" in grid["scope"]
    # Scope 2 has the intensity-priced kWh and the fallback's generation; Scope 3 only the
    # fallback's T&D (7 kWh).
    assert body["scopes"]["scope_3"] == pytest.approx(7 * TD, abs=1e-12)


async def test_no_intensity_at_all_falls_back_everywhere_and_says_so(
        app_settings: Settings) -> None:
    elsewhere = app_settings.model_copy(update={"grid_region_id": 5})  # nothing stored
    body = await _json(elsewhere, group_by="carrier", **GRID)
    annual = await _json(app_settings, group_by="carrier", **WINDOW)
    assert body["total_kgco2e"] == pytest.approx(annual["total_kgco2e"], abs=1e-9)
    for key, row in _rows(annual, "carrier").items():
        assert _rows(body, "carrier")[key]["kgco2e"] == pytest.approx(row["kgco2e"], abs=1e-9)
        assert _rows(body, "carrier")[key]["factors"] == row["factors"]
    block = body["grid_intensity"]
    assert (block["region_id"], block["region"]) == (5, "yorkshire")
    assert (block["grid_kwh"], block["fallback_kwh"]) == (0.0, 30.0)
    assert (block["slots_used"], block["missing_slots"]) == (0, 3)
    assert block["first_missing"] == ["2025-06-01T10:00:00Z", "2025-06-01T10:30:00Z",
                                      "2025-06-01T11:00:00Z"]
    factors = _factors(body)
    assert not any(f["id"] == "electricity.grid_intensity" for f in body["factors"])
    assert factors["electricity.generation@2025"]["applied"] is True


@pytest.mark.parametrize("interval", ["30m", "1h", "2h", "1d", "1mo"])
async def test_boundary_readings_land_in_the_same_bucket_with_both_methods(
        app_settings: Settings, interval: str) -> None:
    grid = await _json(app_settings, group_by="carrier", interval=interval, **GRID)
    annual = await _json(app_settings, group_by="carrier", interval=interval, **WINDOW)

    def buckets(body: dict[str, Any]) -> dict[tuple[Any, ...], float]:
        return {key: row["activity"]["energy_kwh"]
                for key, row in _rows(body, "bucket_start", "carrier").items()}

    assert buckets(grid) == buckets(annual)
    if interval == "30m":
        # 10:30:00 (4 kWh) is in the 10:30 bucket (11:30 London) with both methods, and
        # priced at that slot's intensity.
        row = _rows(grid, "bucket_start", "carrier")[("2025-06-01T11:30:00+01:00",
                                                      "electricity")]
        assert row["activity"]["energy_kwh"] == 10.0
        assert row["kgco2e"] == pytest.approx(10 * 0.150, abs=1e-9)
        fallback = _rows(grid, "bucket_start", "carrier")[("2025-06-01T12:00:00+01:00",
                                                           "electricity")]
        assert fallback["kgco2e"] == pytest.approx(7 * (GEN + TD), abs=1e-9)
        assert fallback["factors"] == ["electricity.generation@2025", "electricity.td@2025"]


@pytest.mark.parametrize(
    ("group_by", "interval"),
    list(itertools.product(["", "domain", "site,carrier", "sensor,vehicle_class"],
                           [None, "30m", "1h", "3h", "1d"])),
)
async def test_every_grouping_and_interval_sums_exactly(
        app_settings: Settings, group_by: str, interval: str | None) -> None:
    params = {**GRID, "group_by": group_by}
    if interval is not None:
        params["interval"] = interval
    body = await _json(app_settings, **params)
    assert body["total_kgco2e"] == math.fsum(row["kgco2e"] for row in body["rows"])
    assert body["total_kgco2e"] == pytest.approx(math.fsum([ELEC, EV, GAS_KG, T1]), abs=1e-9)
    assert body["grid_intensity"]["grid_kwh"] == GRID_KWH
    assert body["grid_intensity"]["fallback_kwh"] == FALLBACK_KWH


@pytest.mark.parametrize(
    ("params", "name"),
    [({"method": "hourly"}, "method"),
     ({"method": "grid_intensity", "interval": "15m"}, "interval"),
     ({"method": "grid_intensity", "interval": "20m"}, "interval"),
     ({"method": "grid_intensity", "source": "rollup"}, "source")],
)
async def test_bad_parameters_are_422(app_settings: Settings, params: dict[str, str],
                                      name: str) -> None:
    response = await _get(app_settings, **WINDOW, **params)
    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["query", name]
    if name == "source":
        assert detail["msg"] == "method=grid_intensity reads raw data"


async def test_source_auto_reads_raw(app_settings: Settings) -> None:
    body = await _json(app_settings, source="auto", **GRID)
    assert body["source"] == {"requested": "auto", "rollup_start": None, "rollup_end": None}


async def test_csv_keeps_its_columns_and_names_the_method(app_settings: Settings) -> None:
    response = await _get(app_settings, group_by="carrier", format="csv", **GRID)
    annual = await _get(app_settings, group_by="carrier", format="csv", **WINDOW)
    assert response.status_code == 200
    assert response.headers["x-method"] == "grid_intensity"
    assert annual.headers["x-method"] == "annual"
    assert "_grid_intensity.csv" in response.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0] == next(csv.reader(io.StringIO(annual.text)))
    total = math.fsum(float(line[1]) for line in lines[1:])
    assert total == float(response.headers["x-total-kgco2e"])
    assert total == pytest.approx(math.fsum([ELEC, EV, GAS_KG, T1]), abs=1e-9)

"""``/api/v1/indicators`` against a real InfluxDB, every figure worked out by hand."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app
from api.params import parse_time
from sensors.factors import load_factors
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.registry import Registry, Sensor, Site
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer, free_port
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DAY = "2025-06-01T"
WINDOW = {"start": f"{DAY}10:00:00Z", "end": f"{DAY}11:00:00Z"}
GEN, TD, GAS = 0.17700, 0.01853, 0.18296
GRID = GEN + TD
CAR, MOTO, VAN, HGV, BUS = 0.16725, 0.11367, 0.25430, 0.89121, 1.340175
VC = VehicleClass
T1_COUNTS = {VC.CAR: 10, VC.MOTORCYCLE: 1, VC.VAN: 2, VC.HGV: 1, VC.BUS: 1,
             VC.BICYCLE: 3, VC.PEDESTRIAN: 4}

# Hand computation for [10:00, 11:00); see _readings().
ELEC_KWH, GAS_KWH, PV_KWH, EV_KWH = 60 * 2.0 + 6 * 1.0, 30 * 3.0, 12 * 2.5, 120 * 0.25
ENERGY_KG = (ELEC_KWH + EV_KWH) * GRID + GAS_KWH * GAS
VKM = {"car": 285.0, "motorcycle": 28.5, "van": 57.0, "hgv": 28.5, "bus": 28.5,
       "bicycle": 85.5, "pedestrian": 114.0}  # t1: 57 readings x counts x 0.5 km
CLASS_KG = {"car": 285 * CAR, "motorcycle": 28.5 * MOTO, "van": 57 * VAN,
            "hgv": 28.5 * HGV, "bus": 28.5 * BUS, "bicycle": 0.0, "pedestrian": 0.0}
TRANSPORT_KG = math.fsum(CLASS_KG.values())
# t1 57 x counts; t2 (no link length) 60 x (5 cars, 20 pedestrians).
COUNTS = {"car": 570 + 300, "motorcycle": 57, "van": 114, "hgv": 57, "bus": 57,
          "bicycle": 171, "pedestrian": 228 + 1200}
PREVIOUS_ENERGY_KG = 60 * 1.0 * GRID  # [09:00, 10:00): e-elec only


def _registry() -> Registry:
    sites = tuple(Site(id=s, name=s, lat=53.4, lon=-2.16, kind="test") for s in ("alpha", "beta"))
    energy = Domain.ENERGY
    return Registry(network="test", sites=sites, sensors=(
        Sensor(id="e-elec", site="alpha", domain=energy, interval_s=60,
               carrier=Carrier.ELECTRICITY),
        Sensor(id="e-gas", site="alpha", domain=energy, interval_s=60, carrier=Carrier.GAS),
        Sensor(id="e-pv", site="beta", domain=energy, interval_s=300, carrier=Carrier.SOLAR_PV),
        Sensor(id="e-ev", site="beta", domain=energy, interval_s=60,
               carrier=Carrier.EV_CHARGING),
        Sensor(id="t1", site="alpha", domain=Domain.TRANSPORT, interval_s=60, link_km=0.5),
        Sensor(id="t2", site="beta", domain=Domain.TRANSPORT, interval_s=60),
        Sensor(id="aq1", site="alpha", domain=Domain.AIR_QUALITY, interval_s=60),
        Sensor(id="aq-silent", site="beta", domain=Domain.AIR_QUALITY, interval_s=60),
    ))


def _ms(clock: str) -> int:
    return parse_time("t", f"{DAY}{clock}Z") // 1_000_000


def _at(hour: int, second: int) -> int:
    return _ms(f"{hour:02d}:00:00") + second * 1000


Row = tuple[Topic, Reading, float | None]


def _energy(sensor: str, site: str, carrier: Carrier, kwh: float, ts: int,
            interval_s: int = 60, seq: int | None = None) -> Row:
    reading = EnergyReading(ts=ts, carrier=carrier, energy_kwh=kwh, interval_s=interval_s,
                            seq=seq)
    return Topic(Domain.ENERGY, site, sensor), reading, None


def _readings() -> list[Row]:
    rows: list[Row] = [
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 1000.0, _at(8, 3599)),  # too early
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 1000.0, _at(11, 0)),  # at end: out
    ]
    for minute in range(60):
        ts, before = _at(10, 60 * minute), _at(9, 60 * minute)
        rows.append(_energy("e-elec", "alpha", Carrier.ELECTRICITY, 1.0, before))
        rows.append(_energy("e-elec", "alpha", Carrier.ELECTRICITY, 2.0, ts, seq=100 + minute))
        if minute % 2 == 0:  # half its readings are missing
            rows.append(_energy("e-gas", "alpha", Carrier.GAS, 3.0, ts))
        if minute % 5 == 0:
            rows.append(_energy("e-pv", "beta", Carrier.SOLAR_PV, 2.5, ts, interval_s=300))
            if minute < 30:  # not in the registry; says it reports every 300 s
                rows.append(_energy("x-elec", "beta", Carrier.ELECTRICITY, 1.0, ts,
                                    interval_s=300))
        for half in (0, 30):  # twice as often as the registry says
            rows.append(_energy("e-ev", "beta", Carrier.EV_CHARGING, 0.25, ts + half * 1000))
        if minute not in (20, 21, 22):  # three messages lost: a gap in seq
            reading = TransportReading(ts=ts, interval_s=60, counts=T1_COUNTS, seq=minute)
            rows.append((Topic(Domain.TRANSPORT, "alpha", "t1"), reading, 0.5))
        reading = TransportReading(ts=ts, interval_s=60,
                                   counts={VC.CAR: 5, VC.PEDESTRIAN: 20})
        rows.append((Topic(Domain.TRANSPORT, "beta", "t2"), reading, None))
        rows.append((Topic(Domain.AIR_QUALITY, "alpha", "aq1"),
                     AirQualityReading(ts=ts, no2_ugm3=20.0 + minute), None))
        if minute < 10:  # unregistered monitor: no interval known
            rows.append((Topic(Domain.AIR_QUALITY, "beta", "aq-x"),
                         AirQualityReading(ts=ts, pm25_ugm3=5.0, seq=minute), None))
    return rows


def _app(settings: Settings) -> FastAPI:
    return create_app(settings, registry=_registry())


@pytest.fixture
def app_settings(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    return settings


async def _get(settings: Settings, **params: str) -> httpx.Response:
    async with api_client(_app(settings)) as client:
        return await client.get("/api/v1/indicators", params=params)


def close(value: float | None, expected: float) -> bool:
    return value is not None and math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12)


async def test_every_figure_matches_hand_computation(app_settings: Settings) -> None:
    response = await _get(app_settings, **WINDOW)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert (body["start"], body["end"]) == ("2025-06-01T10:00:00Z", "2025-06-01T11:00:00Z")
    assert body["previous"] == {"start": "2025-06-01T09:00:00Z", "end": "2025-06-01T10:00:00Z"}
    totals, before = body["totals_tco2e"], body["previous_totals_tco2e"]
    assert close(totals["energy"], ENERGY_KG / 1000)
    assert close(totals["transport"], TRANSPORT_KG / 1000)
    assert close(totals["total"], (ENERGY_KG + TRANSPORT_KG) / 1000)
    assert close(before["energy"], PREVIOUS_ENERGY_KG / 1000)
    assert before["transport"] == 0.0
    change = body["change"]
    assert close(change["energy"]["abs_tco2e"], (ENERGY_KG - PREVIOUS_ENERGY_KG) / 1000)
    assert close(change["energy"]["pct"],
                 100 * (ENERGY_KG - PREVIOUS_ENERGY_KG) / PREVIOUS_ENERGY_KG)
    assert close(change["transport"]["abs_tco2e"], TRANSPORT_KG / 1000)
    assert change["transport"]["pct"] is None  # no transport before: no percentage
    assert close(change["total"]["pct"],
                 100 * (ENERGY_KG + TRANSPORT_KG - PREVIOUS_ENERGY_KG) / PREVIOUS_ENERGY_KG)
    assert close(body["avoided_tco2e"], PV_KWH * GEN / 1000)
    assert close(body["net_tco2e"], (ENERGY_KG + TRANSPORT_KG - PV_KWH * GEN) / 1000)
    assert body["previous_avoided_tco2e"] == 0.0

    all_vkm, all_counts = math.fsum(VKM.values()), sum(COUNTS.values())
    for vc, share in body["vehicle_class_share"].items():
        assert close(share["vehicle_km"], VKM[vc]) or VKM[vc] == share["vehicle_km"]
        assert close(share["share_of_vehicle_km"], VKM[vc] / all_vkm)
        assert share["kgco2e"] == pytest.approx(CLASS_KG[vc], rel=1e-9, abs=0)
        assert share["share_of_transport_emissions"] == pytest.approx(
            CLASS_KG[vc] / TRANSPORT_KG, rel=1e-9, abs=0)
        assert share["counts"] == COUNTS[vc]
        assert close(share["share_of_counts"], COUNTS[vc] / all_counts)
    assert close(body["active_travel_share"], (171 + 1428) / 2754)
    used = ELEC_KWH + EV_KWH + GAS_KWH + PV_KWH  # 276 kWh
    assert close(body["energy_intensity_gco2e_per_kwh"], ENERGY_KG * 1000 / used)
    assert close(body["solar_share"], PV_KWH / (ELEC_KWH + EV_KWH + PV_KWH))

    activity = body["activity"]
    assert activity["energy_kwh"] == {"electricity": pytest.approx(ELEC_KWH, rel=1e-12),
                                      "gas": pytest.approx(GAS_KWH, rel=1e-12),
                                      "solar_pv": pytest.approx(PV_KWH, rel=1e-12),
                                      "ev_charging": pytest.approx(EV_KWH, rel=1e-12)}
    assert activity["counts"] == COUNTS
    assert activity["unattributed_counts"] == {**dict.fromkeys(COUNTS, 0), "car": 300,
                                               "pedestrian": 1200}
    assert body["previous_activity"]["energy_kwh"]["electricity"] == pytest.approx(60.0)
    # Both periods lie in 2025: only the 2025 rows are in force, all applied here.
    factors = {f["id"]: f for f in body["factors"]}
    assert len(factors) == len(body["factors"])
    assert {f["year"] for f in body["factors"]} == {2025}
    assert factors["vehicle.bus"]["applied"] is True
    assert factors["gas"] == {**factors["gas"], "value": GAS, "applied": True}
    assert factors["electricity.td"]["value"] == TD
    assert all(f["source"] and f["unit"] for f in body["factors"])
    json.dumps(body, allow_nan=False)


async def test_totals_agree_with_emissions_endpoint(app_settings: Settings) -> None:
    async with api_client(_app(app_settings)) as client:
        indicators = (await client.get("/api/v1/indicators", params=WINDOW)).json()
        emissions = (await client.get("/api/v1/emissions", params=WINDOW)).json()
    assert close(indicators["totals_tco2e"]["total"], emissions["total_kgco2e"] / 1000)
    assert close(indicators["avoided_tco2e"], emissions["avoided_kgco2e"] / 1000)


async def test_completeness(app_settings: Settings) -> None:
    completeness = (await _get(app_settings, **WINDOW)).json()["completeness"]
    sensors = {entry["sensor"]: entry for entry in completeness["per_sensor"]}
    expected = {"e-elec": (60, 60), "e-gas": (60, 30), "e-pv": (12, 12), "e-ev": (60, 120),
                "t1": (60, 57), "t2": (60, 60), "aq1": (60, 60), "aq-silent": (60, 0),
                "x-elec": (12, 6)}
    for sensor, (exp, received) in expected.items():
        assert (sensors[sensor]["expected"], sensors[sensor]["received"]) == (exp, received)
    assert sensors["e-gas"]["share"] == 0.5
    assert sensors["e-ev"]["share"] == 1.0
    assert sensors["e-ev"]["share_uncapped"] == 2.0
    assert sensors["x-elec"]["registered"] is False
    assert sensors["x-elec"]["interval_source"] == "reported"
    assert sensors["t1"]["seq"] == {"first": 0, "last": 59, "received": 57, "lost": 3}
    assert sensors["e-elec"]["seq"] == {"first": 100, "last": 159, "received": 60, "lost": 0}
    assert sensors["aq-x"]["expected"] is None
    assert sensors["aq-x"]["received"] == 10
    assert completeness["without_interval"] == ["aq-x"]
    assert completeness["expected"] == 444
    assert completeness["received"] == 405
    assert completeness["received_capped"] == 345
    assert close(completeness["share"], 345 / 444)
    assert close(completeness["share_uncapped"], 405 / 444)
    assert completeness["lost_messages"] == 3
    by_domain = completeness["by_domain"]
    assert (by_domain["energy"]["expected"], by_domain["energy"]["received"],
            by_domain["energy"]["received_capped"]) == (204, 228, 168)
    assert close(by_domain["energy"]["share"], 168 / 204)
    assert close(by_domain["energy"]["share_uncapped"], 228 / 204)
    assert close(by_domain["transport"]["share"], 117 / 120)
    assert by_domain["transport"]["lost_messages"] == 3
    assert by_domain["air_quality"]["share"] == 0.5
    assert "seq" in completeness["method"]


async def test_empty_database_gives_nulls_not_errors(settings: Settings,
                                                     influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    response = await _get(settings, **WINDOW)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totals_tco2e"] == {"energy": 0.0, "transport": 0.0, "total": 0.0}
    # The comparison period has no data: null, never 0 (a 0 would read as "no emissions").
    assert body["previous_totals_tco2e"] is None
    assert body["change"]["total"] == {"abs_tco2e": None, "pct": None}
    assert (body["previous_avoided_tco2e"], body["previous_net_tco2e"]) == (None, None)
    assert [p["has_data"] for p in body["periods"]] == [False, False]
    assert [w["code"] for w in body["warnings"]] == ["low_completeness"] * 2
    assert body["active_travel_share"] is None
    assert body["energy_intensity_gco2e_per_kwh"] is None
    assert body["solar_share"] is None
    assert body["completeness"]["share"] == 0.0  # registered sensors sent nothing
    assert body["completeness"]["received"] == 0


async def test_default_window_is_seven_days(app_settings: Settings) -> None:
    body = (await _get(app_settings, end="2025-06-08T10:00:00Z")).json()
    assert body["start"] == "2025-06-01T10:00:00Z"
    assert body["previous"] == {"start": "2025-05-25T10:00:00Z", "end": "2025-06-01T10:00:00Z"}
    early = (await _get(app_settings, start="1970-01-01T00:00:00Z",
                        end="1970-01-02T00:00:00Z"))
    assert early.status_code == 200, early.text
    assert early.json()["previous"]["start"] == "1969-12-31T00:00:00Z"


@pytest.mark.parametrize("params", [
    {"start": "yesterday"},
    {"end": "2025-06-01T10:00:00"},  # no offset
    {"start": "2025-06-01T11:00:00Z", "end": "2025-06-01T10:00:00Z"},
    {"start": "2025-06-01T10:00:00Z", "end": "2025-06-01T10:00:00Z"},
    {"start": "2020-01-01T00:00:00Z", "end": "2021-01-03T00:00:00Z"},  # over 366 days
    {"start": "2025-06-01T10:00:00Z'; DROP DATABASE x; --"},
    {"start": "x" * 65},
    {"end": "2025-06-01T10:00:00Z\x00"},
    {"start": "２０２５-06-01T10:00:00Z"},
    {"start": "9999-12-31T23:59:59Z"},
    {"end": "0000-01-01T00:00:00Z"},
    {"start": "$start", "end": "$end"},
    {"source": "cache"},
])
async def test_bad_params_answer_422(settings: Settings, params: dict[str, str]) -> None:
    response = await _get(settings, **params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "query"


async def test_store_down_answers_503(settings: Settings) -> None:
    down = settings.model_copy(update={"influx_url": f"http://127.0.0.1:{free_port()}"})
    response = await _get(down, **WINDOW)
    assert response.status_code == 503
    assert response.json()["detail"].startswith("store unavailable")


async def test_previous_period_in_another_year_uses_its_factors(
        settings: Settings, influx: InfluxServer) -> None:
    create_database(influx.url, settings.influx_database)
    rows = [_energy("e-elec", "alpha", Carrier.ELECTRICITY, 1.0, _ms_at("2024-12-31T12:00:00Z")),
            _energy("e-elec", "alpha", Carrier.ELECTRICITY, 2.0, _ms_at("2025-01-01T12:00:00Z"))]
    write_readings(influx.url, settings.influx_database, rows)
    table = load_factors()
    grid_2024 = table.value("electricity.generation", 2024) + table.value("electricity.td", 2024)
    body = (await _get(settings, start="2025-01-01T00:00:00Z",
                       end="2025-01-02T00:00:00Z")).json()
    assert close(body["totals_tco2e"]["energy"], 2 * GRID / 1000)
    assert close(body["previous_totals_tco2e"]["energy"], grid_2024 / 1000)
    applied = {(f["id"], f["year"]) for f in body["factors"] if f["applied"]}
    assert applied == {("electricity.generation", 2024), ("electricity.td", 2024),
                       ("electricity.generation", 2025), ("electricity.td", 2025)}


def _ms_at(text: str) -> int:
    return parse_time("t", text) // 1_000_000

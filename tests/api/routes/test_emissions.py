"""``/api/v1/emissions`` against a real InfluxDB, with numbers worked out by hand."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from typing import Any

import httpx
import pytest

from api.carbon.pricing import GROUP_KEYS
from api.main import create_app
from api.params import parse_time
from sensors.readings import Carrier, EnergyReading, Reading, TransportReading, VehicleClass
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import (
    api_client,
    create_database,
    exact_sum,
    kg_approx,
    write_readings,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DAY = "2025-06-01T"
GRID = 0.17700 + 0.01853
CAR, BUS, VAN = 0.16725, 1.340175, 0.25430
WINDOW = {"start": f"{DAY}10:00:00Z", "end": f"{DAY}12:00:00Z"}

# Hand-computed for [10:00, 12:00): see _readings().
ELEC, GAS, EV = 100 * GRID, 50 * 0.18296, 10 * GRID  # 19.553, 9.148, 1.9553
T1 = 16 * 0.5 * CAR + 2 * 0.5 * BUS + 1 * 0.5 * VAN  # t1: 8 car-km, 1 bus-km, 0.5 van-km
T3 = (4 * 0.2 + 2 * 0.3) * CAR  # t3: link length changes between readings: 1.4 car-km
TOTAL = math.fsum([ELEC, GAS, EV, T1, T3])
AVOIDED = 20 * 0.17700


def _ms(clock: str) -> int:
    return parse_time("t", f"{DAY}{clock}Z") // 1_000_000


def _energy(sensor: str, site: str, carrier: Carrier, kwh: float,
            clock: str) -> tuple[Topic, Reading, float | None]:
    reading = EnergyReading(ts=_ms(clock), carrier=carrier, energy_kwh=kwh, interval_s=60)
    return Topic(Domain.ENERGY, site, sensor), reading, None


def _traffic(sensor: str, site: str, counts: dict[VehicleClass, int], clock: str,
             link_km: float | None = None,
             registry_km: float | None = None) -> tuple[Topic, Reading, float | None]:
    reading = TransportReading(ts=_ms(clock), interval_s=60, counts=counts, link_km=link_km)
    return Topic(Domain.TRANSPORT, site, sensor), reading, registry_km


def _readings() -> list[tuple[Topic, Reading, float | None]]:
    vc = VehicleClass
    return [
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 500.0, "09:59:59.999"),  # before start
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 100.0, "10:00:00"),  # at start: in
        _energy("e-elec", "alpha", Carrier.ELECTRICITY, 1000.0, "12:00:00"),  # at end: out
        _energy("e-gas", "alpha", Carrier.GAS, 50.0, "10:30:00"),
        _energy("e-ev", "beta", Carrier.EV_CHARGING, 10.0, "11:15:00"),
        _energy("e-pv", "beta", Carrier.SOLAR_PV, 20.0, "11:45:00"),
        _traffic("t1", "alpha", {vc.CAR: 10, vc.BUS: 2, vc.BICYCLE: 4}, "10:15:00", link_km=0.5),
        _traffic("t1", "alpha", {vc.CAR: 6, vc.VAN: 1}, "11:15:00", link_km=0.5),
        _traffic("t2", "beta", {vc.CAR: 3, vc.PEDESTRIAN: 5}, "10:45:00"),  # no link length
        _traffic("t3", "beta", {vc.CAR: 4}, "10:05:00", registry_km=0.2),
        _traffic("t3", "beta", {vc.CAR: 2}, "10:50:00", link_km=0.3),
    ]


@pytest.fixture
def app_settings(settings: Settings, influx: InfluxServer) -> Settings:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    return settings


async def _get(settings: Settings, **params: str) -> httpx.Response:
    async with api_client(create_app(settings)) as client:
        return await client.get("/api/v1/emissions", params=params)


def _rows_by(body: dict[str, Any], key: str) -> dict[str | None, dict[str, Any]]:
    return {row[key]: row for row in body["rows"]}


async def test_totals_match_hand_computation(app_settings: Settings) -> None:
    body = (await _get(app_settings, **WINDOW)).json()
    assert body["unit"] == "kgCO2e"
    assert (body["start"], body["end"]) == ("2025-06-01T10:00:00Z", "2025-06-01T12:00:00Z")
    assert body["group_by"] == []
    assert body["interval"] is None
    assert body["total_kgco2e"] == kg_approx(TOTAL)
    assert body["avoided_kgco2e"] == kg_approx(AVOIDED)
    assert body["net_kgco2e"] == kg_approx(TOTAL - AVOIDED)
    assert body["activity"] == {
        "energy_kwh": kg_approx(160.0), "generated_kwh": kg_approx(20.0),
        "vehicle_km": kg_approx(8 + 1 + 0.5 + 2 + 1.4), "counts": 29,
        "unattributed_counts": 8,
    }
    assert len(body["rows"]) == 1


@pytest.mark.parametrize(
    "group_by",
    [",".join(combo) for size in range(1, len(GROUP_KEYS) + 1)
     for combo in itertools.combinations(GROUP_KEYS, size)],
)
async def test_total_is_sum_of_rows_for_every_grouping(app_settings: Settings,
                                                        group_by: str) -> None:
    body = (await _get(app_settings, group_by=group_by, **WINDOW)).json()
    assert body["total_kgco2e"] == exact_sum(row["kgco2e"] for row in body["rows"])
    assert body["avoided_kgco2e"] == exact_sum(row["avoided_kgco2e"] for row in body["rows"])
    assert body["total_kgco2e"] == kg_approx(TOTAL, len(body["rows"]))
    assert Decimal(repr(body["total_tco2e"])) == Decimal(repr(body["total_kgco2e"])) / 1000
    assert body["group_by"] == group_by.split(",")
    for row in body["rows"]:
        assert set(group_by.split(",")) <= set(row)


async def test_rows_by_carrier_vehicle_class_site(app_settings: Settings) -> None:
    carriers = _rows_by((await _get(app_settings, group_by="carrier", **WINDOW)).json(),
                        "carrier")
    assert carriers["electricity"]["kgco2e"] == kg_approx(ELEC)
    assert carriers["electricity"]["activity"]["energy_kwh"] == kg_approx(100)
    assert carriers["gas"]["kgco2e"] == kg_approx(GAS)
    assert carriers["ev_charging"]["kgco2e"] == kg_approx(EV)
    assert carriers["solar_pv"]["kgco2e"] == 0
    assert carriers["solar_pv"]["avoided_kgco2e"] == kg_approx(AVOIDED)
    assert carriers[None]["kgco2e"] == kg_approx(T1 + T3)  # transport: no carrier

    classes = _rows_by((await _get(app_settings, group_by="vehicle_class", **WINDOW)).json(),
                       "vehicle_class")
    assert classes["car"]["kgco2e"] == kg_approx(9.4 * CAR)
    assert classes["car"]["activity"]["vehicle_km"] == kg_approx(9.4)
    assert classes["car"]["activity"]["unattributed_counts"] == 3
    assert classes["bus"]["kgco2e"] == kg_approx(BUS)
    assert classes["bicycle"]["kgco2e"] == 0
    assert classes["bicycle"]["activity"]["vehicle_km"] == kg_approx(2.0)
    assert classes["pedestrian"]["activity"]["unattributed_counts"] == 5
    assert classes[None]["kgco2e"] == kg_approx(ELEC + GAS + EV)  # energy: no class

    body = (await _get(app_settings, group_by="domain,site", **WINDOW)).json()
    rows = {(row["domain"], row["site"]): row["kgco2e"] for row in body["rows"]}
    assert rows == {
        ("energy", "alpha"): kg_approx(ELEC + GAS),
        ("energy", "beta"): kg_approx(EV),
        ("transport", "alpha"): kg_approx(T1),
        ("transport", "beta"): kg_approx(T3),
    }


async def test_hourly_buckets(app_settings: Settings) -> None:
    body = (await _get(app_settings, interval="1h", **WINDOW)).json()
    assert body["interval"] == "1h"
    buckets = [(row["bucket_start"], row["bucket_end"]) for row in body["rows"]]
    # Bucket bounds are London time with its offset (BST in June).
    assert buckets == [("2025-06-01T11:00:00+01:00", "2025-06-01T12:00:00+01:00"),
                       ("2025-06-01T12:00:00+01:00", "2025-06-01T13:00:00+01:00")]
    first, second = body["rows"]
    assert first["kgco2e"] == kg_approx(ELEC + GAS + 5 * CAR + BUS + T3)
    assert second["kgco2e"] == kg_approx(EV + 3 * CAR + 0.5 * VAN)
    assert second["avoided_kgco2e"] == kg_approx(AVOIDED)
    assert body["total_kgco2e"] == exact_sum([first["kgco2e"], second["kgco2e"]])


async def test_unaligned_window_clamps_buckets(app_settings: Settings) -> None:
    body = (await _get(app_settings, start=f"{DAY}11:30:00+01:00", end=f"{DAY}11:30:00Z",
                       interval="1h", group_by="sensor")).json()
    assert body["start"] == "2025-06-01T10:30:00Z"
    by_bucket: dict[str, float] = {}
    for row in body["rows"]:
        by_bucket[f"{row['bucket_start']}/{row['bucket_end']}"] = (
            by_bucket.get(f"{row['bucket_start']}/{row['bucket_end']}", 0) + row["kgco2e"])
    assert by_bucket == {
        "2025-06-01T11:30:00+01:00/2025-06-01T12:00:00+01:00": kg_approx(GAS + 2 * 0.3 * CAR,
                                                                           rows=4),
        "2025-06-01T12:00:00+01:00/2025-06-01T12:30:00+01:00": kg_approx(
            EV + 3 * CAR + 0.5 * VAN, rows=4),
    }


@pytest.mark.parametrize(
    ("start", "end", "kgco2e"),
    [
        ("12:00:00", "12:00:00.001", 1000 * GRID),  # start is inclusive
        ("09:00:00", "10:00:00", 500 * GRID),  # end is exclusive
        ("09:59:59.999", "10:00:00.001", 600 * GRID),
    ],
)
async def test_window_is_half_open(app_settings: Settings, start: str, end: str,
                                   kgco2e: float) -> None:
    body = (await _get(app_settings, start=f"{DAY}{start}Z", end=f"{DAY}{end}Z")).json()
    assert body["total_kgco2e"] == kg_approx(kgco2e)


async def test_factors_listed_with_sources(app_settings: Settings) -> None:
    body = (await _get(app_settings, **WINDOW)).json()
    factors = {factor["id"]: factor for factor in body["factors"]}
    for factor_id in ("electricity.generation", "electricity.td", "gas", "vehicle.car",
                      "vehicle.motorcycle", "vehicle.van", "vehicle.hgv", "vehicle.bus"):
        factor = factors[factor_id]
        assert factor["source"]
        assert factor["year"] == 2025
        assert factor["unit"].startswith("kgCO2e")
    applied = {factor_id for factor_id, factor in factors.items() if factor["applied"]}
    assert applied == {"electricity.generation", "electricity.td", "gas", "vehicle.car",
                       "vehicle.bus", "vehicle.van"}


async def test_empty_database_and_missing_database(settings: Settings, influx: InfluxServer
                                                   ) -> None:
    body = (await _get(settings, **WINDOW)).json()  # database never created
    assert body["total_kgco2e"] == 0
    assert body["rows"] == []
    create_database(influx.url, settings.influx_database)
    body = (await _get(settings, group_by="site", interval="15m", **WINDOW)).json()
    assert body["total_kgco2e"] == 0
    assert body["rows"] == []

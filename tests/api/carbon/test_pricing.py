"""The carbon arithmetic, against numbers worked out by hand."""

from __future__ import annotations

import itertools
import math

import pytest

from api.activity.model import EnergyActivity, TransportActivity
from api.carbon.pricing import GROUP_KEYS, check_group_by, rebucket, summarise
from sensors.factors import REQUIRED_IDS, load_factors
from sensors.readings import Carrier, VehicleClass

FACTORS = load_factors()
GRID = 0.17700 + 0.01853  # electricity generation + transmission and distribution


def energy(kwh: float, carrier: Carrier, *, site: str = "a", sensor: str = "e",
           bucket: int | None = None, year: int | None = 2025) -> EnergyActivity:
    return EnergyActivity(bucket, site, sensor, carrier, kwh, year)


def traffic(vc: VehicleClass, counts: int, link_km: float | None, *, site: str = "a",
            sensor: str = "t", bucket: int | None = None, year: int | None = 2025
            ) -> TransportActivity:
    if link_km is None:
        return TransportActivity(bucket, site, sensor, vc, 0.0, 0, counts, year)
    return TransportActivity(bucket, site, sensor, vc, counts * link_km, counts, year=year)


def test_factor_table_has_every_contract_id_with_a_source() -> None:
    for factor_id in REQUIRED_IDS:
        factor = FACTORS.factor(factor_id)
        assert factor.value > 0
        assert factor.source
        assert factor.url.startswith("https://")
        assert factor.year in (2025, 2026)
    assert FACTORS.value("electricity.generation", 2025) == 0.17700
    assert FACTORS.value("electricity.td", 2025) == 0.01853
    assert FACTORS.value("gas", 2025) == 0.18296
    assert FACTORS.value("vehicle.car", 2025) == 0.16725
    assert FACTORS.value("vehicle.motorcycle", 2025) == 0.11367
    assert FACTORS.value("vehicle.van", 2025) == 0.25430
    assert FACTORS.value("vehicle.hgv", 2025) == 0.89121


def test_bus_factor_is_passenger_km_factor_times_occupancy() -> None:
    bus = FACTORS.factor("vehicle.bus", 2025)
    assert bus.value == pytest.approx(0.12525 * 10.7, rel=1e-12)
    assert "0.12525" in bus.notes
    assert "not London" in bus.source
    bus_2024 = FACTORS.factor("vehicle.bus", 2024)
    assert bus_2024.year == 2024
    assert bus_2024.value == pytest.approx(0.12999 * 10.7, rel=1e-12)
    assert "0.12999" in bus_2024.notes
    assert "10.7" in bus.notes
    assert "TO BE CHECKED" in bus.notes


@pytest.mark.parametrize(
    ("activity", "kgco2e"),
    [
        (energy(100, Carrier.ELECTRICITY), 19.553),
        (energy(100, Carrier.EV_CHARGING), 19.553),
        (energy(50, Carrier.GAS), 9.148),
        (traffic(VehicleClass.CAR, 10, 0.5), 5 * 0.16725),
        (traffic(VehicleClass.HGV, 2, 1.0), 2 * 0.89121),
        (traffic(VehicleClass.BUS, 1, 2.0), 2 * 1.340175),
        (traffic(VehicleClass.BICYCLE, 100, 1.0), 0.0),
        (traffic(VehicleClass.PEDESTRIAN, 100, 1.0), 0.0),
    ],
)
def test_single_activity(activity: EnergyActivity | TransportActivity, kgco2e: float) -> None:
    items = ([activity], []) if isinstance(activity, EnergyActivity) else ([], [activity])
    summary = summarise(*items, group_by=(), factors=FACTORS)
    assert summary.total_kgco2e == pytest.approx(kgco2e, rel=1e-12)
    assert summary.avoided_kgco2e == 0
    assert summary.net_kgco2e == summary.total_kgco2e


def test_solar_is_avoided_and_never_subtracted() -> None:
    summary = summarise(
        [energy(100, Carrier.ELECTRICITY), energy(20, Carrier.SOLAR_PV, sensor="pv")], [],
        group_by=("carrier",), factors=FACTORS,
    )
    assert summary.total_kgco2e == pytest.approx(19.553)
    assert summary.avoided_kgco2e == pytest.approx(3.54)
    assert summary.net_kgco2e == pytest.approx(19.553 - 3.54)
    solar = next(row for row in summary.rows if row.keys["carrier"] == "solar_pv")
    assert solar.kgco2e == 0
    assert solar.avoided_kgco2e == pytest.approx(3.54)
    assert solar.activity.generated_kwh == 20
    assert solar.activity.energy_kwh == 0
    assert summary.activity.energy_kwh == 100
    assert summary.activity.generated_kwh == 20


def test_counts_without_link_length_are_unattributed_not_zeroed() -> None:
    summary = summarise(
        [], [traffic(VehicleClass.CAR, 10, 0.5), traffic(VehicleClass.CAR, 7, None, sensor="x")],
        group_by=("sensor",), factors=FACTORS,
    )
    assert summary.total_kgco2e == pytest.approx(5 * 0.16725)
    x = next(row for row in summary.rows if row.keys["sensor"] == "x")
    assert x.kgco2e == 0
    assert x.activity.vehicle_km == 0
    assert x.activity.unattributed_counts == 7
    assert summary.activity.unattributed_counts == 7
    assert summary.activity.counts == 10


def test_keys_that_do_not_apply_are_none() -> None:
    summary = summarise([energy(1, Carrier.GAS)], [traffic(VehicleClass.VAN, 1, 1.0)],
                        group_by=("carrier", "vehicle_class"), factors=FACTORS)
    assert [row.keys for row in summary.rows] == [
        {"carrier": "gas", "vehicle_class": None},
        {"carrier": None, "vehicle_class": "van"},
    ]


def test_applied_lists_only_the_factors_applied() -> None:
    summary = summarise([energy(1, Carrier.GAS)], [traffic(VehicleClass.BICYCLE, 3, 1.0)],
                        group_by=(), factors=FACTORS)
    assert {factor_id for factor_id, _ in summary.applied} == {"gas"}


def _mixed() -> tuple[list[EnergyActivity], list[TransportActivity]]:
    meters = [
        energy(100.1, Carrier.ELECTRICITY, site="a", sensor="e1", bucket=0),
        energy(0.3, Carrier.ELECTRICITY, site="a", sensor="e1", bucket=3_600_000),
        energy(50.7, Carrier.GAS, site="a", sensor="g1", bucket=0),
        energy(12.9, Carrier.EV_CHARGING, site="b", sensor="ev", bucket=3_600_000),
        energy(20.2, Carrier.SOLAR_PV, site="b", sensor="pv", bucket=0),
    ]
    counts = [
        traffic(vc, n, link, site=site, sensor=sensor, bucket=bucket)
        for vc, n, link, site, sensor, bucket in [
            (VehicleClass.CAR, 13, 0.62, "a", "t1", 0),
            (VehicleClass.BUS, 3, 0.62, "a", "t1", 0),
            (VehicleClass.HGV, 2, 0.35, "b", "t2", 3_600_000),
            (VehicleClass.MOTORCYCLE, 1, 0.35, "b", "t2", 3_600_000),
            (VehicleClass.VAN, 5, 0.1, "b", "t2", 0),
            (VehicleClass.CAR, 9, None, "b", "t3", 0),
            (VehicleClass.PEDESTRIAN, 40, 0.18, "a", "t1", 3_600_000),
        ]
    ]
    return meters, counts


def _hand_total() -> float:
    return math.fsum([
        (100.1 + 0.3 + 12.9) * GRID, 50.7 * 0.18296, 13 * 0.62 * 0.16725,
        3 * 0.62 * 1.340175, 2 * 0.35 * 0.89121, 1 * 0.35 * 0.11367, 5 * 0.1 * 0.25430,
    ])


@pytest.mark.parametrize(
    "group_by",
    [combo for size in range(len(GROUP_KEYS) + 1)
     for combo in itertools.combinations(GROUP_KEYS, size)],
)
def test_total_equals_sum_of_rows_for_every_grouping(group_by: tuple[str, ...]) -> None:
    meters, counts = _mixed()
    summary = summarise(meters, counts, group_by=group_by, factors=FACTORS)
    assert summary.total_kgco2e == math.fsum(row.kgco2e for row in summary.rows)
    assert summary.avoided_kgco2e == math.fsum(row.avoided_kgco2e for row in summary.rows)
    assert summary.total_kgco2e == pytest.approx(_hand_total(), rel=1e-12)
    assert summary.avoided_kgco2e == pytest.approx(20.2 * 0.177, rel=1e-12)
    assert summary.activity.unattributed_counts == 9
    for row in summary.rows:
        assert set(row.keys) == set(group_by)


def test_buckets_are_kept_apart() -> None:
    meters, counts = _mixed()
    summary = summarise(meters, counts, group_by=(), factors=FACTORS)
    assert [row.bucket_ms for row in summary.rows] == [0, 3_600_000]
    second = summary.rows[1]
    assert second.kgco2e == pytest.approx(
        (0.3 + 12.9) * GRID + 2 * 0.35 * 0.89121 + 0.35 * 0.11367, rel=1e-12
    )


def test_group_by_is_checked_and_deduplicated() -> None:
    assert check_group_by(["site", "domain", "site"]) == ("site", "domain")
    with pytest.raises(ValueError, match="unknown group_by"):
        check_group_by(["site", "domain;drop"])


def test_each_activity_uses_the_factors_of_its_year() -> None:
    # Hand-computed: 2024 electricity 100 x (0.20705 + 0.01830) = 22.535; 2025 gas
    # 50 x 0.18296 = 9.148; 2024 car 10 x 0.16691 = 1.6691; 2024 bus 1 km x 1.390893;
    # 2024 van km use the 2025 row (no 2024 van row): 4 x 0.25430 = 1.0172; 2030
    # electricity uses the latest set, 2026: 10 x (0.13096 + 0.01299) = 1.4395.
    summary = summarise(
        [EnergyActivity(None, "a", "e", Carrier.ELECTRICITY, 100, year=2024),
         EnergyActivity(None, "a", "g", Carrier.GAS, 50, year=2025),
         EnergyActivity(None, "a", "e", Carrier.ELECTRICITY, 10, year=2030),
         EnergyActivity(None, "a", "pv", Carrier.SOLAR_PV, 20, year=2024)],
        [TransportActivity(None, "a", "t", VehicleClass.CAR, 10.0, 20, year=2024),
         TransportActivity(None, "a", "t", VehicleClass.BUS, 1.0, 2, year=2024),
         TransportActivity(None, "a", "t", VehicleClass.VAN, 4.0, 8, year=2024)],
        group_by=("carrier",), factors=FACTORS,
    )
    assert summary.total_kgco2e == pytest.approx(
        22.535 + 9.148 + 1.6691 + 1.390893 + 1.0172 + 1.4395, rel=1e-12)
    assert summary.avoided_kgco2e == pytest.approx(20 * 0.20705, rel=1e-12)
    assert summary.applied == {
        ("electricity.generation", 2024), ("electricity.td", 2024), ("gas", 2025),
        ("electricity.generation", 2026), ("electricity.td", 2026), ("vehicle.car", 2024),
        ("vehicle.bus", 2024), ("vehicle.van", 2025),
    }
    electricity = next(row for row in summary.rows if row.keys["carrier"] == "electricity")
    assert electricity.kgco2e == pytest.approx(22.535 + 1.4395, rel=1e-12)
    assert electricity.factors == (("electricity.generation", 2024),
                                   ("electricity.generation", 2026),
                                   ("electricity.td", 2024), ("electricity.td", 2026))


def test_rebucket_moves_activity_to_output_buckets() -> None:
    meters = [energy(1.0, Carrier.GAS, bucket=0), energy(2.0, Carrier.GAS, bucket=3_600_000),
              energy(4.0, Carrier.GAS, bucket=7_200_000), energy(8.0, Carrier.GAS)]
    counts = [traffic(VehicleClass.CAR, 1, 1.0, bucket=3_600_000)]
    calls: list[int] = []

    def two_hours(ms: int) -> int:
        calls.append(ms)
        return ms - ms % 7_200_000

    moved, moved_counts = rebucket(meters, counts, two_hours)
    assert [m.bucket_ms for m in moved] == [0, 0, 7_200_000, None]
    assert [t.bucket_ms for t in moved_counts] == [0]
    assert sorted(calls) == [0, 3_600_000, 7_200_000]  # once per distinct bucket
    summary = summarise(moved, moved_counts, group_by=(), factors=FACTORS)
    assert [row.kgco2e for row in summary.rows] == [
        pytest.approx(8 * 0.18296), pytest.approx(3 * 0.18296 + 0.16725),
        pytest.approx(4 * 0.18296)]

"""Scopes, well-to-tank, CO2 only, EV memo, fleet mix and a forced factor set, by hand.

The activity (all of 2025): 100 kWh grid electricity, 20 kWh EV charging, 50 kWh gas,
30 kWh solar; 10 car vehicle-km and 2 bus vehicle-km.
"""

from __future__ import annotations

import math

import pytest

from api.activity.model import EnergyActivity, TransportActivity
from api.carbon.parts import PricingOptions
from api.carbon.pricing import EV_DOUBLE_COUNT, summarise
from sensors.factors import FleetMix, load_factors
from sensors.readings import Carrier, VehicleClass

FACTORS = load_factors()
GEN, TD, GAS, CAR, BUS = 0.177, 0.01853, 0.18296, 0.16725, 0.12525 * 10.7
WTT_GEN, WTT_TD, WTT_GAS, WTT_CAR, WTT_BUS = 0.0459, 0.00397, 0.03021, 0.04399, 0.03174 * 10.7
CO2_GEN, CO2_TD, CO2_CAR, CO2_BUS = 0.17489, 0.01834, 0.16608, 0.12435 * 10.7

SCOPE_1 = 50 * GAS  # 9.148
SCOPE_2 = 120 * GEN  # 21.24
SCOPE_3 = 120 * TD  # 2.2236
TRANSPORT = 10 * CAR + 2 * BUS  # 1.6725 + 2.68035 = 4.35285
TOTAL = SCOPE_1 + SCOPE_2 + SCOPE_3 + TRANSPORT  # 36.96445
WTT = 120 * (WTT_GEN + WTT_TD) + 50 * WTT_GAS + 10 * WTT_CAR + 2 * WTT_BUS  # 8.614036


def _energy(carriers: dict[Carrier, float] | None = None) -> list[EnergyActivity]:
    kwh = carriers or {Carrier.ELECTRICITY: 100.0, Carrier.EV_CHARGING: 20.0,
                       Carrier.GAS: 50.0, Carrier.SOLAR_PV: 30.0}
    return [EnergyActivity(None, "a", f"m-{c.value}", c, value, 2025) for c, value in kwh.items()]


def _transport() -> list[TransportActivity]:
    return [TransportActivity(None, "a", "t", VehicleClass.CAR, 10.0, 20, year=2025),
            TransportActivity(None, "a", "t", VehicleClass.BUS, 2.0, 4, year=2025),
            TransportActivity(None, "a", "t", VehicleClass.BICYCLE, 5.0, 10, year=2025)]


def test_scopes_sum_to_the_total() -> None:
    summary = summarise(_energy(), _transport(), (), FACTORS)
    assert summary.total_kgco2e == pytest.approx(TOTAL, rel=1e-12)
    assert summary.total_kgco2e == pytest.approx(36.96445, rel=1e-12)
    assert summary.scopes == {
        "scope_1": pytest.approx(SCOPE_1, rel=1e-12),
        "scope_2_location": pytest.approx(SCOPE_2, rel=1e-12),
        "scope_3": pytest.approx(SCOPE_3, rel=1e-12),
        "territorial_transport": pytest.approx(TRANSPORT, rel=1e-12)}
    assert math.fsum(summary.scopes.values()) == pytest.approx(summary.total_kgco2e,
                                                               rel=1e-12)
    assert summary.wtt_kgco2e == 0.0


def test_group_by_scope_rows() -> None:
    summary = summarise(_energy(), _transport(), ("scope",), FACTORS)
    rows = {row.keys["scope"]: row for row in summary.rows}
    assert set(rows) == {"scope_1", "scope_2_location", "scope_3", "territorial_transport",
                         None}  # None: the solar row (avoided, in no scope)
    assert rows["scope_2_location"].kgco2e == pytest.approx(SCOPE_2, rel=1e-12)
    assert rows["scope_3"].kgco2e == pytest.approx(SCOPE_3, rel=1e-12)
    # A grid kWh is priced in Scope 2 (generation) and Scope 3 (T&D): both rows show it.
    assert rows["scope_2_location"].activity.energy_kwh == 120
    assert rows["scope_3"].activity.energy_kwh == 120
    assert rows["territorial_transport"].activity.vehicle_km == 17  # bicycles too, at 0
    assert rows[None].avoided_kgco2e == pytest.approx(30 * GEN, rel=1e-12)
    # ... while the answer's activity counts every kWh once.
    assert summary.activity.energy_kwh == 170
    assert summary.activity.generated_kwh == 30
    assert math.fsum(row.kgco2e for row in summary.rows) == summary.total_kgco2e
    assert summary.total_kgco2e == pytest.approx(TOTAL, rel=1e-12)
    assert rows["scope_3"].factors == (("electricity.td", 2025),)


def test_well_to_tank_is_scope_3_and_only_with_wtt() -> None:
    summary = summarise(_energy(), _transport(), ("scope",), FACTORS, PricingOptions(wtt=True))
    assert summary.wtt_kgco2e == pytest.approx(WTT, rel=1e-12)
    assert summary.wtt_kgco2e == pytest.approx(8.614036, rel=1e-12)
    assert summary.total_kgco2e == pytest.approx(TOTAL + WTT, rel=1e-12)
    assert summary.scopes["scope_3"] == pytest.approx(SCOPE_3 + WTT, rel=1e-12)
    assert summary.scopes["scope_1"] == pytest.approx(SCOPE_1, rel=1e-12)
    assert {("wtt.gas", 2025), ("wtt.vehicle.bus", 2025), ("wtt.electricity.td", 2025),
            ("wtt.electricity.generation", 2025), ("wtt.vehicle.car", 2025)} <= summary.applied
    plain = summarise(_energy(), _transport(), (), FACTORS)
    assert not any(key.startswith("wtt.") for key, _ in plain.applied)


def test_co2_only_is_incomplete_without_a_gas_co2_part() -> None:
    summary = summarise(_energy(), _transport(), (), FACTORS)
    known = 120 * (CO2_GEN + CO2_TD) + 10 * CO2_CAR + 2 * CO2_BUS  # 27.50949
    assert summary.kgco2_known == pytest.approx(known, rel=1e-12)
    assert summary.kgco2_known == pytest.approx(27.50949, rel=1e-12)
    assert summary.co2_missing == (("gas", 2025),)
    assert summary.total_kgco2 is None
    no_gas = summarise(_energy({Carrier.ELECTRICITY: 100.0, Carrier.EV_CHARGING: 20.0}),
                       _transport(), (), FACTORS)
    assert no_gas.total_kgco2 == pytest.approx(known, rel=1e-12)
    assert no_gas.rows[0].kgco2 == pytest.approx(known, rel=1e-12)
    # WTT has no published CO2 split, so it never enters the CO2 figure.
    wtt = summarise(_energy({Carrier.ELECTRICITY: 100.0}), [], (), FACTORS,
                    PricingOptions(wtt=True))
    assert wtt.total_kgco2 is None
    assert wtt.kgco2_known == pytest.approx(100 * (CO2_GEN + CO2_TD), rel=1e-12)


def test_ev_memo_reports_ev_charging_beside_the_total() -> None:
    memo = summarise(_energy(), _transport(), ("carrier",), FACTORS,
                     PricingOptions(ev_memo=True))
    assert memo.memo_kgco2e == pytest.approx(20 * (GEN + TD), rel=1e-12)  # 3.9106
    assert memo.total_kgco2e == pytest.approx(TOTAL - 20 * (GEN + TD), rel=1e-12)  # 33.05385
    ev = next(row for row in memo.rows if row.keys["carrier"] == "ev_charging")
    assert (ev.kgco2e, ev.activity.energy_kwh) == (0.0, 20.0)
    assert ev.memo_kgco2e == pytest.approx(3.9106, rel=1e-12)
    assert memo.scopes["scope_2_location"] == pytest.approx(100 * GEN, rel=1e-12)
    assert EV_DOUBLE_COUNT in memo.disclosures
    included = summarise(_energy(), _transport(), (), FACTORS)
    assert EV_DOUBLE_COUNT in included.disclosures
    assert included.memo_kgco2e == 0.0
    no_cars = summarise(_energy(), _transport()[1:], (), FACTORS)
    assert no_cars.disclosures == ()  # EV charging but no cars: nothing counted twice


def test_solar_avoided_and_its_td_share() -> None:
    summary = summarise(_energy(), [], (), FACTORS)
    assert summary.avoided_kgco2e == pytest.approx(30 * GEN, rel=1e-12)  # 5.31
    assert summary.avoided_td_kgco2e == pytest.approx(30 * TD, rel=1e-12)  # 0.5559
    assert summary.net_kgco2e == pytest.approx(summary.total_kgco2e - 30 * GEN, rel=1e-12)


def test_fleet_mix_weights_the_per_fuel_car_rows() -> None:
    mix = FleetMix.parse("petrol=0.5,diesel=0.3,battery_electric=0.2")
    summary = summarise([], _transport()[:1], (), FACTORS,
                        PricingOptions(fleet_mix=mix, wtt=True))
    car = 0.5 * 0.16272 + 0.3 * 0.17304 + 0.2 * 0.04047  # 0.141366
    wtt = 0.5 * 0.04599 + 0.3 * 0.04146 + 0.2 * 0.01049  # 0.037531
    assert summary.total_kgco2e == pytest.approx(10 * (car + wtt), rel=1e-12)
    assert summary.scopes["territorial_transport"] == pytest.approx(1.41366, rel=1e-12)
    assert summary.kgco2_known == pytest.approx(
        10 * (0.5 * 0.16204 + 0.3 * 0.17136 + 0.2 * 0.03992), rel=1e-12)
    assert ("vehicle.car.petrol", 2025) in summary.applied
    assert ("vehicle.car", 2025) not in summary.applied


@pytest.mark.parametrize("text", ["petrol=0.5", "petrol=0.5,steam=0.5", "petrol", "petrol=x",
                                  "petrol=0.5,petrol=0.5", "petrol=1.5,diesel=-0.5"])
def test_bad_fleet_mix(text: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        FleetMix.parse(text)


def test_factor_year_prices_everything_with_one_set() -> None:
    energy = [EnergyActivity(None, "a", "e", Carrier.ELECTRICITY, 100.0, 2025),
              EnergyActivity(None, "a", "e", Carrier.ELECTRICITY, 100.0, 2026)]
    forced = summarise(energy, [], (), FACTORS, PricingOptions(factor_year=2024))
    assert forced.total_kgco2e == pytest.approx(200 * (0.20705 + 0.0183), rel=1e-12)
    assert forced.applied == {("electricity.generation", 2024), ("electricity.td", 2024)}
    own = summarise(energy, [], (), FACTORS)
    assert own.total_kgco2e == pytest.approx(
        100 * (GEN + TD) + 100 * (0.13096 + 0.01299), rel=1e-12)

"""The indicator arithmetic (``api/kpis.py``) against numbers worked out by hand."""

from __future__ import annotations

import json
import math

import pytest

from api.activity.completeness import completeness, lost_messages, ratio
from api.activity.model import EnergyActivity, TransportActivity
from api.activity.received import StoredReadings
from api.carbon.parts import PricingOptions
from api.carbon.period_figures import (
    CLASSES,
    PeriodActivity,
    active_travel_share,
    change,
    energy_intensity_g_per_kwh,
    energy_used_kwh,
    period_activity,
    period_activity_body,
    solar_share,
    totals_tco2e,
    vehicle_class_share,
)
from api.carbon.pricing import summarise
from sensors.factors import load_factors
from sensors.readings import Carrier, VehicleClass
from sensors.registry import Registry, Sensor, Site
from sensors.topics import Domain

FACTORS = load_factors()
GRID, GAS = 0.17700 + 0.01853, 0.18296
CAR, BUS = 0.16725, 1.340175
VC = VehicleClass


def _summary_period() -> PeriodActivity:
    """100 kWh electricity, 20 EV, 50 gas, 30 solar; traffic on a 0.5 km link and one without."""
    energy = [
        EnergyActivity(None, "a", "e1", Carrier.ELECTRICITY, 60.0),
        EnergyActivity(None, "b", "e2", Carrier.ELECTRICITY, 40.0),
        EnergyActivity(None, "a", "ev", Carrier.EV_CHARGING, 20.0),
        EnergyActivity(None, "a", "g", Carrier.GAS, 50.0),
        EnergyActivity(None, "a", "pv", Carrier.SOLAR_PV, 30.0),
    ]
    transport = [
        # t1, 0.5 km: 10 cars, 2 buses, 6 bicycles.
        TransportActivity(None, "a", "t1", VC.CAR, 5.0, 10),
        TransportActivity(None, "a", "t1", VC.BUS, 1.0, 2),
        TransportActivity(None, "a", "t1", VC.BICYCLE, 3.0, 6),
        # t2, no link length: 4 cars, 8 pedestrians (counts only).
        TransportActivity(None, "b", "t2", VC.CAR, 0.0, 0, 4),
        TransportActivity(None, "b", "t2", VC.PEDESTRIAN, 0.0, 0, 8),
    ]
    summary = summarise(energy, transport, ("domain", "carrier", "vehicle_class"), FACTORS,
                        PricingOptions(factor_year=2025))
    return period_activity(summary)


def test_period_activity_regroups_summarise_rows() -> None:
    period = _summary_period()
    assert period.kwh("electricity") == 100.0
    assert period.kwh("ev_charging") == 20.0
    assert period.kwh("gas") == 50.0
    assert period.kwh("solar_pv") == 30.0
    assert period.energy_kgco2e["solar_pv"] == 0.0
    assert period.energy_kg == pytest.approx(120 * GRID + 50 * GAS, rel=1e-12)
    assert period.avoided_kgco2e == pytest.approx(30 * 0.177, rel=1e-12)
    assert period.vehicle_km == {"car": 5.0, "motorcycle": 0.0, "van": 0.0, "hgv": 0.0,
                                 "bus": 1.0, "bicycle": 3.0, "pedestrian": 0.0}
    assert period.counts == {"car": 14, "motorcycle": 0, "van": 0, "hgv": 0, "bus": 2,
                             "bicycle": 6, "pedestrian": 8}
    assert period.unattributed_counts["car"] == 4
    assert period.unattributed_counts["pedestrian"] == 8
    assert period.transport_kg == pytest.approx(5 * CAR + BUS, rel=1e-12)


def test_ratios_by_hand() -> None:
    period = _summary_period()
    energy_kg, transport_kg = 120 * GRID + 50 * GAS, 5 * CAR + BUS
    totals = totals_tco2e(period)
    assert totals["energy"] == pytest.approx(energy_kg / 1000, rel=1e-12)
    assert totals["transport"] == pytest.approx(transport_kg / 1000, rel=1e-12)
    assert totals["total"] == pytest.approx((energy_kg + transport_kg) / 1000, rel=1e-12)
    # 6 bicycles + 8 pedestrians of 30 counts (the 12 without a link length included).
    assert active_travel_share(period) == pytest.approx(14 / 30, rel=1e-12)
    assert energy_used_kwh(period) == 200.0  # 100 + 20 + 50 + 30
    assert energy_intensity_g_per_kwh(period) == pytest.approx(energy_kg * 1000 / 200,
                                                               rel=1e-12)
    assert solar_share(period) == pytest.approx(30 / 150, rel=1e-12)  # / (100 + 20 + 30)
    shares = vehicle_class_share(period)
    assert shares["car"] == {
        "vehicle_km": 5.0, "share_of_vehicle_km": pytest.approx(5 / 9, rel=1e-12),
        "kgco2e": pytest.approx(5 * CAR, rel=1e-12),
        "share_of_transport_emissions": pytest.approx(5 * CAR / transport_kg, rel=1e-12),
        "counts": 14, "share_of_counts": pytest.approx(14 / 30, rel=1e-12),
    }
    assert shares["bicycle"]["share_of_vehicle_km"] == pytest.approx(3 / 9, rel=1e-12)
    assert shares["bicycle"]["share_of_transport_emissions"] == 0.0
    assert shares["pedestrian"]["share_of_counts"] == pytest.approx(8 / 30, rel=1e-12)
    assert math.fsum(s["share_of_vehicle_km"] or 0 for s in shares.values()) == \
        pytest.approx(1.0, rel=1e-12)


def test_change_and_pct() -> None:
    now = {"energy": 3.0, "transport": 1.5, "total": 4.5}
    before = {"energy": 2.0, "transport": 0.0, "total": 2.0}
    assert change(now, before) == {
        "energy": {"abs_tco2e": 1.0, "pct": 50.0},
        "transport": {"abs_tco2e": 1.5, "pct": None},  # nothing before: no percentage
        "total": {"abs_tco2e": 2.5, "pct": 125.0},
    }
    assert change({"total": 1.0}, {"total": 4.0})["total"] == {"abs_tco2e": -3.0, "pct": -75.0}


def test_zero_denominators_are_null_not_nan() -> None:
    empty = PeriodActivity()
    assert ratio(0.0, 0.0) is None
    assert ratio(1.0, 0.0) is None
    assert active_travel_share(empty) is None
    assert energy_intensity_g_per_kwh(empty) is None
    assert solar_share(empty) is None
    assert totals_tco2e(empty) == {"energy": 0.0, "transport": 0.0, "total": 0.0}
    for share in vehicle_class_share(empty).values():
        assert share["share_of_vehicle_km"] is None
        assert share["share_of_transport_emissions"] is None
        assert share["share_of_counts"] is None
    # Gas only: no electricity at all, so no solar share; intensity is the gas factor.
    gas = PeriodActivity(energy_kwh={"gas": 10.0}, energy_kgco2e={"gas": 10 * GAS})
    assert solar_share(gas) is None
    assert energy_intensity_g_per_kwh(gas) == pytest.approx(GAS * 1000, rel=1e-12)
    # Only walkers counted: share 1; a link without length gives counts but no vehicle-km.
    walk = PeriodActivity(counts={"pedestrian": 5}, unattributed_counts={"pedestrian": 5})
    assert active_travel_share(walk) == 1.0
    assert vehicle_class_share(walk)["pedestrian"]["share_of_vehicle_km"] is None
    body = period_activity_body(empty)
    assert set(body["counts"]) == set(CLASSES)
    json.dumps(body, allow_nan=False)


def _registry() -> Registry:
    site = Site(id="a", name="A", lat=53.4, lon=-2.15, kind="test")
    return Registry(network="test", sites=(site,), sensors=(
        Sensor(id="e1", site="a", domain=Domain.ENERGY, interval_s=60, carrier=Carrier.GAS),
        Sensor(id="t1", site="a", domain=Domain.TRANSPORT, interval_s=300),
        Sensor(id="q1", site="a", domain=Domain.AIR_QUALITY, interval_s=60),
    ))


def test_completeness_by_hand() -> None:
    stored = [
        StoredReadings("energy", "e1", "a", received=30),  # half of 60
        # 12 expected; seq 0..11 with 2 missing: 10 received, 2 lost.
        StoredReadings("transport", "t1", "a", received=10, reported_interval_s=300,
                       seq_min=0, seq_max=11, seq_count=10),
        # q1 sends nothing. x1 is unregistered and reports 120 s: 30 expected, 45 received.
        StoredReadings("energy", "x1", "b", received=45, reported_interval_s=120),
        StoredReadings("air_quality", "q9", "b", received=7),  # no interval: left out
    ]
    body = completeness(_registry(), stored, 3600.0)
    assert body["expected"] == 60 + 12 + 60 + 30
    assert body["received"] == 30 + 10 + 0 + 45
    assert body["received_capped"] == 30 + 10 + 0 + 30
    assert body["share"] == pytest.approx(70 / 162, rel=1e-12)
    assert body["share_uncapped"] == pytest.approx(85 / 162, rel=1e-12)
    assert body["lost_messages"] == 2
    assert body["sensors_with_seq"] == 1
    assert body["without_interval"] == ["q9"]
    energy = body["by_domain"]["energy"]
    assert (energy["expected"], energy["received"], energy["received_capped"]) == (90, 75, 60)
    assert energy["share"] == pytest.approx(60 / 90, rel=1e-12)
    assert energy["share_uncapped"] == pytest.approx(75 / 90, rel=1e-12)
    assert body["by_domain"]["air_quality"]["share"] == 0.0
    sensors = {entry["sensor"]: entry for entry in body["per_sensor"]}
    assert sensors["x1"]["share"] == 1.0
    assert sensors["x1"]["share_uncapped"] == 1.5
    assert sensors["x1"]["interval_source"] == "reported"
    assert sensors["e1"]["interval_source"] == "registry"
    assert sensors["t1"]["seq"] == {"first": 0, "last": 11, "received": 10, "lost": 2}
    assert sensors["q1"]["received"] == 0
    assert sensors["q9"]["expected"] is None
    assert sensors["q9"]["share"] is None
    json.dumps(body, allow_nan=False)


def test_completeness_of_nothing_is_null() -> None:
    empty = Registry(network="empty", sites=(), sensors=())
    body = completeness(empty, [], 3600.0)
    assert body["expected"] == 0
    assert body["share"] is None
    assert body["share_uncapped"] is None
    assert body["by_domain"]["transport"]["share"] is None


def test_lost_messages_edge_cases() -> None:
    assert lost_messages(StoredReadings("energy", "e", "a", 5)) is None  # no seq
    restarted = StoredReadings("energy", "e", "a", 8, seq_min=0, seq_max=4, seq_count=8)
    assert lost_messages(restarted) is None  # seq went backwards: no honest estimate
    whole = StoredReadings("energy", "e", "a", 5, seq_min=7, seq_max=11, seq_count=5)
    assert lost_messages(whole) == 0

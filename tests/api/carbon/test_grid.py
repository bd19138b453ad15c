"""Grid electricity priced per half-hour at the regional intensity, with the annual fallback."""

from __future__ import annotations

import math

from api.activity.model import EnergyActivity
from api.carbon.grid import slot_start
from api.carbon.pricing import summarise
from sensors.factors import load_factors
from sensors.readings import Carrier

S0 = 1795687200000  # 2026-11-26T10:00:00Z
HALF = 1_800_000
GEN, TD = 0.177, 0.01853  # DESNZ 2025 electricity generation and T&D


def _meter(kwh: float, gco2_kwh: float | None, carrier: Carrier = Carrier.ELECTRICITY
           ) -> EnergyActivity:
    return EnergyActivity(bucket_ms=None, site="s", sensor="m", carrier=carrier,
                          energy_kwh=kwh, year=2025, gco2_kwh=gco2_kwh)


def test_slots_use_the_intensity_and_gaps_fall_back_to_the_annual_factor() -> None:
    slots = [_meter(10.0, 200.0), _meter(4.0, None), _meter(6.0, 150.0, Carrier.EV_CHARGING),
             _meter(0.0, None)]
    summary = summarise(slots, [], (), load_factors())
    # NESO's intensity already includes T&D losses: nothing is added to it.
    # 10 x 0.200 = 2.0; 4 x (0.177 + 0.01853) = 0.78212 (fallback: annual generation + T&D);
    # 6 x 0.150 = 0.9; 0 kWh in the last slot adds nothing. Total 3.68212 (before the fix,
    # with T&D added on top of the intensity: 2.1853 + 0.78212 + 1.01118 = 3.9786).
    assert math.isclose(summary.total_kgco2e, 2.0 + 0.78212 + 0.9, rel_tol=1e-12)
    assert summary.avoided_kgco2e == 0.0
    # The intensity is CO2 (kg = kWh x g / 1000); the fallback's CO2 parts are DESNZ's.
    assert math.isclose(summary.total_kgco2 or 0.0,
                        2.0 + 0.9 + 4 * (0.17489 + 0.01834), rel_tol=1e-12)
    # Scope 2 holds the intensity-priced kWh and the fallback's generation; the fallback's
    # T&D is Scope 3. Nothing of the intensity-priced kWh is in Scope 3.
    assert math.isclose(summary.scopes["scope_2_location"], 2.0 + 0.9 + 4 * 0.177)
    assert math.isclose(summary.scopes["scope_3"], 4 * 0.01853)


def test_no_intensity_at_all_equals_the_annual_method() -> None:
    summary = summarise([_meter(100.0, None)], [], (), load_factors())
    assert math.isclose(summary.total_kgco2e, 100 * (GEN + TD))


def test_a_reading_belongs_to_the_slot_containing_its_timestamp() -> None:
    # As the annual method's buckets (GROUP BY time(30m), no offset): 10:30:00 is in 10:30.
    assert slot_start(S0 + HALF) == S0 + HALF
    assert slot_start(S0 + HALF - 1) == S0
    assert slot_start(S0) == S0

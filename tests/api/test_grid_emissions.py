"""Grid electricity priced per half-hour at the regional intensity, with the annual fallback."""

from __future__ import annotations

import math

import pytest

from api.grid_emissions import grid_emissions, reading_slot

S0 = 1795687200000  # 2026-11-26T10:00:00Z
HALF = 1_800_000
GEN, TD = 0.177, 0.01853


def test_slots_use_the_intensity_and_gaps_fall_back_to_the_annual_factor() -> None:
    kwh = {S0: 10.0, S0 + HALF: 4.0, S0 + 2 * HALF: 6.0, S0 + 3 * HALF: 0.0}
    intensity = {S0: 200.0, S0 + 2 * HALF: 150.0, S0 + 5 * HALF: 90.0}
    result = grid_emissions(kwh, intensity, generation_kg_per_kwh=GEN, td_kg_per_kwh=TD)
    # 10 x (0.200 + 0.01853) = 2.1853; 4 x (0.177 + 0.01853) = 0.78212;
    # 6 x (0.150 + 0.01853) = 1.01118; 0 kWh in the last slot adds nothing.
    assert math.isclose(result.kgco2e, 2.1853 + 0.78212 + 1.01118, rel_tol=1e-12)
    assert result.grid_kwh == 16.0
    assert result.fallback_kwh == 4.0
    assert result.missing_slots == (S0 + HALF, S0 + 3 * HALF)


def test_no_intensity_at_all_equals_the_annual_method() -> None:
    result = grid_emissions({S0: 100.0}, {}, generation_kg_per_kwh=GEN, td_kg_per_kwh=TD)
    assert math.isclose(result.kgco2e, 100 * (GEN + TD))
    assert (result.grid_kwh, result.fallback_kwh) == (0.0, 100.0)


def test_slot_keys_must_be_half_hours() -> None:
    with pytest.raises(ValueError, match="half-hour"):
        grid_emissions({S0 + 1: 1.0}, {}, generation_kg_per_kwh=GEN, td_kg_per_kwh=TD)


def test_a_reading_belongs_to_the_slot_containing_its_timestamp() -> None:
    # As the annual method's buckets (GROUP BY time(30m), no offset): 10:30:00 is in 10:30.
    assert reading_slot(S0 + HALF) == S0 + HALF
    assert reading_slot(S0 + HALF - 1) == S0
    assert reading_slot(S0) == S0

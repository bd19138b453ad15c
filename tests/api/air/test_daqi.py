"""The DAQI arithmetic (``api.daqi``): every band edge, rounding, windows and minimum data."""

from __future__ import annotations

import math

import pytest

from api.air.daqi import (
    BREAKPOINTS,
    POLLUTANTS,
    Aggregate,
    PollutantIndex,
    band_for_index,
    index_for,
    overall,
    pollutant_index,
    round_concentration,
    site_index,
)
from api.clock import HOUR_MS, MINUTE_MS

# The published table (DEFRA UK-AIR, DAQI "more info"), written out independently of
# api.daqi: bottom of each band 1..10.
PUBLISHED_BOTTOMS = {
    "o3": (0, 34, 67, 101, 121, 141, 161, 188, 214, 241),
    "no2": (0, 68, 135, 201, 268, 335, 401, 468, 535, 601),
    "so2": (0, 89, 178, 267, 355, 444, 533, 711, 888, 1065),
    "pm25": (0, 12, 24, 36, 42, 48, 54, 59, 65, 71),
    "pm10": (0, 17, 34, 51, 59, 67, 76, 84, 92, 101),
}

EDGES = [
    (pollutant, index, bottoms[index])  # index is the band below the edge (1..9)
    for pollutant, bottoms in PUBLISHED_BOTTOMS.items()
    for index in range(1, 10)
]

AT = 1_748_779_200_000  # 2025-06-01T12:00:00Z


def test_table_matches_the_published_one() -> None:
    for pollutant, bottoms in PUBLISHED_BOTTOMS.items():
        assert BREAKPOINTS[pollutant] == tuple(b - 1 for b in bottoms[1:])
    assert set(BREAKPOINTS) == set(POLLUTANTS)


@pytest.mark.parametrize(("pollutant", "index", "next_bottom"), EDGES)
def test_band_edges_both_sides(pollutant: str, index: int, next_bottom: int) -> None:
    top = next_bottom - 1
    assert index_for(pollutant, top) == index
    assert index_for(pollutant, next_bottom) == index + 1
    # Rounding half up: just under half a unit above the top stays, half a unit goes up.
    assert index_for(pollutant, top + 0.4999) == index
    assert index_for(pollutant, top + 0.5) == index + 1
    assert index_for(pollutant, next_bottom - 0.5) == index + 1
    assert index_for(pollutant, math.nextafter(top + 0.5, 0)) == index


@pytest.mark.parametrize("pollutant", POLLUTANTS)
def test_extremes(pollutant: str) -> None:
    assert index_for(pollutant, 0) == 1
    assert index_for(pollutant, -3.2) == 1  # sensor offsets
    assert index_for(pollutant, 5000) == 10
    assert index_for(pollutant, PUBLISHED_BOTTOMS[pollutant][9] + 1e6) == 10


def test_worked_examples() -> None:
    assert index_for("o3", 33.4) == 1
    assert index_for("o3", 33.5) == 2
    assert index_for("no2", 410) == 7
    assert index_for("pm25", 30) == 3
    assert index_for("pm25", 35.49) == 3
    assert index_for("pm25", 35.5) == 4


@pytest.mark.parametrize(("value", "rounded"), [
    (0.0, 0), (0.49999999999999994, 0), (0.5, 1), (33.4, 33), (33.5, 34), (66.5, 67),
    (100.49, 100), (2.5, 3), (3.5, 4), (-0.4, 0), (-0.5, 0), (-0.6, -1),
])
def test_round_half_up(value: float, rounded: int) -> None:
    assert round_concentration(value) == rounded


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_means_raise(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        index_for("no2", bad)


def test_unknown_pollutant_raises() -> None:
    with pytest.raises(ValueError, match="unknown pollutant"):
        index_for("co", 1.0)
    with pytest.raises(ValueError, match="unknown pollutant"):
        pollutant_index("co", AT, {})


@pytest.mark.parametrize(("index", "band"), [
    (1, "Low"), (3, "Low"), (4, "Moderate"), (6, "Moderate"), (7, "High"), (9, "High"),
    (10, "Very High"),
])
def test_band_names(index: int, band: str) -> None:
    assert band_for_index(index) == band


@pytest.mark.parametrize("bad", [0, 11, -1, True])
def test_band_for_bad_index(bad: int) -> None:
    with pytest.raises(ValueError, match="1 to 10"):
        band_for_index(bad)


def _hours(values: dict[int, tuple[int, float]]) -> dict[int, Aggregate]:
    """Hourly buckets keyed by hours before AT (1 = the hour ending at AT)."""
    return {AT - back * HOUR_MS: Aggregate(count, mean) for back, (count, mean) in values.items()}


def test_hourly_window_needs_three_readings() -> None:
    ok = pollutant_index("no2", AT, _hours({1: (3, 410.0), 2: (60, 900.0)}))
    assert (ok.index, ok.band, ok.mean_ugm3, ok.readings, ok.reason) == (7, "High", 410.0, 3,
                                                                          None)
    assert (ok.window, ok.window_start_ms, ok.window_end_ms) == ("1h", AT - HOUR_MS, AT)
    short = pollutant_index("no2", AT, _hours({1: (2, 410.0)}))
    assert (short.index, short.band, short.mean_ugm3, short.readings) == (None, None, None, 2)
    assert short.reason == "insufficient data: 2 readings, 3 needed"


def test_fifteen_minute_window_needs_one_reading() -> None:
    quarter = 15 * MINUTE_MS
    one = pollutant_index("so2", AT, {AT - quarter: Aggregate(1, 300.0),
                                      AT - 2 * quarter: Aggregate(5, 2000.0)})
    assert (one.index, one.window, one.readings, one.window_start_ms) == (4, "15m", 1,
                                                                          AT - quarter)
    none = pollutant_index("so2", AT, {AT - 2 * quarter: Aggregate(5, 2000.0)})
    assert none.index is None
    assert none.reason == "insufficient data: 0 readings, 1 needed"


def test_eight_hour_window_is_mean_of_valid_hourly_means() -> None:
    hours = {back: (4, 100.0) for back in range(1, 6)}
    hours[6] = (60, 160.0)  # a busier hour weighs no more than the others
    hours[7] = (2, 1000.0)  # under 3 readings: not a valid hour, left out of the mean
    hours[9] = (60, 1000.0)  # outside the window
    result = pollutant_index("o3", AT, _hours(hours))
    assert result.mean_ugm3 == pytest.approx(110.0)
    assert (result.index, result.band, result.window) == (4, "Moderate", "8h")
    assert result.readings == 5 * 4 + 60 + 2
    assert result.window_start_ms == AT - 8 * HOUR_MS


def test_eight_hour_window_needs_six_valid_hours() -> None:
    result = pollutant_index("o3", AT, _hours({b: (4, 50.0) for b in range(1, 6)}))
    assert result.index is None
    assert result.reason == "insufficient data: 5 hours with at least 3 readings, 6 needed"


def test_day_window_needs_eighteen_valid_hours() -> None:
    full = pollutant_index("pm25", AT, _hours({b: (3, 30.0) for b in range(1, 19)}))
    assert (full.index, full.band, full.window, full.readings) == (3, "Low", "24h", 54)
    assert full.window_start_ms == AT - 24 * HOUR_MS
    short = pollutant_index("pm10", AT, _hours({b: (3, 30.0) for b in range(1, 18)}))
    assert short.index is None
    assert short.reason == "insufficient data: 17 hours with at least 3 readings, 18 needed"


def _known(pollutant: str, index: int | None) -> PollutantIndex:
    band = None if index is None else band_for_index(index)
    return PollutantIndex(pollutant, index, band, None, "1h", 0, 1, 0)


def test_overall_is_the_highest_index() -> None:
    indices = {"no2": _known("no2", 7), "pm25": _known("pm25", 3), "o3": _known("o3", None)}
    assert overall(indices) == (7, "High")
    assert overall({"a": _known("no2", None), "b": _known("o3", None)}) == (None, None)
    assert overall({}) == (None, None)


def test_site_index_combines_pollutants() -> None:
    result = site_index("town-hall", AT, {
        "no2": _hours({1: (12, 410.0)}),
        "pm25": _hours({b: (3, 30.0) for b in range(1, 25)}),
        "pm10": _hours({b: (3, 530.0) for b in range(1, 5)}),  # too few hours
    })
    assert set(result.pollutants) == set(POLLUTANTS)
    assert (result.site, result.at_ms) == ("town-hall", AT)
    assert (result.overall_index, result.overall_band) == (7, "High")
    assert result.driven_by == ("no2",)
    assert result.pollutants["pm25"].index == 3
    assert result.pollutants["pm10"].index is None
    assert result.pollutants["so2"].reason == "insufficient data: 0 readings, 1 needed"


def test_site_without_data_has_no_overall_index() -> None:
    result = site_index("nowhere", AT, {})
    assert (result.overall_index, result.overall_band, result.driven_by) == (None, None, ())
    assert all(one.index is None for one in result.pollutants.values())

"""The DAQI arithmetic (``api.daqi``): every band edge, rounding, windows and minimum data."""

from __future__ import annotations

import math

import pytest

from api.air.daqi import (
    BREAKPOINTS,
    POLLUTANTS,
    Aggregate,
    PollutantBuckets,
    PollutantIndex,
    band_for_index,
    index_for,
    needed_readings,
    needed_units,
    overall,
    pollutant_index,
    pool,
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
        pollutant_index("co", AT, PollutantBuckets({}, {}))


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


MINUTE = 60_000


def _hours(values: dict[int, tuple[int, float]], interval_ms: int = MINUTE
           ) -> PollutantBuckets:
    """One monitor's hourly units keyed by hours before AT (1 = the hour ending at AT)."""
    buckets = {AT - back * HOUR_MS: Aggregate(count, mean)
               for back, (count, mean) in values.items()}
    return pool({"m": buckets}, {"m": interval_ms}, HOUR_MS)


@pytest.mark.parametrize(("unit_ms", "interval_ms", "needed"), [
    (HOUR_MS, MINUTE, 45),  # 75 % of 60 one-minute readings
    (15 * MINUTE, MINUTE, 12),  # 75 % of 15, rounded up (11.25 -> 12)
    (HOUR_MS, 15 * MINUTE, 3),  # 75 % of 4 quarter-hourly readings
    (HOUR_MS, 10_000, 270),  # 10-second readings: 75 % of 360
    (HOUR_MS, HOUR_MS, 1),
    (15 * MINUTE, 30 * MINUTE, 1),  # a unit shorter than the interval: at least one
    (HOUR_MS, 7 * MINUTE, 7),  # 60/7 = 8.57 expected; 75 % = 6.43 -> 7
])
def test_needed_readings_are_75_percent_of_those_expected(unit_ms: int, interval_ms: int,
                                                          needed: int) -> None:
    assert needed_readings(unit_ms, interval_ms) == needed


def test_needed_units() -> None:
    assert [needed_units(n) for n in (8, 23, 24, 25, 96)] == [6, 18, 18, 19, 72]


def test_an_hour_of_one_minute_readings_is_valid_from_45_not_44() -> None:
    ok = pollutant_index("no2", AT, _hours({1: (45, 410.0), 2: (60, 900.0)}))
    assert (ok.index, ok.band, ok.mean_ugm3, ok.readings, ok.reason) == (7, "High", 410.0, 45,
                                                                          None)
    assert ok.needed == 45
    assert (ok.window, ok.window_start_ms, ok.window_end_ms) == ("1h", AT - HOUR_MS, AT)
    short = pollutant_index("no2", AT, _hours({1: (44, 410.0)}))
    assert (short.index, short.band, short.mean_ugm3, short.readings) == (None, None, None, 44)
    assert short.reason == "insufficient data: 44 readings, 45 needed (75 % capture)"
    # Before the fix 3 readings were enough: now 3 of 60 (5 %) is not.
    assert pollutant_index("no2", AT, _hours({1: (3, 410.0)})).index is None
    # A monitor reporting every 15 minutes needs 3 of its 4 readings an hour.
    assert pollutant_index("no2", AT, _hours({1: (3, 410.0)}, 15 * MINUTE)).index == 7


def test_fifteen_minute_window_needs_12_of_15_one_minute_readings() -> None:
    quarter = 15 * MINUTE_MS

    def quarters(count: int) -> PollutantBuckets:
        return pool({"m": {AT - quarter: Aggregate(count, 300.0),
                           AT - 2 * quarter: Aggregate(15, 2000.0)}}, {"m": MINUTE}, quarter)

    one = pollutant_index("so2", AT, quarters(12))
    assert (one.index, one.window, one.readings, one.window_start_ms) == (4, "15m", 12,
                                                                          AT - quarter)
    none = pollutant_index("so2", AT, quarters(11))  # before the fix 1 reading was enough
    assert none.index is None
    assert none.reason == "insufficient data: 11 readings, 12 needed (75 % capture)"


def test_monitors_are_pooled_where_each_has_capture() -> None:
    # a: 60 readings at 100; b: 60 at 200 -> 150. c sends 10 of 60 (no capture): left out,
    # though its readings are counted. d's interval is unknown: never valid.
    buckets = {name: {AT - HOUR_MS: Aggregate(count, mean)}
               for name, (count, mean) in {"a": (60, 100.0), "b": (60, 200.0),
                                           "c": (10, 900.0), "d": (60, 900.0)}.items()}
    pooled = pool(buckets, {"a": MINUTE, "b": MINUTE, "c": MINUTE, "d": None}, HOUR_MS)
    result = pollutant_index("no2", AT, pooled)
    assert result.mean_ugm3 == pytest.approx(150.0)
    assert result.readings == 190
    # Pooling weights by readings: a 2-per-minute monitor counts twice a 1-per-minute one.
    weighted = pool({"a": {AT - HOUR_MS: Aggregate(120, 100.0)},
                     "b": {AT - HOUR_MS: Aggregate(60, 400.0)}},
                    {"a": 30_000, "b": MINUTE}, HOUR_MS)
    assert pollutant_index("no2", AT, weighted).mean_ugm3 == pytest.approx(200.0)


def test_unknown_interval_says_so() -> None:
    unknown = pool({"m": {AT - HOUR_MS: Aggregate(1, 50.0)}}, {"m": None}, HOUR_MS)
    result = pollutant_index("no2", AT, unknown)
    assert result.index is None
    assert result.reason is not None
    assert "interval is unknown" in result.reason


def test_eight_hour_window_is_mean_of_valid_hourly_means() -> None:
    hours = {back: (45, 100.0) for back in range(1, 6)}
    hours[6] = (60, 160.0)  # a busier hour weighs no more than the others
    hours[7] = (44, 1000.0)  # under 75 % capture: not a valid hour, left out of the mean
    hours[9] = (60, 1000.0)  # outside the window
    result = pollutant_index("o3", AT, _hours(hours))
    assert result.mean_ugm3 == pytest.approx(110.0)
    assert (result.index, result.band, result.window) == (4, "Moderate", "8h")
    assert result.readings == 5 * 45 + 60 + 44
    assert result.window_start_ms == AT - 8 * HOUR_MS


def test_eight_hour_window_needs_six_valid_hours() -> None:
    result = pollutant_index("o3", AT, _hours({b: (45, 50.0) for b in range(1, 6)}))
    assert result.index is None
    assert result.reason == "insufficient data: 5 hours with 75 % data capture, 6 needed"


def test_day_window_needs_eighteen_valid_hours() -> None:
    full = pollutant_index("pm25", AT, _hours({b: (45, 30.0) for b in range(1, 19)}))
    assert (full.index, full.band, full.window, full.readings) == (3, "Low", "24h", 810)
    assert full.window_start_ms == AT - 24 * HOUR_MS
    short = pollutant_index("pm10", AT, _hours({b: (45, 30.0) for b in range(1, 18)}))
    assert short.index is None
    assert short.reason == "insufficient data: 17 hours with 75 % data capture, 18 needed"


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
        "no2": _hours({1: (12, 410.0)}, 5 * MINUTE),  # every 5 minutes: 9 of 12 needed
        "pm25": _hours({b: (45, 30.0) for b in range(1, 25)}),
        "pm10": _hours({b: (45, 530.0) for b in range(1, 5)}),  # too few hours
    })
    assert set(result.pollutants) == set(POLLUTANTS)
    assert (result.site, result.at_ms) == ("town-hall", AT)
    assert (result.overall_index, result.overall_band) == (7, "High")
    assert result.driven_by == ("no2",)
    assert result.pollutants["pm25"].index == 3
    assert result.pollutants["pm10"].index is None
    assert result.pollutants["so2"].reason == "insufficient data: no readings"


def test_site_without_data_has_no_overall_index() -> None:
    result = site_index("nowhere", AT, {})
    assert (result.overall_index, result.overall_band, result.driven_by) == (None, None, ())
    assert all(one.index is None for one in result.pollutants.values())

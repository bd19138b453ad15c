"""The UK Daily Air Quality Index (DAQI): bands, breakpoints, data capture and windows.

Pure functions only (no I/O): :mod:`api.air.queries` reads the aggregates from InfluxDB
and hands them here. Source of the breakpoints: DEFRA, UK-AIR, "Daily Air Quality Index",
https://uk-air.defra.gov.uk/air-pollution/daqi?view=more-info (index recommended by
COMEAP). The rules this module chooses where DEFRA leaves room (rounding, minimum data)
are documented in ``docs/methodology.md``, section "Air quality: the Daily Air Quality
Index".
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass

from api.clock import HOUR_MS, MINUTE_MS

POLLUTANTS = ("no2", "pm25", "pm10", "o3", "so2")
FIELDS = {p: f"{p}_ugm3" for p in POLLUTANTS}

# Upper bound (µg/m³, inclusive, after rounding) of indices 1..9; above the last is 10.
BREAKPOINTS: dict[str, tuple[int, ...]] = {
    "o3": (33, 66, 100, 120, 140, 160, 187, 213, 240),
    "no2": (67, 134, 200, 267, 334, 400, 467, 534, 600),
    "so2": (88, 177, 266, 354, 443, 532, 710, 887, 1064),
    "pm25": (11, 23, 35, 41, 47, 53, 58, 64, 70),
    "pm10": (16, 33, 50, 58, 66, 75, 83, 91, 100),
}

BANDS = ("Low", "Moderate", "High", "Very High")

# DEFRA's data capture rule: an averaging unit (an hour, or 15 minutes for SO2) is valid
# with 75 % of the readings its monitor is expected to send in it; an 8- or 24-hour mean
# with 75 % of its hours valid.
CAPTURE_NUMERATOR, CAPTURE_DENOMINATOR = 3, 4


def needed_readings(unit_ms: int, interval_ms: int) -> int:
    """Readings a monitor reporting every ``interval_ms`` must send in a unit of ``unit_ms``:
    75 % of those expected, rounded up, at least one (60 s readings: 45 an hour, 12 per
    15 minutes).

    Raises:
        ValueError: the interval is not positive.
    """
    if interval_ms <= 0:
        raise ValueError(f"a reporting interval must be positive, not {interval_ms!r}")
    expected_times_capture = CAPTURE_NUMERATOR * unit_ms
    return max(1, -(-expected_times_capture // (CAPTURE_DENOMINATOR * interval_ms)))


def needed_units(units: int) -> int:
    """Valid units a longer period needs: 75 % of them, rounded up (18 of 24 hours)."""
    return -(-CAPTURE_NUMERATOR * units // CAPTURE_DENOMINATOR)


@dataclass(frozen=True, slots=True)
class Window:
    """A pollutant's averaging window and the data it needs to be valid.

    Attributes:
        name: ``1h``, ``15m``, ``8h`` or ``24h``.
        length_ms: how far back from ``at`` the window reaches.
        bucket_ms: the averaging unit the window is built from (hourly or 15-minute).
        min_buckets: valid units the window needs (75% of its hours for 8h and 24h).
    """

    name: str
    length_ms: int
    bucket_ms: int
    min_buckets: int


WINDOW_1H = Window("1h", HOUR_MS, HOUR_MS, 1)
WINDOW_15M = Window("15m", 15 * MINUTE_MS, 15 * MINUTE_MS, 1)
WINDOW_8H = Window("8h", 8 * HOUR_MS, HOUR_MS, needed_units(8))
WINDOW_24H = Window("24h", 24 * HOUR_MS, HOUR_MS, needed_units(24))

WINDOWS: dict[str, Window] = {
    "no2": WINDOW_1H,
    "so2": WINDOW_15M,
    "o3": WINDOW_8H,
    "pm25": WINDOW_24H,
    "pm10": WINDOW_24H,
}


@dataclass(frozen=True, slots=True)
class Aggregate:
    """The readings of one bucket: how many, their mean."""

    count: int
    mean: float


Buckets = Mapping[int, Aggregate]
"""Aggregates keyed by the bucket's start (epoch ms); buckets without readings are absent."""


@dataclass(frozen=True, slots=True)
class PollutantBuckets:
    """One pollutant at one site, per averaging unit.

    Attributes:
        valid: the units with 75 % capture, each the pool of the monitors that had it
            (a mean weighted by their readings).
        counts: every reading per unit, valid or not (the answer's ``readings``).
        needed: readings per unit the site's main monitor (most readings) needs; None
            when its reporting interval is unknown.
    """

    valid: Buckets
    counts: Mapping[int, int]
    needed: int | None = None


EMPTY = PollutantBuckets({}, {})


def pool(per_sensor: Mapping[str, Buckets], intervals_ms: Mapping[str, int | None],
         bucket_ms: int) -> PollutantBuckets:
    """Pool a site's monitors unit by unit, each monitor only where it has 75 % capture.

    A monitor whose interval is unknown (None, or absent) is never valid: without the
    number of readings it should have sent, its capture cannot be judged.
    """
    valid_parts: dict[int, list[Aggregate]] = {}
    counts: dict[int, int] = {}
    for sensor, buckets in per_sensor.items():
        interval = intervals_ms.get(sensor)
        need = needed_readings(bucket_ms, interval) if interval else None
        for start, one in buckets.items():
            counts[start] = counts.get(start, 0) + one.count
            if need is not None and one.count >= need:
                valid_parts.setdefault(start, []).append(one)
    valid = {start: Aggregate(sum(p.count for p in parts),
                              math.fsum(p.count * p.mean for p in parts)
                              / sum(p.count for p in parts))
             for start, parts in valid_parts.items()}
    main = max(per_sensor, key=lambda s: (sum(b.count for b in per_sensor[s].values()), s),
               default=None)
    interval = intervals_ms.get(main) if main is not None else None
    return PollutantBuckets(valid, counts,
                            needed_readings(bucket_ms, interval) if interval else None)


@dataclass(frozen=True, slots=True)
class PollutantIndex:
    """One pollutant's index over its window ending at ``window_end_ms``.

    ``index``, ``band`` and ``mean_ugm3`` are None when the window lacks data; ``reason``
    then says what was missing.
    """

    pollutant: str
    index: int | None
    band: str | None
    mean_ugm3: float | None
    window: str
    window_start_ms: int
    window_end_ms: int
    readings: int
    reason: str | None = None
    needed: int | None = None  # readings per unit for 75 % capture (the main monitor's)


@dataclass(frozen=True, slots=True)
class SiteIndex:
    """Every pollutant's index at a site at one moment, and the overall (highest) index."""

    site: str
    at_ms: int
    overall_index: int | None
    overall_band: str | None
    pollutants: dict[str, PollutantIndex]

    @property
    def driven_by(self) -> tuple[str, ...]:
        """The pollutants whose index equals the overall index (empty when it is None)."""
        if self.overall_index is None:
            return ()
        return tuple(p for p, one in self.pollutants.items() if one.index == self.overall_index)


def round_concentration(mean_ugm3: float) -> int:
    """A mean rounded half up to a whole µg/m³, as the breakpoints are whole numbers.

    Raises:
        ValueError: NaN or infinite.
    """
    if not math.isfinite(mean_ugm3):
        raise ValueError(f"concentration must be finite, not {mean_ugm3!r}")
    whole = math.floor(mean_ugm3)
    # Not floor(x + 0.5): that rounds 0.49999999999999994 up; x - floor(x) is exact.
    return whole + 1 if mean_ugm3 - whole >= 0.5 else whole


def index_for(pollutant: str, mean_ugm3: float) -> int:
    """The DAQI index (1-10) of a mean concentration over the pollutant's window.

    The mean is first rounded half up to a whole µg/m³ (33.4 -> 33, 33.5 -> 34), then
    looked up in the banding table; negative means (sensor offsets) fall in index 1.

    Args:
        pollutant: one of ``no2``, ``pm25``, ``pm10``, ``o3``, ``so2``.
        mean_ugm3: the mean in µg/m³.

    Raises:
        ValueError: an unknown pollutant, or a NaN or infinite mean.
    """
    bounds = BREAKPOINTS.get(pollutant)
    if bounds is None:
        raise ValueError(f"unknown pollutant {pollutant!r}; known: {', '.join(POLLUTANTS)}")
    return bisect_left(bounds, round_concentration(mean_ugm3)) + 1


def band_for_index(index: int) -> str:
    """``Low`` (1-3), ``Moderate`` (4-6), ``High`` (7-9) or ``Very High`` (10).

    Raises:
        ValueError: not an integer from 1 to 10.
    """
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= 10:
        raise ValueError(f"a DAQI index is an integer from 1 to 10, not {index!r}")
    return BANDS[min((index - 1) // 3, 3)]


def _shortfall(window: Window, readings: int, valid_units: int, needed: int | None) -> str:
    if window.min_buckets > 1:
        return (f"insufficient data: {valid_units} hours with 75 % data capture, "
                f"{window.min_buckets} needed")
    if needed is not None:
        return f"insufficient data: {readings} readings, {needed} needed (75 % capture)"
    if readings:
        return (f"insufficient data: {readings} readings, but the monitor's reporting "
                "interval is unknown (not registered, and too few readings to measure it)")
    return "insufficient data: no readings"


def pollutant_index(pollutant: str, at_ms: int, data: PollutantBuckets) -> PollutantIndex:
    """The pollutant's index over its window ``[at - length, at)``.

    Args:
        pollutant: one of :data:`POLLUTANTS`.
        at_ms: the end of the window (epoch ms).
        data: the pollutant's units at its window's bucket size (hourly, or 15-minute for
            SO2), aligned so that ``at_ms`` is a bucket boundary (:func:`pool`).

    Returns:
        For 1h and 15m windows, the unit's mean, valid with 75 % capture. For 8h and 24h
        windows, the mean of the valid hourly means, valid with 6 (8h) or 18 (24h) of them.

    Raises:
        ValueError: an unknown pollutant.
    """
    window = WINDOWS.get(pollutant)
    if window is None:
        raise ValueError(f"unknown pollutant {pollutant!r}; known: {', '.join(POLLUTANTS)}")
    start_ms = at_ms - window.length_ms
    starts = range(start_ms, at_ms, window.bucket_ms)
    readings = sum(data.counts.get(s, 0) for s in starts)
    valid = [data.valid[s] for s in starts if s in data.valid]
    if len(valid) < window.min_buckets:
        return PollutantIndex(pollutant, None, None, None, window.name, start_ms, at_ms,
                              readings, _shortfall(window, readings, len(valid), data.needed),
                              data.needed)
    # Mean of unit means, as DEFRA averages hourly means: an hour with more readings
    # (or more monitors) weighs no more than any other hour.
    mean = math.fsum(one.mean for one in valid) / len(valid)
    index = index_for(pollutant, mean)
    return PollutantIndex(pollutant, index, band_for_index(index), mean, window.name,
                          start_ms, at_ms, readings, None, data.needed)


def overall(indices: Mapping[str, PollutantIndex]) -> tuple[int | None, str | None]:
    """The highest pollutant index and its band; (None, None) when every index is None."""
    known = [one.index for one in indices.values() if one.index is not None]
    if not known:
        return None, None
    worst = max(known)
    return worst, band_for_index(worst)


def site_index(site: str, at_ms: int, buckets: Mapping[str, PollutantBuckets]) -> SiteIndex:
    """Every pollutant's index at ``at_ms`` and the overall index.

    Args:
        site: the site id (carried through).
        at_ms: the moment (epoch ms); each window ends there.
        buckets: per pollutant, its pooled units (see :func:`pool`); a missing pollutant
            has no readings.
    """
    pollutants = {p: pollutant_index(p, at_ms, buckets.get(p, EMPTY)) for p in POLLUTANTS}
    index, band = overall(pollutants)
    return SiteIndex(site, at_ms, index, band, pollutants)

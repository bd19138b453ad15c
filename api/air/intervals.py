"""How often each air-quality monitor is expected to report: the base of 75 % data capture.

A registered monitor's interval is the registry's ``interval_s``. A monitor known only from
its data (contract section 6: "a site or sensor that has readings is known") gets the
median gap between its own consecutive readings of that pollutant in the window read,
from InfluxDB's ``ELAPSED``: a median, so that a few gaps (an outage) do not lengthen it.
Fewer than two readings leave it unknown, and then its capture cannot be judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from api.air.daqi import FIELDS, POLLUTANTS
from api.influx import InfluxStore, QueryParam, Series
from sensors.registry import Registry
from sensors.storage import Measurement
from sensors.topics import Domain

IntervalSource = Literal["registry", "median_gap", "unknown"]


@dataclass(frozen=True, slots=True)
class ExpectedInterval:
    """A monitor's expected reporting interval for one pollutant, and where it came from."""

    sensor: str
    pollutant: str
    interval_ms: int | None
    source: IntervalSource


def registry_intervals_ms(registry: Registry | None) -> dict[str, int]:
    """Registered air-quality sensors' intervals, in milliseconds."""
    if registry is None:
        return {}
    return {sensor.id: sensor.interval_s * 1000 for sensor in registry.sensors
            if sensor.domain is Domain.AIR_QUALITY}


GAP_PART_MS = 48 * 3_600_000
"""A window's gaps are read in parts of at most this span, one statement each (InfluxDB 3
Core refuses a query past about 72 hours: docs/storage.md); the interval is then the
median of the parts' medians, each counted as often as it had gaps. A window of two days
or less is one part: the exact median."""


def gap_statement(pollutant: str, sensor_params: Sequence[str], start_param: str = "start",
                  end_param: str = "end") -> str:
    """The median gap (ms) between consecutive readings of a pollutant, and how many
    gaps, per sensor."""
    field = FIELDS[pollutant]
    sensors = " OR ".join(f"sensor = ${name}" for name in sensor_params)
    # Built from this module's constants only; sensor ids and bounds are parameters.
    return ("SELECT median(gap) AS gap, count(gap) AS gaps FROM (SELECT "  # noqa: S608
            f"elapsed({field}, 1ms) AS gap FROM {Measurement.AIR_QUALITY} WHERE ({sensors}) "
            f"AND time >= ${start_param} AND time < ${end_param} GROUP BY sensor) "
            "GROUP BY sensor")


async def expected_intervals(store: InfluxStore, registry: Registry | None,
                             seen: Iterable[str], start_ms: int, end_ms: int
                             ) -> dict[tuple[str, str], ExpectedInterval]:
    """(sensor, pollutant) -> expected interval for every sensor in ``seen``.

    Registered sensors need no query; the others' median gaps are read in one request
    (one statement per pollutant) over ``[start_ms, end_ms)``.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    known = registry_intervals_ms(registry)
    sensors = sorted(set(seen))
    out: dict[tuple[str, str], ExpectedInterval] = {}
    others = [sensor for sensor in sensors if sensor not in known]
    for sensor in sensors:
        if sensor in known:
            for pollutant in POLLUTANTS:
                out[(sensor, pollutant)] = ExpectedInterval(sensor, pollutant, known[sensor],
                                                            "registry")
    if not others:
        return out
    params: dict[str, QueryParam] = {f"g{i}": sensor for i, sensor in enumerate(others)}
    names = list(params)
    parts = list(enumerate(range(start_ms, end_ms, GAP_PART_MS)))
    statements: list[str] = []
    for index, lo in parts:
        params[f"gs{index}"] = lo * 1_000_000
        params[f"ge{index}"] = min(lo + GAP_PART_MS, end_ms) * 1_000_000
        statements += [gap_statement(p, names, f"gs{index}", f"ge{index}") for p in POLLUTANTS]
    answers = await store.query(statements, params) if statements else []
    gaps = _gaps(POLLUTANTS * len(parts), answers)
    for sensor in others:
        for pollutant in POLLUTANTS:
            gap = gaps.get((sensor, pollutant))
            out[(sensor, pollutant)] = ExpectedInterval(
                sensor, pollutant, gap, "median_gap" if gap else "unknown")
    return out


def _gaps(pollutants: Sequence[str], answers: Sequence[Sequence[Series]]
          ) -> dict[tuple[str, str], int]:
    medians: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for pollutant, series_list in zip(pollutants, answers, strict=True):
        for series in series_list:
            sensor = series.tags.get("sensor", "")
            for row in series.rows():
                gap = row.get("gap")
                if gap is not None and float(gap) > 0:
                    medians.setdefault((sensor, pollutant), []).append(
                        (float(gap), int(row.get("gaps") or 1)))
    return {key: round(_weighted_median(parts)) for key, parts in medians.items()}


def _weighted_median(parts: list[tuple[float, int]]) -> float:
    """The median of the values, each counted ``weight`` times (one part: its value)."""
    ordered = sorted(parts)
    half = sum(weight for _, weight in ordered) / 2
    seen = 0
    for value, weight in ordered:
        seen += weight
        if seen >= half:
            return value
    return ordered[-1][0]


def per_pollutant(intervals: Mapping[tuple[str, str], ExpectedInterval],
                  pollutant: str) -> dict[str, int | None]:
    """sensor -> interval (ms) for one pollutant."""
    return {sensor: one.interval_ms for (sensor, p), one in intervals.items() if p == pollutant}

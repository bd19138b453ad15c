"""How often each air-quality monitor is expected to report: the base of 75 % data capture.

A registered monitor's interval is the registry's ``interval_s``. A monitor known only from
its data (contract section 6: "a site or sensor that has readings is known") gets the
median gap between its own consecutive readings of that pollutant in the window read,
from InfluxDB's ``ELAPSED``: a median, so that a few gaps (an outage) do not lengthen it;
taken per UTC hour and then over the hours (weighted by their gaps), so that the hours
the rollups cover are read from ``air_quality_hourly`` and long windows stay within
InfluxDB 3 Core's file limit.
Fewer than two readings leave it unknown, and then its capture cannot be judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from api.air.daqi import FIELDS, POLLUTANTS
from api.influx import InfluxStore, QueryParam, Series
from sensors.registry import Registry
from sensors.storage import Measurement, air_gap_field, air_gaps_field
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
"""Raw gaps are read in statements of at most this span (InfluxDB 3 Core refuses a query
past about 72 hours: docs/storage.md)."""


def gap_statement(pollutant: str, sensor_params: Sequence[str] | None,
                  start_param: str = "start", end_param: str = "end") -> str:
    """The median gap (ms) between consecutive readings of a pollutant, and how many gaps,
    per site, sensor and UTC hour (a gap counts in the hour it ends), from raw readings;
    of the sensors in the bound parameters named, or (None) of every sensor, as the
    rollup job writes them into ``air_quality_hourly``."""
    field = FIELDS[pollutant]
    sensors = ("" if sensor_params is None else
               "(" + " OR ".join(f"sensor = ${name}" for name in sensor_params) + ") AND ")
    # Built from this module's constants only; sensor ids and bounds are parameters.
    return ("SELECT median(gap) AS gap, count(gap) AS gaps FROM (SELECT "  # noqa: S608
            f"elapsed({field}, 1ms) AS gap FROM {Measurement.AIR_QUALITY} WHERE {sensors}"
            f"time >= ${start_param} AND time < ${end_param} GROUP BY site, sensor) "
            "GROUP BY time(1h), site, sensor fill(none)")


def tier_gap_statement(pollutant: str, sensor_params: Sequence[str], start_param: str,
                       end_param: str) -> str:
    """The same per hour from ``air_quality_hourly`` (written from :func:`gap_statement`'s
    rows by the rollup job)."""
    sensors = " OR ".join(f"sensor = ${name}" for name in sensor_params)
    return (f"SELECT {air_gap_field(pollutant)} AS gap, "  # noqa: S608
            f"{air_gaps_field(pollutant)} AS gaps FROM {Measurement.AIR_HOURLY} "
            f"WHERE ({sensors}) AND time >= ${start_param} AND time < ${end_param} "
            f"AND {air_gaps_field(pollutant)} > 0 GROUP BY sensor")


async def expected_intervals(store: InfluxStore, registry: Registry | None,
                             seen: Iterable[str], start_ms: int, end_ms: int,
                             rolled: tuple[int, int] | None = None
                             ) -> dict[tuple[str, str], ExpectedInterval]:
    """(sensor, pollutant) -> expected interval for every sensor in ``seen``.

    Registered sensors need no query. The others' interval is the median of their hourly
    median gaps over ``[start_ms, end_ms)``, each hour counted as often as it had gaps
    (for a monitor reporting steadily, its interval; an outage is one long gap, which
    does not move the median). The hours in ``rolled`` come from ``air_quality_hourly``,
    the rest from raw readings in parts of at most :data:`GAP_PART_MS`.

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
    pieces = [(start_ms, end_ms)] if rolled is None else [(start_ms, rolled[0]),
                                                          (rolled[1], end_ms)]
    parts = [(lo, min(lo + GAP_PART_MS, hi)) for first, hi in pieces
             for lo in range(first, hi, GAP_PART_MS)]
    statements: list[str] = []
    for index, (lo, hi) in enumerate(parts):
        params[f"gs{index}"], params[f"ge{index}"] = lo * 1_000_000, hi * 1_000_000
        statements += [gap_statement(p, names, f"gs{index}", f"ge{index}") for p in POLLUTANTS]
    answers = list(await store.query(statements, params)) if statements else []
    if rolled is not None:
        params.update(ts=rolled[0] * 1_000_000, te=rolled[1] * 1_000_000)
        answers += await store.query([tier_gap_statement(p, names, "ts", "te")
                                      for p in POLLUTANTS], params, own=True)
    gaps = _gaps(POLLUTANTS * (len(answers) // len(POLLUTANTS)), answers)
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

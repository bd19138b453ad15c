"""Air-quality rollups: count and sum of each DAQI pollutant per sensor and DAQI unit.

``air_quality_hourly`` holds NO2, O3, PM2.5 and PM10 per UTC hour and
``air_quality_quarter_hourly`` SO2 per 15 minutes (tags ``site``, ``sensor``; fields
``n_<pollutant>`` and ``s_<pollutant>``), the units the DAQI is built from
(:mod:`api.air.daqi`); the hourly tier also holds each pollutant's median gap between a
monitor's readings in the hour (``g_<pollutant>``, of ``e_<pollutant>`` gaps), the base
of an unregistered monitor's expected interval (:mod:`api.air.intervals`). A unit's mean
is ``s / n``, what the raw query's ``mean()`` gives, and a run of units sums, so long
windows (the DAQI history and daily index, the live trend's NO2 line) read them instead
of raw readings, which InfluxDB 3 Core refuses past about 72 hours (docs/storage.md).
Written by :mod:`api.activity.rollup_job` beside the activity tiers; read by
:mod:`api.air.queries`, :mod:`api.air.intervals` and :mod:`api.live.series_rollups`.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.air.daqi import FIELDS, WINDOWS
from api.air.intervals import gap_statement
from api.clock import HOUR_MS
from api.influx import InfluxStore, Series
from sensors.lineprotocol import point_line
from sensors.storage import (
    AIR_GAP_POLLUTANTS,
    AIR_HOURLY_POLLUTANTS,
    AIR_QUARTER_HOURLY_POLLUTANTS,
    Measurement,
    air_count_field,
    air_gap_field,
    air_gaps_field,
    air_sum_field,
)
from sensors.timestamps import NS_PER_MS

TIERS: dict[int, tuple[Measurement, tuple[str, ...]]] = {
    HOUR_MS: (Measurement.AIR_HOURLY, AIR_HOURLY_POLLUTANTS),
    900_000: (Measurement.AIR_QUARTER_HOURLY, AIR_QUARTER_HOURLY_POLLUTANTS),
}
"""Unit (ms) -> the tier holding the pollutants built from it."""
_CHUNK_MS = 6 * HOUR_MS
"""Hours read per request: one pass of the scheduled job (its look-back of 6 hours)."""

assert all(WINDOWS[p].bucket_ms == unit for unit, (_, pollutants) in TIERS.items()
           for p in pollutants), "each tier's unit is its pollutants' DAQI unit"


def _source_statement(unit_ms: int, pollutants: Sequence[str]) -> str:
    fields = ", ".join(f"count({FIELDS[p]}) AS {air_count_field(p)}, "
                       f"sum({FIELDS[p]}) AS {air_sum_field(p)}" for p in pollutants)
    # Built from this module's constants only; bounds are parameters.
    return (f"SELECT {fields} FROM {Measurement.AIR_QUALITY} "  # noqa: S608
            f"WHERE time >= $start AND time < $end "
            f"GROUP BY time({unit_ms}ms), site, sensor fill(none)")


_Points = dict[tuple[str, str, int], dict[str, int | float | None]]


def _add_units(points: _Points, pollutants: Sequence[str], series_list: Sequence[Series]
               ) -> None:
    for one in series_list:
        for row in one.rows():
            fields = points.setdefault(
                (one.tags.get("site", ""), one.tags.get("sensor", ""), int(row["time"])), {})
            for pollutant in pollutants:
                count = int(row.get(air_count_field(pollutant)) or 0)
                if count:  # a unit with other pollutants only answers 0 for this one
                    fields[air_count_field(pollutant)] = count
                    fields[air_sum_field(pollutant)] = float(row[air_sum_field(pollutant)])


def _add_gaps(points: _Points, pollutant: str, series_list: Sequence[Series]) -> None:
    for one in series_list:
        for row in one.rows():
            if row.get("gap") is None or not row.get("gaps"):
                continue
            fields = points.setdefault(
                (one.tags.get("site", ""), one.tags.get("sensor", ""), int(row["time"])), {})
            fields[air_gap_field(pollutant)] = float(row["gap"])
            fields[air_gaps_field(pollutant)] = int(row["gaps"])


def _lines(measurement: Measurement, points: _Points) -> list[str]:
    lines = [point_line(measurement, {"site": site, "sensor": sensor}, fields, t)
             for (site, sensor, t), fields in points.items()]
    return [line for line in lines if line is not None]


async def rollup_air(store: InfluxStore, start_ms: int, end_ms: int,
                     timeout_s: float) -> int:
    """Recompute the air-quality tiers for [start_ms, end_ms) (hour-aligned); lines written.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    units = list(TIERS)
    statements = [_source_statement(unit, TIERS[unit][1]) for unit in units]
    statements += [gap_statement(p, None) for p in AIR_GAP_POLLUTANTS]
    written = 0
    for chunk in range(start_ms, end_ms, _CHUNK_MS):
        bounds = {"start": chunk * NS_PER_MS, "end": min(chunk + _CHUNK_MS, end_ms) * NS_PER_MS}
        answers = await store.query(statements, bounds, timeout_s=timeout_s)
        points: dict[int, _Points] = {unit: {} for unit in units}
        for unit, series_list in zip(units, answers[:len(units)], strict=True):
            _add_units(points[unit], TIERS[unit][1], series_list)
        for pollutant, series_list in zip(AIR_GAP_POLLUTANTS, answers[len(units):],
                                          strict=True):
            _add_gaps(points[HOUR_MS], pollutant, series_list)
        lines = [line for unit in units for line in _lines(TIERS[unit][0], points[unit])]
        await store.write(lines)
        written += len(lines)
    return written


def tier_statement(unit_ms: int, site_params: Sequence[str], start_param: str,
                   end_param: str) -> str:
    """Count and sum per unit, site and sensor from the tier of ``unit_ms``, in the same
    shape as the raw DAQI statement (``n_<p>``; ``s_<p>`` where it has ``m_<p>``)."""
    measurement, pollutants = TIERS[unit_ms]
    fields = ", ".join(f"{air_count_field(p)}, {air_sum_field(p)}" for p in pollutants)
    sites = " OR ".join(f"site = ${name}" for name in site_params)
    return (f"SELECT {fields} FROM {measurement} "  # noqa: S608
            f"WHERE ({sites}) AND time >= ${start_param} AND time < ${end_param} "
            "GROUP BY site, sensor")

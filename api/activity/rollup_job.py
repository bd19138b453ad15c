"""Activity rollups, write side: the scheduled job and on-demand backfills.

:func:`rollup_hours` recomputes hours from raw data into ``activity_hourly`` and
``received_hourly``, then every London day those hours touch into ``activity_daily`` and
``received_daily`` from the hourly tier. Rewriting a point overwrites it (same series and
timestamp), so recomputing is idempotent. Each scheduled run recomputes the last
``rollup_lookback_h`` complete hours (and so their days); later readings reach rollups
through :func:`backfill` (docs/methodology.md, "Rollups"). Reading: :mod:`api.activity.rollups`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.raw import fetch_activity
from api.activity.received import RECEIVED_DAILY_SELECT, received_statements
from api.activity.rollups import Coverage, forget_coverage, read_coverage
from api.air.rollup import rollup_air
from api.clock import HOUR_MS, TimeWindow, ceil_hour, days_touching, floor_hour, format_ms
from api.errors import ParamError
from api.influx import InfluxStore, QueryParam, Series
from sensors.lineprotocol import point_line
from sensors.settings import Settings
from sensors.storage import (
    ACTIVITY_ENERGY_FIELDS,
    ACTIVITY_TRANSPORT_FIELDS,
    ENERGY_KWH,
    READINGS,
    Measurement,
    count_field,
    unattributed_field,
    vkm_field,
)
from sensors.timestamps import NS_PER_MS

logger = logging.getLogger(__name__)

HOURLY, DAILY = Measurement.ACTIVITY_HOURLY, Measurement.ACTIVITY_DAILY
MAX_CATCHUP_MS = 7 * 24 * HOUR_MS  # a scheduled run fills a gap up to this long, else restarts
# One backfill rolls up at most this many hours, gap included: a request for 2000-01-01
# with coverage in 2026 would otherwise roll up 26 years inside one HTTP request, and an
# eleven-month backfill of an empty database took over 10 s on a loaded 2-core machine.
MAX_BACKFILL_MS = 31 * 24 * HOUR_MS
_CHUNK_MS = 24 * HOUR_MS
AIR_CATCHUP_MS = 24 * HOUR_MS
"""A scheduled run also rolls up the air-quality tiers of this many covered hours that
were rolled up before those tiers existed, newest first (a year in about a day of runs
at the default 5-minute interval)."""
_DAYS_PER_REQUEST = 50
_ACTIVITY_TAGS = "site, sensor, domain, carrier"
ROLLUP_TIMEOUT_S = 300.0
"""Per request of the job, which runs in the background: at 30,000 sensors one London day
of the daily tier took 24.5 s to read from two hours of the hourly tier (InfluxDB 1.6.7,
2 cores, 2026-12-02), close to the API's usual 30 s, and it grows with the hours."""


def rollup_lines(energy: Iterable[EnergyActivity],
                 transport: Iterable[TransportActivity]) -> list[str]:
    """Line protocol (precision ms) for hourly activity (every ``bucket_ms`` set)."""
    lines = [point_line(HOURLY, {"carrier": m.carrier.value, "domain": "energy",
                                 "sensor": m.sensor, "site": m.site},
                        {ENERGY_KWH: m.energy_kwh, READINGS: m.readings}, m.bucket_ms or 0)
             for m in energy]
    by_sensor: dict[tuple[int, str, str], list[TransportActivity]] = {}
    for t in transport:
        by_sensor.setdefault((t.bucket_ms or 0, t.site, t.sensor), []).append(t)
    for (bucket, site, sensor), classes in by_sensor.items():
        fields: dict[str, int | float] = {READINGS: classes[0].readings}
        for t in classes:
            vc = t.vehicle_class
            fields[count_field(vc)] = t.counts
            fields[vkm_field(vc)] = t.vehicle_km
            fields[unattributed_field(vc)] = t.unattributed_counts
        lines.append(point_line(HOURLY, {"domain": "transport", "sensor": sensor, "site": site},
                                fields, bucket))
    return [line for line in lines if line is not None]


async def _write_coverage(store: InfluxStore, coverage: Coverage, now_ms: int) -> None:
    # Timestamped at `until` (which never decreases), so the latest point is the state.
    line = point_line(Measurement.ROLLUP_STATE, {}, {
        "since_ms": coverage.since_ms, "until_ms": coverage.until_ms, "run_at_ms": now_ms,
        "air_since_ms": coverage.air_since_ms,
    }, coverage.until_ms)
    assert line is not None
    await store.write([line])
    forget_coverage(store)


def _series_lines(measurement: Measurement, series_list: list[Series],
                  ms: int | None) -> list[str]:
    """Points for each row of each series (at ``ms``, or at the row's own time)."""
    lines = []
    for one in series_list:
        for row in one.rows():
            fields = {name: value for name, value in row.items() if name != "time"}
            line = point_line(measurement, one.tags, fields,
                              int(row["time"]) if ms is None else ms)
            if line is not None:
                lines.append(line)
    return lines


async def _received_hour_lines(store: InfluxStore, window: TimeWindow) -> list[str]:
    statements = received_statements(3600)
    answers = await store.query([statement for _, statement in statements],
                                {"start": window.start_ns, "end": window.end_ns},
                                timeout_s=ROLLUP_TIMEOUT_S)
    lines: list[str] = []
    for (domain, _), series_list in zip(statements, answers, strict=True):
        tagged = [Series(s.name, {**s.tags, "domain": domain.value}, s.columns, s.values)
                  for s in series_list]
        lines += _series_lines(Measurement.RECEIVED_HOURLY, tagged, None)
    return lines


async def rollup_hours(store: InfluxStore, start_ms: int, end_ms: int) -> int:
    """Recompute and write the hours in [start_ms, end_ms) (hour-aligned) of every tier,
    then the London days they touch; lines written.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    written = await rollup_air(store, start_ms, end_ms, ROLLUP_TIMEOUT_S)
    for chunk in range(start_ms, end_ms, _CHUNK_MS):
        window = TimeWindow(chunk * NS_PER_MS, min(chunk + _CHUNK_MS, end_ms) * NS_PER_MS)
        energy, transport = await fetch_activity(store, window, 3600,
                                                 timeout_s=ROLLUP_TIMEOUT_S)
        lines = rollup_lines(energy, transport) + await _received_hour_lines(store, window)
        await store.write(lines)
        written += len(lines)
    if start_ms < end_ms:
        written += await rollup_days(store, start_ms, end_ms)
    return written


async def rollup_days(store: InfluxStore, start_ms: int, end_ms: int) -> int:
    """Recompute the daily tier for the London days touching [start_ms, end_ms) from the
    hourly tier (a day only partly rolled up is written too, and never read until whole
    inside coverage); lines written.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    sums = {domain: ", ".join(f"sum({name}) AS {name}" for name in fields)
            for domain, fields in (("energy", ACTIVITY_ENERGY_FIELDS),
                                   ("transport", ACTIVITY_TRANSPORT_FIELDS))}
    days = days_touching(start_ms, end_ms)
    written = 0
    for first in range(0, len(days), _DAYS_PER_REQUEST):
        chunk = days[first:first + _DAYS_PER_REQUEST]
        params: dict[str, QueryParam] = {}
        statements: list[str] = []
        for index, (day, following) in enumerate(chunk):
            params[f"s{index}"], params[f"e{index}"] = day * NS_PER_MS, following * NS_PER_MS
            bounds = f"time >= $s{index} AND time < $e{index}"
            statements += [
                *(f"SELECT {sums[domain]} FROM {HOURLY} "  # noqa: S608
                  f"WHERE domain = '{domain}' AND {bounds} GROUP BY {_ACTIVITY_TAGS}"
                  for domain in ("energy", "transport")),
                f"SELECT {RECEIVED_DAILY_SELECT} FROM {Measurement.RECEIVED_HOURLY} "  # noqa: S608
                f"WHERE {bounds} GROUP BY domain, sensor, site"]
        answers = await store.query(statements, params, own=True,  # the hourly tier
                                    timeout_s=ROLLUP_TIMEOUT_S)
        lines: list[str] = []
        for index, (day, _) in enumerate(chunk):
            energy, transport, received = answers[3 * index:3 * index + 3]
            lines += _series_lines(DAILY, energy + transport, day)
            lines += _series_lines(Measurement.RECEIVED_DAILY, received, day)
        await store.write(lines)
        written += len(lines)
    return written


async def backfill(store: InfluxStore, start_ms: int, end_ms: int, now_ms: int, *,
                   limit_ms: int | None = MAX_BACKFILL_MS) -> Coverage | None:
    """Roll up the complete hours touching [start_ms, end_ms), keeping coverage contiguous.

    Hours between the existing coverage and the new range are rolled up too, at most
    ``limit_ms`` in all (further back: in steps towards the coverage; None: no limit, for
    the command line).

    Raises:
        ParamError: more than ``limit_ms`` to roll up, gap included.
        StoreError: InfluxDB could not answer or refused the write.
    """
    lo, hi = floor_hour(start_ms), min(ceil_hour(end_ms), floor_hour(now_ms))
    if lo >= hi:
        return await read_coverage(store, fresh=True)
    ranges = [(lo, hi)]
    coverage = await read_coverage(store, fresh=True)
    if coverage is not None:
        if hi < coverage.since_ms:
            ranges.append((hi, coverage.since_ms))
        if lo > coverage.until_ms:
            ranges.append((coverage.until_ms, lo))
        lo, hi = min(lo, coverage.since_ms), max(hi, coverage.until_ms)
    hours = sum(last - first for first, last in ranges) // HOUR_MS
    if limit_ms is not None and hours * HOUR_MS > limit_ms:
        covered = ("" if coverage is None else f" (the rollups cover {format_ms(coverage.since_ms)}"
                   f" to {format_ms(coverage.until_ms)}, and the hours between are rolled up "
                   "too, so that coverage stays contiguous)")
        raise ParamError("start", f"this backfill would roll up {hours} hours{covered}; at "
                         f"most {limit_ms // HOUR_MS} in one request: backfill towards "
                         "the covered hours in steps", format_ms(start_ms))
    for first, last in ranges:
        await rollup_hours(store, first, last)
    gaps = [] if coverage is None else _air_gaps(coverage, *ranges[0])
    new = Coverage(lo, hi, await _catch_up_air(store, gaps, limit_ms, lo))
    await _write_coverage(store, new, now_ms)
    return new


def _air_gaps(coverage: Coverage, lo: int, hi: int) -> list[tuple[int, int]]:
    """The covered hours without air-quality rollups (rolled up before those tiers
    existed), outside [lo, hi), newest first."""
    air_since = (coverage.air() or (coverage.until_ms,))[0]
    gaps = [(max(coverage.since_ms, hi), air_since),
            (coverage.since_ms, min(air_since, lo))]
    return [(first, last) for first, last in gaps if first < last]


async def _catch_up_air(store: InfluxStore, gaps: list[tuple[int, int]],
                        budget_ms: int | None, floor_ms: int) -> int:
    """Roll up the air-quality tiers of ``gaps`` (newest first, at most ``budget_ms``;
    None: all); where their coverage starts now (``floor_ms`` once all are done)."""
    for first, last in gaps:
        take = last - first if budget_ms is None else min(budget_ms, last - first)
        if take <= 0:
            return last
        await rollup_air(store, last - take, last, ROLLUP_TIMEOUT_S)
        if budget_ms is not None:
            budget_ms -= take
        if take < last - first:
            return last - take
    return floor_ms


async def run_rollup(store: InfluxStore, settings: Settings, now_ms: int) -> Coverage:
    """The scheduled job: recompute the last ``rollup_lookback_h`` complete hours.

    A gap since the last run (the API was down) is filled when it is at most
    :data:`MAX_CATCHUP_MS`; a longer one restarts coverage at this run's first hour.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    end = floor_hour(now_ms)
    start = end - settings.rollup_lookback_h * HOUR_MS
    coverage = await read_coverage(store, fresh=True)
    if coverage is not None and coverage.until_ms < start <= coverage.until_ms + MAX_CATCHUP_MS:
        start = coverage.until_ms
    if coverage is not None and coverage.since_ms <= start <= coverage.until_ms:
        # Coverage recorded before the air-quality tiers existed has them from here on.
        air_since = min((coverage.air() or (start,))[0], start)
        air_since = await _catch_up_air(store, [(coverage.since_ms, air_since)],
                                        AIR_CATCHUP_MS, coverage.since_ms)
        new = Coverage(coverage.since_ms, max(end, coverage.until_ms), air_since)
    else:
        new = Coverage(start, end, start)
    lines = await rollup_hours(store, start, end)
    await _write_coverage(store, new, now_ms)
    logger.info("rolled up %d hour(s) into %d line(s); coverage %d..%d",
                (end - start) // HOUR_MS, lines, new.since_ms, new.until_ms)
    return new

"""Activity rollups, read side: coverage, and long windows read from hourly and daily rollups.

The tiers (``activity_hourly``, ``activity_daily``, ``received_*``; schema in
:mod:`sensors.storage`) are written by :mod:`api.activity.rollup_job`. A London day is read
from the daily tier when all its hours are inside the coverage recorded in
``activity_rollup_state``, the other whole hours inside it from the hourly tier, the rest
raw (docs/methodology.md, "Rollups").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from weakref import WeakKeyDictionary

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.raw import fetch_activity, places
from api.activity.scope import sensor_filter
from api.clock import (
    Interval,
    TimeWindow,
    ceil_hour,
    floor_hour,
    london_days,
    london_year,
    split_years,
)
from api.influx import InfluxStore, QueryParam, Series
from sensors.readings import Carrier
from sensors.storage import (
    ACTIVITY_ENERGY_FIELDS,
    ACTIVITY_TRANSPORT_FIELDS,
    ENERGY_KWH,
    READINGS,
    VEHICLE_CLASSES,
    Measurement,
    count_field,
    unattributed_field,
    vkm_field,
)
from sensors.timestamps import NS_PER_MS

HOURLY, DAILY = Measurement.ACTIVITY_HOURLY, Measurement.ACTIVITY_DAILY
# One request reads the coverage for each part of its answer, concurrently (/indicators:
# three times): one read serves them, remembered this long per store; the rollup job
# forgets it when it records a new coverage.
COVERAGE_MEMO_S = 1.0
_coverage_memo: WeakKeyDictionary[InfluxStore, tuple[float, asyncio.Task[Coverage | None]]] \
    = WeakKeyDictionary()
_STATEMENTS_PER_REQUEST = 200

Source = Literal["auto", "raw", "rollup"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """Hours [since_ms, until_ms) whose activity rollups are complete as of the last run,
    and [air_since_ms, until_ms) those of the air-quality tiers (None: none yet, the
    coverage was recorded before they existed)."""

    since_ms: int
    until_ms: int
    air_since_ms: int | None = None

    def air(self) -> tuple[int, int] | None:
        """The hours the air-quality tiers cover, or None."""
        if self.air_since_ms is None or self.air_since_ms >= self.until_ms:
            return None
        return self.air_since_ms, self.until_ms


@dataclass(frozen=True, slots=True)
class ActivityRead:
    """Activity for a window, and which part of it came from rollups (None: none)."""

    energy: list[EnergyActivity]
    transport: list[TransportActivity]
    rollup_span: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Plan:
    """How a window is read: raw edges, hourly rollups for [lo, hi) except the whole
    London days [day_lo, day_hi), read from daily rollups (empty when day_lo == day_hi)."""

    lo: int
    hi: int
    day_lo: int
    day_hi: int

    def hourly_parts(self) -> list[tuple[int, int]]:
        parts = [(self.lo, self.day_lo), (self.day_hi, self.hi)] if self.day_lo < self.day_hi \
            else [(self.lo, self.hi)]
        return [(a, b) for a, b in parts if a < b]

    def raw_parts(self, window: TimeWindow) -> list[TimeWindow]:
        parts = [TimeWindow(window.start_ns, self.lo * NS_PER_MS),
                 TimeWindow(self.hi * NS_PER_MS, window.end_ns)]
        return [part for part in parts if part.start_ns < part.end_ns]


def forget_coverage(store: InfluxStore) -> None:
    """Drop the remembered coverage (a run has just recorded a new one)."""
    _coverage_memo.pop(store, None)


async def read_coverage(store: InfluxStore, *, fresh: bool = False) -> Coverage | None:
    """The rolled-up range recorded by the last run, or None before any run; remembered
    for :data:`COVERAGE_MEMO_S` unless ``fresh``.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    now = time.monotonic()
    memo = _coverage_memo.get(store)
    if fresh or memo is None or now - memo[0] >= COVERAGE_MEMO_S or (
            memo[1].done() and memo[1].exception() is not None):
        memo = (now, asyncio.ensure_future(_query_coverage(store)))
        _coverage_memo[store] = memo
    return await asyncio.shield(memo[1])


async def _query_coverage(store: InfluxStore) -> Coverage | None:
    (series,) = await store.query([
        f"SELECT since_ms, until_ms, air_since_ms FROM {Measurement.ROLLUP_STATE} "  # noqa: S608
        "WHERE time >= 0 AND time < now() + 1d ORDER BY time DESC LIMIT 1"], own=True)
    for one in series:
        for row in one.rows():
            if row.get("since_ms") is not None and row.get("until_ms") is not None:
                air = row.get("air_since_ms")
                return Coverage(int(row["since_ms"]), int(row["until_ms"]),
                                None if air is None else int(air))
    return None


async def plan_read(store: InfluxStore, window: TimeWindow, source: Source,
                    days: bool) -> Plan | None:
    """The rollup plan for the window under ``source`` (None: read everything raw).

    ``days``: whether whole London days may come from the daily tier (the output buckets
    are days, months or the whole window).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    start_ms = -(-window.start_ns // NS_PER_MS)
    end_ms = window.end_ns // NS_PER_MS
    if source == "raw":
        return None
    coverage = await read_coverage(store)
    if coverage is None:
        return None
    lo = max(ceil_hour(start_ms), coverage.since_ms)
    hi = min(floor_hour(end_ms), coverage.until_ms)
    if lo >= hi:
        return None
    day_lo, day_hi = london_days(lo, hi) if days else (lo, lo)
    return Plan(lo, hi, day_lo, day_hi)


async def read_activity(store: InfluxStore, window: TimeWindow, interval: Interval | None,
                        source: Source, group_by: Sequence[str] | None = None) -> ActivityRead:
    """Activity in the window for ``interval`` (None: one bucket), raw or from rollups.

    ``raw`` reads raw data only. ``rollup`` and ``auto`` read the window's complete hours
    inside the coverage from rollups (whole London days from the daily tier when the
    buckets are days, months or the whole window) and the rest raw; ``rollup`` refuses
    buckets under an hour, which ``auto`` reads raw. Raw and rollups give the same
    activity (to float rounding) when the rollups are current; long windows must come
    from rollups on InfluxDB 3, which limits the files one query may read
    (docs/storage.md).

    ``group_by``: the keys the caller will group by (None: all). Rollups and raw readings
    are then summed by InfluxDB across the sensors (and sites) the keys do not name, per
    domain and carrier (factors depend on the carrier or class and the bucket's year only),
    so that activity has ``site`` / ``sensor`` "" when not asked for.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    grain_s = interval.query_s if interval else None
    plan = None
    if grain_s in (None, 3600):
        days = interval is None or interval.kind in ("day", "month")
        plan = await plan_read(store, window, source, days)
    if plan is None:
        energy, transport = await fetch_activity(store, window, grain_s, group_by)
        return ActivityRead(energy, transport, None)
    spans: list[_Span] = []
    for lo, hi in plan.hourly_parts():
        spans += [(HOURLY, *span) for span in _spans(lo, hi, interval)]
    if plan.day_lo < plan.day_hi:
        if interval is not None and interval.kind == "day":
            spans.append((DAILY, EACH, plan.day_lo, plan.day_hi))
        else:
            spans += [(DAILY, *span)
                      for span in _spans(plan.day_lo, plan.day_hi, interval)]
    tags = ", ".join(["domain", "carrier", *places(group_by)])
    energy, transport = await _read_rollups(store, spans, tags)
    for part in plan.raw_parts(window):
        more_energy, more_transport = await fetch_activity(store, part, grain_s, group_by)
        energy += more_energy
        transport += more_transport
    return ActivityRead(energy, transport, (plan.lo, plan.hi))


EACH = -1  # a span whose points are the buckets (hours of 1h, days of 1d): no sum
_Span = tuple[str, int | None, int, int]  # measurement, bucket (None: none; EACH), start, end


def _spans(lo: int, hi: int, interval: Interval | None) -> list[tuple[int | None, int, int]]:
    """[lo, hi) cut into the pieces summed separately: output buckets, or London years."""
    if interval is not None and interval.kind == "fixed":
        return [(EACH, lo, hi)]  # 1h buckets are the rollup's own hours
    if interval is None:
        return [(None, part.start_ns // NS_PER_MS, part.end_ns // NS_PER_MS)
                for part in split_years(TimeWindow(lo * NS_PER_MS, hi * NS_PER_MS))]
    spans: list[tuple[int | None, int, int]] = []
    start = lo
    while start < hi:
        bucket = interval.bucket_start_ms(start)
        end = min(interval.bucket_end_ms(bucket), hi)
        spans.append((bucket, start, end))
        start = end
    return spans


def rollup_statement(measurement: str, domain: str, fields: tuple[str, ...], index: int,
                     each: bool, tags: str) -> str:
    """One domain's fields from a rollup tier in [$s<index>, $e<index>), summed per ``tags``.

    Only that domain's fields are read (InfluxDB decodes every field it is asked for).
    ``each``: summed per point time instead of over the span (every point of either tier
    starts a UTC hour, so ``GROUP BY time(1h)`` buckets are the points' own times).
    """
    selected = ", ".join(f"sum({name}) AS {name}" for name in fields)
    group = f"time(1h), {tags} fill(none)" if each else tags
    return (f"SELECT {selected} FROM {measurement} "  # noqa: S608
            f"WHERE domain = '{domain}' AND time >= $s{index} AND time < $e{index}"
            f"{sensor_filter()[0]} GROUP BY {group}")


async def _read_rollups(store: InfluxStore, spans: list[_Span], tags: str
                        ) -> tuple[list[EnergyActivity], list[TransportActivity]]:
    energy: list[EnergyActivity] = []
    transport: list[TransportActivity] = []
    carriers = {carrier.value: carrier for carrier in Carrier}
    per_request = _STATEMENTS_PER_REQUEST // 2
    for first in range(0, len(spans), per_request):
        chunk = spans[first:first + per_request]
        params: dict[str, QueryParam] = dict(sensor_filter()[1])
        statements = []
        for index, (measurement, bucket, start, end) in enumerate(chunk):
            params[f"s{index}"], params[f"e{index}"] = start * NS_PER_MS, end * NS_PER_MS
            statements += [
                rollup_statement(measurement, "energy", ACTIVITY_ENERGY_FIELDS, index,
                                 bucket == EACH, tags),
                rollup_statement(measurement, "transport", ACTIVITY_TRANSPORT_FIELDS, index,
                                 bucket == EACH, tags)]
        answers = await store.query(statements, params, own=True)
        for index, (_, bucket, start, _) in enumerate(chunk):
            for one in answers[2 * index] + answers[2 * index + 1]:
                _rollup_series(one, bucket, start, carriers, energy, transport)
    return energy, transport


def _rollup_series(one: Series, span_bucket: int | None, start: int,
                   carriers: dict[str, Carrier], energy: list[EnergyActivity],
                   transport: list[TransportActivity]) -> None:
    site, sensor = one.tags.get("site", ""), one.tags.get("sensor", "")
    domain, carrier = one.tags.get("domain", ""), carriers.get(one.tags.get("carrier", ""))
    for row in one.rows():
        bucket = int(row["time"]) if span_bucket == EACH else span_bucket
        year = london_year(bucket if bucket is not None else start)
        readings = int(row.get(READINGS) or 0)
        if domain == "energy" and carrier is not None:
            energy.append(EnergyActivity(bucket, site, sensor, carrier,
                                         float(row.get(ENERGY_KWH) or 0.0), year, readings))
        elif domain == "transport":
            transport.extend(
                TransportActivity(bucket, site, sensor, vc,
                                  float(row.get(vkm_field(vc)) or 0.0),
                                  int(row.get(count_field(vc)) or 0),
                                  int(row.get(unattributed_field(vc)) or 0), year, readings)
                for vc in VEHICLE_CLASSES)

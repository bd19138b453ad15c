"""Activity rollups, write side: the scheduled job and on-demand backfills.

:func:`rollup_hours` recomputes hours from raw data into ``activity_hourly`` and
``received_hourly``, then every London day those hours touch into ``activity_daily`` and
``received_daily`` from the hourly tier. Rewriting a point overwrites it (same series and
timestamp), so recomputing is idempotent. Each scheduled run recomputes the last
``rollup_lookback_h`` complete hours (and so their days); later readings reach rollups
through :func:`backfill` (docs/methodology.md, "Rollups"). Reading: :mod:`api.rollups`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from api.errors import StoreQueryError, StoreUnavailableError
from api.indicator_queries import RECEIVED_DAILY_SELECT, received_statements
from api.indicators import EnergyActivity, TransportActivity
from api.params import NS_PER_MS, TimeWindow
from api.queries import fetch_activity
from api.rollups import (
    DAILY_MEASUREMENT,
    DAY,
    ENERGY_FIELDS,
    FLOAT_FIELDS,
    HOUR_MS,
    RECEIVED_DAILY,
    RECEIVED_HOURLY,
    ROLLUP_MEASUREMENT,
    STATE_MEASUREMENT,
    TRANSPORT_FIELDS,
    Coverage,
    ceil_hour,
    floor_hour,
    read_coverage,
)
from api.store import InfluxStore, QueryParam, Series, auth_for
from sensors.readings import VehicleClass
from sensors.settings import Settings

logger = logging.getLogger(__name__)

MAX_CATCHUP_MS = 7 * 24 * HOUR_MS  # a scheduled run fills a gap up to this long, else restarts
_CHUNK_MS = 24 * HOUR_MS
_BATCH_LINES = 5000
_DAYS_PER_REQUEST = 50
_CLASSES = tuple(VehicleClass)
_ACTIVITY_TAGS = "site, sensor, domain, carrier"


def rollup_lines(energy: Iterable[EnergyActivity],
                 transport: Iterable[TransportActivity]) -> list[str]:
    """Line protocol (precision ms) for hourly activity (every ``bucket_ms`` set)."""
    lines = [
        f"{ROLLUP_MEASUREMENT},carrier={m.carrier.value},domain=energy,sensor={_tag(m.sensor)},"
        f"site={_tag(m.site)} energy_kwh={float(m.energy_kwh)!r},readings={m.readings}i "
        f"{m.bucket_ms}"
        for m in energy
    ]
    by_sensor: dict[tuple[int, str, str], list[TransportActivity]] = {}
    for t in transport:
        by_sensor.setdefault((t.bucket_ms or 0, t.site, t.sensor), []).append(t)
    for (bucket, site, sensor), classes in by_sensor.items():
        fields = [f"readings={classes[0].readings}i"]
        for t in classes:
            vc = t.vehicle_class.value
            fields += [f"count_{vc}={t.counts}i", f"vkm_{vc}={float(t.vehicle_km)!r}",
                       f"unattributed_{vc}={t.unattributed_counts}i"]
        lines.append(f"{ROLLUP_MEASUREMENT},domain=transport,sensor={_tag(sensor)},"
                     f"site={_tag(site)} {','.join(fields)} {bucket}")
    return lines


def point_line(measurement: str, tags: Mapping[str, str], fields: Mapping[str, Any],
               ms: int) -> str | None:
    """One point (precision ms); None-valued fields and empty tags are left out, fields
    named in :data:`api.rollups.FLOAT_FIELDS` are floats, the rest integers. None when no
    field has a value."""
    values = [f"{name}={float(value)!r}" if name in FLOAT_FIELDS else f"{name}={int(value)}i"
              for name, value in fields.items() if value is not None and name != "time"]
    if not values:
        return None
    head = ",".join([measurement, *(f"{key}={_tag(value)}"
                                    for key, value in sorted(tags.items()) if value)])
    return f"{head} {','.join(values)} {ms}"


def _tag(value: str) -> str:
    # Sites and sensors are slugs today; escape anyway so a bad tag cannot break a batch.
    return value.replace("\\", "\\\\").replace(",", r"\,").replace("=", r"\=").replace(" ", r"\ ")


async def write_lines(client: httpx.AsyncClient, settings: Settings, lines: list[str]) -> None:
    """Write lines (precision ms) to the settings' database.

    Raises:
        StoreUnavailableError: InfluxDB unreachable or 5xx.
        StoreQueryError: InfluxDB refused the write.
    """
    _, auth = auth_for(settings)
    for first in range(0, len(lines), _BATCH_LINES):
        body = "\n".join(lines[first:first + _BATCH_LINES]).encode()
        try:
            response = await client.post(
                "/write", params={**auth, "db": settings.influx_database, "precision": "ms"},
                content=body)
        except httpx.HTTPError as exc:
            raise StoreUnavailableError(f"InfluxDB is unreachable ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise StoreUnavailableError(f"InfluxDB answered HTTP {response.status_code}")
        if response.status_code != 204:
            raise StoreQueryError(
                f"InfluxDB refused a rollup write (HTTP {response.status_code}): "
                f"{response.text[:300]}")


async def _write_coverage(client: httpx.AsyncClient, settings: Settings, coverage: Coverage,
                          now_ms: int) -> None:
    # Timestamped at `until` (which never decreases), so the latest point is the state.
    await write_lines(client, settings, [
        f"{STATE_MEASUREMENT} since_ms={coverage.since_ms}i,until_ms={coverage.until_ms}i,"
        f"run_at_ms={now_ms}i {coverage.until_ms}"])


def _series_lines(measurement: str, series_list: list[Series], ms: int | None) -> list[str]:
    """Points for each row of each series (at ``ms``, or at the row's own time)."""
    lines = []
    for one in series_list:
        for row in one.rows():
            line = point_line(measurement, one.tags, row,
                              int(row["time"]) if ms is None else ms)
            if line is not None:
                lines.append(line)
    return lines


async def _received_hour_lines(store: InfluxStore, window: TimeWindow) -> list[str]:
    statements = received_statements(3600)
    answers = await store.query([statement for _, statement in statements],
                                {"start": window.start_ns, "end": window.end_ns})
    lines: list[str] = []
    for (domain, _), series_list in zip(statements, answers, strict=True):
        tagged = [Series(s.name, {**s.tags, "domain": domain.value}, s.columns, s.values)
                  for s in series_list]
        lines += _series_lines(RECEIVED_HOURLY, tagged, None)
    return lines


async def rollup_hours(store: InfluxStore, client: httpx.AsyncClient, settings: Settings,
                       start_ms: int, end_ms: int) -> int:
    """Recompute and write the hours in [start_ms, end_ms) (hour-aligned), then the London
    days they touch; lines written.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    written = 0
    for chunk in range(start_ms, end_ms, _CHUNK_MS):
        window = TimeWindow(chunk * NS_PER_MS, min(chunk + _CHUNK_MS, end_ms) * NS_PER_MS)
        energy, transport = await fetch_activity(store, window, 3600)
        lines = rollup_lines(energy, transport) + await _received_hour_lines(store, window)
        await write_lines(client, settings, lines)
        written += len(lines)
    if start_ms < end_ms:
        written += await rollup_days(store, client, settings, start_ms, end_ms)
    return written


def _days(start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """The London days [midnight, next midnight) touching [start_ms, end_ms)."""
    days = []
    day = DAY.bucket_start_ms(start_ms)
    while day < end_ms:
        following = DAY.bucket_end_ms(day)
        days.append((day, following))
        day = following
    return days


async def rollup_days(store: InfluxStore, client: httpx.AsyncClient, settings: Settings,
                      start_ms: int, end_ms: int) -> int:
    """Recompute the daily tier for the London days touching [start_ms, end_ms) from the
    hourly tier (a day only partly rolled up is written too, and never read until whole
    inside coverage); lines written.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    sums = {domain: ", ".join(f"sum({name}) AS {name}" for name in fields)
            for domain, fields in (("energy", ENERGY_FIELDS), ("transport", TRANSPORT_FIELDS))}
    days = _days(start_ms, end_ms)
    written = 0
    for first in range(0, len(days), _DAYS_PER_REQUEST):
        chunk = days[first:first + _DAYS_PER_REQUEST]
        params: dict[str, QueryParam] = {}
        statements: list[str] = []
        for index, (day, following) in enumerate(chunk):
            params[f"s{index}"], params[f"e{index}"] = day * NS_PER_MS, following * NS_PER_MS
            bounds = f"time >= $s{index} AND time < $e{index}"
            statements += [
                *(f"SELECT {sums[domain]} FROM {ROLLUP_MEASUREMENT} "  # noqa: S608
                  f"WHERE domain = '{domain}' AND {bounds} GROUP BY {_ACTIVITY_TAGS}"
                  for domain in ("energy", "transport")),
                f"SELECT {RECEIVED_DAILY_SELECT} FROM {RECEIVED_HOURLY} "  # noqa: S608
                f"WHERE {bounds} GROUP BY domain, sensor, site"]
        answers = await store.query(statements, params)
        lines: list[str] = []
        for index, (day, _) in enumerate(chunk):
            energy, transport, received = answers[3 * index:3 * index + 3]
            lines += _series_lines(DAILY_MEASUREMENT, energy + transport, day)
            lines += _series_lines(RECEIVED_DAILY, received, day)
        await write_lines(client, settings, lines)
        written += len(lines)
    return written


async def backfill(store: InfluxStore, client: httpx.AsyncClient, settings: Settings,
                   start_ms: int, end_ms: int, now_ms: int) -> Coverage | None:
    """Roll up the complete hours touching [start_ms, end_ms), keeping coverage contiguous.

    Hours between the existing coverage and the new range are rolled up too.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    lo, hi = floor_hour(start_ms), min(ceil_hour(end_ms), floor_hour(now_ms))
    if lo >= hi:
        return await read_coverage(store)
    ranges = [(lo, hi)]
    coverage = await read_coverage(store)
    if coverage is not None:
        if hi < coverage.since_ms:
            ranges.append((hi, coverage.since_ms))
        if lo > coverage.until_ms:
            ranges.append((coverage.until_ms, lo))
        lo, hi = min(lo, coverage.since_ms), max(hi, coverage.until_ms)
    for first, last in ranges:
        await rollup_hours(store, client, settings, first, last)
    new = Coverage(lo, hi)
    await _write_coverage(client, settings, new, now_ms)
    return new


async def run_rollup(store: InfluxStore, client: httpx.AsyncClient, settings: Settings,
                     now_ms: int) -> Coverage:
    """The scheduled job: recompute the last ``rollup_lookback_h`` complete hours.

    A gap since the last run (the API was down) is filled when it is at most
    :data:`MAX_CATCHUP_MS`; a longer one restarts coverage at this run's first hour.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    end = floor_hour(now_ms)
    start = end - settings.rollup_lookback_h * HOUR_MS
    coverage = await read_coverage(store)
    if coverage is not None and coverage.until_ms < start <= coverage.until_ms + MAX_CATCHUP_MS:
        start = coverage.until_ms
    if coverage is not None and coverage.since_ms <= start <= coverage.until_ms:
        new = Coverage(coverage.since_ms, max(end, coverage.until_ms))
    else:
        new = Coverage(start, end)
    lines = await rollup_hours(store, client, settings, start, end)
    await _write_coverage(client, settings, new, now_ms)
    logger.info("rolled up %d hour(s) into %d line(s); coverage %d..%d",
                (end - start) // HOUR_MS, lines, new.since_ms, new.until_ms)
    return new

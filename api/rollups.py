"""Hourly activity rollups: computed from raw readings, written back, read for long windows.

``activity_hourly`` holds, per hour (timestamp = hour start, UTC) and sensor, exactly what
:func:`api.queries.fetch_activity` reads from raw data at a one-hour grain: tags ``site``,
``sensor``, ``domain`` (and ``carrier`` for energy); fields ``energy_kwh`` or
``count_<class>`` (counts on links of known length), ``vkm_<class>`` and
``unattributed_<class>``, and ``readings``. Rewriting an hour overwrites it (same series
and timestamp), so recomputing is idempotent.

Coverage: ``activity_rollup_state`` records the contiguous hours [since, until) rolled
up; only those are read from rollups, the rest (cut edge hours, hours after the last run)
raw. Each run recomputes the last ``rollup_lookback_h`` complete hours; later readings
reach rollups through :func:`backfill` (docs/methodology.md, "Rollups").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import httpx

from api.errors import StoreQueryError, StoreUnavailableError
from api.indicators import EnergyActivity, TransportActivity
from api.params import NS_PER_MS, Interval, TimeWindow, london_year, split_years
from api.queries import fetch_activity
from api.store import InfluxStore, QueryParam, Series, auth_for
from sensors.readings import Carrier, VehicleClass
from sensors.settings import Settings

logger = logging.getLogger(__name__)

ROLLUP_MEASUREMENT = "activity_hourly"
STATE_MEASUREMENT = "activity_rollup_state"
HOUR_MS = 3_600_000
AUTO_ROLLUP_MIN_MS = 2 * 24 * HOUR_MS  # source=auto reads rollups for windows longer than this
MAX_CATCHUP_MS = 7 * 24 * HOUR_MS  # a scheduled run fills a gap up to this long, else restarts
_CHUNK_MS = 24 * HOUR_MS
_BATCH_LINES = 5000
_CLASSES = tuple(VehicleClass)

Source = Literal["auto", "raw", "rollup"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """Hours [since_ms, until_ms) whose rollups are complete as of the last run."""

    since_ms: int
    until_ms: int


@dataclass(frozen=True, slots=True)
class ActivityRead:
    """Activity for a window, and which part of it came from rollups (None: none)."""

    energy: list[EnergyActivity]
    transport: list[TransportActivity]
    rollup_span: tuple[int, int] | None


def floor_hour(ms: int) -> int:
    """The start of the UTC (and London) clock hour holding ``ms``."""
    return ms - ms % HOUR_MS


def ceil_hour(ms: int) -> int:
    """The first hour boundary at or after ``ms``."""
    return -(-ms // HOUR_MS) * HOUR_MS


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


async def read_coverage(store: InfluxStore) -> Coverage | None:
    """The rolled-up range recorded by the last run, or None before any run.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    (series,) = await store.query([
        f"SELECT since_ms, until_ms FROM {STATE_MEASUREMENT} "  # noqa: S608
        "WHERE time >= 0 AND time < now() + 1d ORDER BY time DESC LIMIT 1"])
    for one in series:
        for row in one.rows():
            if row.get("since_ms") is not None and row.get("until_ms") is not None:
                return Coverage(int(row["since_ms"]), int(row["until_ms"]))
    return None


async def _write_coverage(client: httpx.AsyncClient, settings: Settings, coverage: Coverage,
                          now_ms: int) -> None:
    # Timestamped at `until` (which never decreases), so the latest point is the state.
    await write_lines(client, settings, [
        f"{STATE_MEASUREMENT} since_ms={coverage.since_ms}i,until_ms={coverage.until_ms}i,"
        f"run_at_ms={now_ms}i {coverage.until_ms}"])


async def rollup_hours(store: InfluxStore, client: httpx.AsyncClient, settings: Settings,
                       start_ms: int, end_ms: int) -> int:
    """Recompute and write the hours in [start_ms, end_ms) (hour-aligned); lines written.

    Raises:
        StoreError: InfluxDB could not answer or refused the write.
    """
    written = 0
    for chunk in range(start_ms, end_ms, _CHUNK_MS):
        window = TimeWindow(chunk * NS_PER_MS, min(chunk + _CHUNK_MS, end_ms) * NS_PER_MS)
        energy, transport = await fetch_activity(store, window, 3600)
        lines = rollup_lines(energy, transport)
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


async def read_activity(store: InfluxStore, window: TimeWindow, interval: Interval | None,
                        source: Source) -> ActivityRead:
    """Activity in the window for ``interval`` (None: one bucket), raw or from rollups.

    ``raw`` reads raw data only. ``rollup`` reads the window's complete hours inside the
    coverage from rollups and the rest raw; ``auto`` does so for windows longer than two
    days. Both give the same activity (to float rounding) when the rollups are current.
    Rollups are summed by InfluxDB per output bucket (London day, month, clock block or
    year), so a long window returns one row per sensor and bucket, not per hour.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    grain_s = interval.query_s if interval else None
    start_ms = -(-window.start_ns // NS_PER_MS)
    end_ms = window.end_ns // NS_PER_MS
    usable = grain_s in (None, 3600) and (
        source == "rollup" or (source == "auto" and end_ms - start_ms > AUTO_ROLLUP_MIN_MS))
    coverage = await read_coverage(store) if usable else None
    if coverage is not None:
        lo = max(ceil_hour(start_ms), coverage.since_ms)
        hi = min(floor_hour(end_ms), coverage.until_ms)
        if lo < hi:
            energy, transport = await _read_rollups(store, _spans(lo, hi, interval))
            for part in (TimeWindow(window.start_ns, lo * NS_PER_MS),
                         TimeWindow(hi * NS_PER_MS, window.end_ns)):
                if part.start_ns < part.end_ns:
                    more_energy, more_transport = await fetch_activity(store, part, grain_s)
                    energy += more_energy
                    transport += more_transport
            return ActivityRead(energy, transport, (lo, hi))
    energy, transport = await fetch_activity(store, window, grain_s)
    return ActivityRead(energy, transport, None)


_Span = tuple[int | None, int, int]  # bucket (None: none; HOURLY: each hour), start, end ms
HOURLY = -1


def _spans(lo: int, hi: int, interval: Interval | None) -> list[_Span]:
    """[lo, hi) cut into the pieces summed separately: output buckets, or London years."""
    if interval is not None and interval.kind == "fixed":
        return [(HOURLY, lo, hi)]  # 1h buckets are the rollup's own hours
    if interval is None:
        return [(None, part.start_ns // NS_PER_MS, part.end_ns // NS_PER_MS)
                for part in split_years(TimeWindow(lo * NS_PER_MS, hi * NS_PER_MS))]
    spans: list[_Span] = []
    start = lo
    while start < hi:
        bucket = interval.bucket_start_ms(start)
        end = min(interval.bucket_end_ms(bucket), hi)
        spans.append((bucket, start, end))
        start = end
    return spans


async def _read_rollups(store: InfluxStore, spans: list[_Span]
                        ) -> tuple[list[EnergyActivity], list[TransportActivity]]:
    energy: list[EnergyActivity] = []
    transport: list[TransportActivity] = []
    carriers = {carrier.value: carrier for carrier in Carrier}
    for first in range(0, len(spans), _STATEMENTS_PER_REQUEST):
        chunk = spans[first:first + _STATEMENTS_PER_REQUEST]
        params: dict[str, QueryParam] = {}
        statements = []
        for index, (bucket, start, end) in enumerate(chunk):
            params[f"s{index}"], params[f"e{index}"] = start * NS_PER_MS, end * NS_PER_MS
            hours = "time(1h), " if bucket == HOURLY else ""
            statements.append(
                f"SELECT {_SUMS} FROM {ROLLUP_MEASUREMENT} "  # noqa: S608
                f"WHERE time >= $s{index} AND time < $e{index} "
                f"GROUP BY {hours}site, sensor, domain, carrier fill(none)")
        answers = await store.query(statements, params)
        for (bucket, start, _), series in zip(chunk, answers, strict=True):
            for one in series:
                _rollup_series(one, bucket, start, carriers, energy, transport)
    return energy, transport


_STATEMENTS_PER_REQUEST = 200
_SUMS = ", ".join(
    [f"sum({name}) AS {name}" for name in ("energy_kwh", "readings")]
    + [f"sum({kind}_{vc.value}) AS {kind}_{vc.value}"
       for vc in _CLASSES for kind in ("count", "vkm", "unattributed")])


def _rollup_series(one: Series, span_bucket: int | None, start: int,
                   carriers: dict[str, Carrier], energy: list[EnergyActivity],
                   transport: list[TransportActivity]) -> None:
    site, sensor = one.tags.get("site", ""), one.tags.get("sensor", "")
    domain, carrier = one.tags.get("domain", ""), carriers.get(one.tags.get("carrier", ""))
    for row in one.rows():
        bucket = int(row["time"]) if span_bucket == HOURLY else span_bucket
        year = london_year(bucket if bucket is not None else start)
        readings = int(row.get("readings") or 0)
        if domain == "energy" and carrier is not None:
            energy.append(EnergyActivity(bucket, site, sensor, carrier,
                                         float(row.get("energy_kwh") or 0.0), year, readings))
        elif domain == "transport":
            transport.extend(
                TransportActivity(bucket, site, sensor, vc,
                                  float(row.get(f"vkm_{vc.value}") or 0.0),
                                  int(row.get(f"count_{vc.value}") or 0),
                                  int(row.get(f"unattributed_{vc.value}") or 0), year, readings)
                for vc in _CLASSES)

"""Readings received per sensor in a window: the inputs of data completeness.

For each sensor: how many readings are stored, the ``interval_s`` it reported and the
range and count of its ``seq`` (:func:`api.carbon.completeness.completeness`), from raw
readings or the ``received_*`` rollups. Names come from :mod:`sensors.storage`; the time
bounds are bound parameters; every statement is bounded in time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from api.activity.rollups import Source, plan_read
from api.clock import TimeWindow
from api.influx import InfluxStore, QueryParam, Series
from sensors.readings import AIR_QUALITY_FIELDS
from sensors.storage import ENERGY_KWH, INTERVAL_S, SEQ, Measurement, received_count_field
from sensors.timestamps import NS_PER_MS
from sensors.topics import Domain

RECEIVED_HOURLY, RECEIVED_DAILY = Measurement.RECEIVED_HOURLY, Measurement.RECEIVED_DAILY


@dataclass(frozen=True, slots=True)
class StoredReadings:
    """What the store holds for one sensor in the window."""

    domain: str
    sensor: str
    site: str
    received: int
    reported_interval_s: int | None = None
    seq_min: int | None = None
    seq_max: int | None = None
    seq_count: int = 0

_WINDOW = "time >= $start AND time < $end"
_SEQ = f"min({SEQ}) AS seq_min, max({SEQ}) AS seq_max, count({SEQ}) AS seq_count"
_AQ_COUNTS = ", ".join(f"count({name}) AS {received_count_field(name)}"
                       for name in AIR_QUALITY_FIELDS)
# The columns of a received row: summed across time pieces, except these.
_LAST, _MIN, _MAX = "interval_s", "seq_min", "seq_max"

# Assembled from this module's constants only (S608 is a false positive): the window
# travels as the bound parameters $start and $end.
_RAW_SELECTS = (
    # energy_kwh and interval_s are required in every energy and transport reading, so
    # counting one of them counts the points (replays overwrite, so points = readings).
    (Domain.ENERGY,
     f"SELECT count({ENERGY_KWH}) AS received, last({INTERVAL_S}) AS interval_s, "  # noqa: S608
     f"{_SEQ} FROM {Measurement.ENERGY} WHERE {_WINDOW} "),
    (Domain.TRANSPORT,
     f"SELECT count({INTERVAL_S}) AS received, last({INTERVAL_S}) AS interval_s, "  # noqa: S608
     f"{_SEQ} FROM {Measurement.TRANSPORT} WHERE {_WINDOW} "),
    # Air quality has no field every reading carries: the largest per-field count (or the
    # seq count) is a lower bound, exact when a monitor sends the same fields each time.
    (Domain.AIR_QUALITY,
     f"SELECT {_AQ_COUNTS}, {_SEQ} FROM {Measurement.AIR_QUALITY} WHERE {_WINDOW} "),  # noqa: S608
)


def received_statements(interval_s: int | None = None) -> list[tuple[Domain, str]]:
    """The raw statements per domain, per sensor and site (and ``interval_s`` bucket)."""
    group = ("GROUP BY sensor, site" if interval_s is None
             else f"GROUP BY time({interval_s}s), sensor, site fill(none)")
    return [(domain, select + group) for domain, select in _RAW_SELECTS]


RECEIVED_STATEMENTS = tuple(received_statements())
_AQ_SUMS = ", ".join(f"sum(n_{name}) AS n_{name}" for name in AIR_QUALITY_FIELDS)
_SEQ_ROLLED = "min(seq_min) AS seq_min, max(seq_max) AS seq_max, sum(seq_count) AS seq_count"
RECEIVED_ROLLED = (
    (Domain.ENERGY, "sum(received) AS received, last(interval_s) AS interval_s, "
     + _SEQ_ROLLED),
    (Domain.TRANSPORT, "sum(received) AS received, last(interval_s) AS interval_s, "
     + _SEQ_ROLLED),
    (Domain.AIR_QUALITY, f"{_AQ_SUMS}, {_SEQ_ROLLED}"),
)
# Every column a received rollup point may hold, and how a day combines its hours.
RECEIVED_DAILY_SELECT = ", ".join(
    [f"sum({name}) AS {name}" for name in ("received", "seq_count",
                                           *(f"n_{f}" for f in AIR_QUALITY_FIELDS))]
    + ["last(interval_s) AS interval_s", "min(seq_min) AS seq_min",
       "max(seq_max) AS seq_max"])


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _received(domain: Domain, row: dict[str, Any]) -> int:
    if domain is Domain.AIR_QUALITY:
        counts = [row.get(f"n_{name}") for name in AIR_QUALITY_FIELDS] + [row.get("seq_count")]
        return max((int(count) for count in counts if count is not None), default=0)
    return int(row.get("received") or 0)


def _merge(old: StoredReadings, new: StoredReadings) -> StoredReadings:
    """One sensor found under two site tags (it moved): add its readings up."""
    mins = [seq for seq in (old.seq_min, new.seq_min) if seq is not None]
    maxes = [seq for seq in (old.seq_max, new.seq_max) if seq is not None]
    return StoredReadings(
        domain=old.domain, sensor=old.sensor, site=old.site,
        received=old.received + new.received,
        reported_interval_s=old.reported_interval_s or new.reported_interval_s,
        seq_min=min(mins) if mins else None, seq_max=max(maxes) if maxes else None,
        seq_count=old.seq_count + new.seq_count,
    )


def stored_readings(domain: Domain, series_list: list[Series]) -> list[StoredReadings]:
    """Map one statement's answer to per-sensor counts (sorted by site within a sensor)."""
    found: dict[str, StoredReadings] = {}
    for series in sorted(series_list, key=lambda s: (s.tags.get("sensor", ""),
                                                       s.tags.get("site", ""))):
        sensor = series.tags.get("sensor", "")
        for row in series.rows():
            one = StoredReadings(
                domain=domain.value, sensor=sensor, site=series.tags.get("site", ""),
                received=_received(domain, row),
                reported_interval_s=_int(row.get("interval_s")),
                seq_min=_int(row.get("seq_min")), seq_max=_int(row.get("seq_max")),
                seq_count=_int(row.get("seq_count")) or 0,
            )
            found[sensor] = _merge(found[sensor], one) if sensor in found else one
    return [found[sensor] for sensor in sorted(found) if sensor]


async def fetch_received(store: InfluxStore, window: TimeWindow,
                         source: Source = "raw") -> list[StoredReadings]:
    """Readings stored per sensor in the window, in every domain (one request).

    With ``source`` rollup or auto the whole hours inside the
    rollup coverage are read from ``received_daily`` / ``received_hourly`` (whole London
    days / remaining hours) and the cut edges raw; the pieces are combined exactly
    (counts summed, seq range widened, the latest ``interval_s`` kept), so the answer is
    the raw one as long as the rollups are current.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    plan = await plan_read(store, window, source, days=True)
    pieces: list[tuple[str | None, int, int]] = []  # table (None: raw), start, end ns
    if plan is None:
        pieces.append((None, window.start_ns, window.end_ns))
    else:
        raw = plan.raw_parts(window)
        pieces += [(None, part.start_ns, part.end_ns) for part in raw]
        pieces += [(RECEIVED_HOURLY, a * NS_PER_MS, b * NS_PER_MS)
                   for a, b in plan.hourly_parts()]
        if plan.day_lo < plan.day_hi:
            pieces.append((RECEIVED_DAILY, plan.day_lo * NS_PER_MS, plan.day_hi * NS_PER_MS))
        pieces.sort(key=lambda piece: piece[1])
    # Raw pieces from the readings' database, rolled-up ones from the API's own: two
    # requests, answers put back in time order before they are combined.
    requests: dict[bool, tuple[list[str], list[tuple[int, Domain]]]] = {False: ([], []),
                                                                        True: ([], [])}
    params: dict[str, QueryParam] = {}
    for index, (table, start_ns, end_ns) in enumerate(pieces):
        params[f"s{index}"], params[f"e{index}"] = start_ns, end_ns
        bounds = f"time >= $s{index} AND time < $e{index}"
        statements, order = requests[table is not None]
        if table is None:
            for domain, statement in RECEIVED_STATEMENTS:
                statements.append(statement.replace(_WINDOW, bounds))
                order.append((index, domain))
        else:
            for domain, select in RECEIVED_ROLLED:
                statements.append(
                    f"SELECT {select} FROM {table} "  # noqa: S608
                    f"WHERE domain = '{domain.value}' AND {bounds} GROUP BY sensor, site")
                order.append((index, domain))
    asked = [(own, order) for own, (statements, order) in requests.items() if statements]
    replies = await asyncio.gather(*(store.query(requests[own][0], params, own=own)
                                     for own, _ in asked))
    answered = [(index, domain, series)
                for (_, order), answers in zip(asked, replies, strict=True)
                for (index, domain), series in zip(order, answers, strict=True)]
    answered.sort(key=lambda one: one[0])
    merged: dict[Domain, dict[tuple[str, str], dict[str, Any]]] = {d: {} for d in Domain}
    for _, domain, series_list in answered:  # pieces in time order
        for series in series_list:
            key = (series.tags.get("sensor", ""), series.tags.get("site", ""))
            for row in series.rows():
                old = merged[domain].get(key)
                merged[domain][key] = row if old is None else merge_received(old, row)
    return [one for domain in Domain for one in stored_readings(domain, [
        Series(domain.value, {"sensor": sensor, "site": site}, tuple(row), (tuple(row.values()),))
        for (sensor, site), row in merged[domain].items()])]


def merge_received(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """Two consecutive time pieces of one sensor's received row, combined exactly."""
    out: dict[str, Any] = {}
    for name in {**earlier, **later}:
        a, b = earlier.get(name), later.get(name)
        if a is None or b is None or name == "time":
            out[name] = a if b is None else b
        elif name == _LAST:
            out[name] = b
        elif name == _MIN:
            out[name] = min(a, b)
        elif name == _MAX:
            out[name] = max(a, b)
        else:
            out[name] = a + b
    return out

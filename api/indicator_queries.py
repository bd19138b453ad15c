"""InfluxQL for ``GET /api/v1/indicators`` beyond :func:`api.queries.fetch_activity`.

Readings received per sensor in a window, the ``interval_s`` it reported and the range
and count of its ``seq``: the inputs of :func:`api.kpis.completeness`. Measurement and
field names come from this module's constants; the time bounds are bound parameters;
every statement is bounded in time.
"""

from __future__ import annotations

from typing import Any

from api.kpis import StoredReadings
from api.params import NS_PER_MS, TimeWindow
from api.rollups import RECEIVED_DAILY, RECEIVED_HOURLY, Source, plan_read
from api.store import InfluxStore, QueryParam, Series
from sensors.readings import AIR_QUALITY_FIELDS
from sensors.topics import Domain

_WINDOW = "time >= $start AND time < $end"
_SEQ = "min(seq) AS seq_min, max(seq) AS seq_max, count(seq) AS seq_count"
_AQ_COUNTS = ", ".join(f"count({name}) AS n_{name}" for name in AIR_QUALITY_FIELDS)
# The columns of a received row: summed across time pieces, except these.
_LAST, _MIN, _MAX = "interval_s", "seq_min", "seq_max"

# Assembled from this module's constants only (S608 is a false positive): the window
# travels as the bound parameters $start and $end.
_RAW_SELECTS = (
    # energy_kwh and interval_s are required in every energy and transport reading, so
    # counting one of them counts the points (replays overwrite, so points = readings).
    (Domain.ENERGY,
     f"SELECT count(energy_kwh) AS received, last(interval_s) AS interval_s, {_SEQ} "  # noqa: S608
     f"FROM energy WHERE {_WINDOW} "),
    (Domain.TRANSPORT,
     f"SELECT count(interval_s) AS received, last(interval_s) AS interval_s, {_SEQ} "  # noqa: S608
     f"FROM transport WHERE {_WINDOW} "),
    # Air quality has no field every reading carries: the largest per-field count (or the
    # seq count) is a lower bound, exact when a monitor sends the same fields each time.
    (Domain.AIR_QUALITY,
     f"SELECT {_AQ_COUNTS}, {_SEQ} FROM air_quality WHERE {_WINDOW} "),  # noqa: S608
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

    With ``source`` rollup (or auto, for windows over two days) the hours inside the
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
    statements: list[str] = []
    domains: list[Domain] = []
    params: dict[str, QueryParam] = {}
    for index, (table, start_ns, end_ns) in enumerate(pieces):
        params[f"s{index}"], params[f"e{index}"] = start_ns, end_ns
        bounds = f"time >= $s{index} AND time < $e{index}"
        if table is None:
            for domain, statement in RECEIVED_STATEMENTS:
                statements.append(statement.replace(_WINDOW, bounds))
                domains.append(domain)
        else:
            for domain, select in RECEIVED_ROLLED:
                statements.append(
                    f"SELECT {select} FROM {table} "  # noqa: S608
                    f"WHERE domain = '{domain.value}' AND {bounds} GROUP BY sensor, site")
                domains.append(domain)
    answers = await store.query(statements, params)
    merged: dict[Domain, dict[tuple[str, str], dict[str, Any]]] = {d: {} for d in Domain}
    for domain, series_list in zip(domains, answers, strict=True):  # pieces in time order
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

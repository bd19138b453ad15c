"""InfluxQL for ``GET /api/v1/indicators`` beyond :func:`api.queries.fetch_activity`.

Readings received per sensor in a window, the ``interval_s`` it reported and the range
and count of its ``seq``: the inputs of :func:`api.kpis.completeness`. Measurement and
field names come from this module's constants; the time bounds are bound parameters;
every statement is bounded in time.
"""

from __future__ import annotations

from typing import Any

from api.kpis import StoredReadings
from api.params import TimeWindow
from api.store import InfluxStore, Series
from sensors.readings import AIR_QUALITY_FIELDS
from sensors.topics import Domain

_WINDOW = "time >= $start AND time < $end"
_SEQ = "min(seq) AS seq_min, max(seq) AS seq_max, count(seq) AS seq_count"
_AQ_COUNTS = ", ".join(f"count({name}) AS n_{name}" for name in AIR_QUALITY_FIELDS)

# Assembled from this module's constants only (S608 is a false positive): the window
# travels as the bound parameters $start and $end.
RECEIVED_STATEMENTS = (
    # energy_kwh and interval_s are required in every energy and transport reading, so
    # counting one of them counts the points (replays overwrite, so points = readings).
    (Domain.ENERGY,
     f"SELECT count(energy_kwh) AS received, last(interval_s) AS interval_s, {_SEQ} "  # noqa: S608
     f"FROM energy WHERE {_WINDOW} GROUP BY sensor, site"),
    (Domain.TRANSPORT,
     f"SELECT count(interval_s) AS received, last(interval_s) AS interval_s, {_SEQ} "  # noqa: S608
     f"FROM transport WHERE {_WINDOW} GROUP BY sensor, site"),
    # Air quality has no field every reading carries: the largest per-field count (or the
    # seq count) is a lower bound, exact when a monitor sends the same fields each time.
    (Domain.AIR_QUALITY,
     f"SELECT {_AQ_COUNTS}, {_SEQ} FROM air_quality WHERE {_WINDOW} "  # noqa: S608
     "GROUP BY sensor, site"),
)


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


async def fetch_received(store: InfluxStore, window: TimeWindow) -> list[StoredReadings]:
    """Readings stored per sensor in the window, in every domain (one request).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    answers = await store.query(
        [statement for _, statement in RECEIVED_STATEMENTS],
        {"start": window.start_ns, "end": window.end_ns},
    )
    return [
        one
        for (domain, _), series_list in zip(RECEIVED_STATEMENTS, answers, strict=True)
        for one in stored_readings(domain, series_list)
    ]

"""The latest reading of every sensor found in InfluxDB (within a bounded lookback).

Two query forms (timed at 30,000 series on influxd 1.6: README, "Scale of the network"):

- the look-back (:func:`fetch_lookback`): each series' newest point over 30 days
  (``ORDER BY time DESC LIMIT 1`` GROUP BY site, sensor), one statement per measurement,
  sent one at a time. One raw statement reads every air-quality field, where ``last()``
  needed one statement per field to keep each reading's time: at 30,000 sensors with 30
  minutes of minute readings, 1.2-1.4 s for the three against 1.9-2.5 s for the ten
  ``last()`` statements (same run, quiet machine). InfluxDB 3 applies ``LIMIT`` per group
  too;
- the recent readings (:func:`fetch_since`): raw points of a short window without GROUP BY,
  the latest per sensor picked here. A look-back over a short window still walks every
  series (about 5 s at 30,000 sensors); the raw form costs what the window holds.

:mod:`api.network.last_seen_index` keeps the answer between requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.influx import InfluxStore, QueryParam, Series
from api.network.seq_gaps import SeqPoint, seq_points
from sensors.readings import AIR_QUALITY_FIELDS
from sensors.storage import INTERVAL_S, SEQ, Measurement
from sensors.timestamps import NS_PER_MS
from sensors.topics import Domain

LAST_SEEN_LOOKBACK = "30d"
LOOKBACK_MS = 30 * 86_400_000
AHEAD_MS = 86_400_000
"""Readings up to a day ahead of the clock count (a device whose clock runs fast)."""
_WINDOW = "time > $start AND time < $end"
# One sensor's latest reading however old it is: bounded by the epoch and tomorrow.
_EVER = "sensor = $sensor AND time >= 0 AND time < now() + 1d"
READING_MEASUREMENTS = (Measurement.ENERGY, Measurement.TRANSPORT, Measurement.AIR_QUALITY)
READING_DOMAINS = (Domain.ENERGY, Domain.TRANSPORT, Domain.AIR_QUALITY)


@dataclass(frozen=True, slots=True)
class LastSeen:
    """The latest reading of a sensor found in the database."""

    sensor: str
    site: str
    domain: Domain
    time_ms: int
    interval_s: int | None
    carrier: str | None


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def last_seen_statements(where: str = _WINDOW) -> list[str]:
    """Latest reading per sensor in each measurement (bounded to the lookback): the newest
    point of each series that carries ``interval_s`` (energy, transport) or any
    air-quality field, with its own time."""
    newest_first = "ORDER BY time DESC LIMIT 1"
    return [
        f"SELECT {INTERVAL_S} FROM {Measurement.ENERGY} WHERE {where} "  # noqa: S608
        f"GROUP BY site, sensor, carrier {newest_first}",
        f"SELECT {INTERVAL_S} FROM {Measurement.TRANSPORT} WHERE {where} "  # noqa: S608
        f"GROUP BY site, sensor {newest_first}",
        f"SELECT {', '.join(AIR_QUALITY_FIELDS)} FROM {Measurement.AIR_QUALITY} "  # noqa: S608
        f"WHERE {where} GROUP BY site, sensor {newest_first}",
    ]


def recent_statements() -> list[str]:
    """Every reading in ``$start < time < $end``, with its tags as columns (no GROUP BY).

    The same readings as :func:`last_seen_statements` (energy and transport readings
    carrying ``interval_s``, air-quality ones carrying any of their fields), with ``seq``
    for :mod:`api.network.seq_gaps`.
    """
    air = ", ".join(AIR_QUALITY_FIELDS)
    return [
        f"SELECT {INTERVAL_S}, {SEQ}, site, sensor, carrier FROM {Measurement.ENERGY} "  # noqa: S608
        f"WHERE {_WINDOW}",
        f"SELECT {INTERVAL_S}, {SEQ}, site, sensor FROM {Measurement.TRANSPORT} "  # noqa: S608
        f"WHERE {_WINDOW}",
        f"SELECT {air}, {SEQ}, site, sensor FROM {Measurement.AIR_QUALITY} "  # noqa: S608
        f"WHERE {_WINDOW}",
    ]


def window(start_ms: int, end_ms: int) -> dict[str, QueryParam]:
    """The bound parameters of ``$start < time < $end``."""
    return {"start": start_ms * NS_PER_MS, "end": end_ms * NS_PER_MS}


def newest(latest: dict[str, LastSeen], seen: LastSeen) -> None:
    """Keep ``seen`` when it is the sensor's first or newer than the one kept (the first
    of equal times stays)."""
    kept = latest.get(seen.sensor)
    if seen.sensor and (kept is None or seen.time_ms > kept.time_ms):
        latest[seen.sensor] = seen


def _from_groups(answers: Iterable[list[Series]], latest: dict[str, LastSeen]) -> None:
    for domain, series_list in zip(READING_DOMAINS, answers, strict=True):
        for series in series_list:
            for row in series.rows():
                newest(latest, LastSeen(
                    sensor=series.tags.get("sensor", ""), site=series.tags.get("site", ""),
                    domain=domain, time_ms=int(row["time"]),
                    interval_s=_int(row.get("interval_s")) or None,
                    carrier=series.tags.get("carrier"),
                ))


async def fetch_last_seen(store: InfluxStore, sensor: str | None = None, *,
                          now_ms: int | None = None) -> dict[str, LastSeen]:
    """The latest reading of every sensor seen within :data:`LAST_SEEN_LOOKBACK` of
    ``now_ms`` (InfluxDB's clock when None), in one request; with ``sensor``, that sensor's
    latest reading however old (a sensor with readings is known).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    if sensor is not None:
        answers = await store.query(last_seen_statements(_EVER), {"sensor": sensor})
    elif now_ms is None:
        answers = await store.query(last_seen_statements(
            f"time > now() - {LAST_SEEN_LOOKBACK} AND time < now() + 1d"))
    else:
        answers = await store.query(last_seen_statements(),
                                    window(now_ms - LOOKBACK_MS, now_ms + AHEAD_MS))
    latest: dict[str, LastSeen] = {}
    _from_groups(answers, latest)
    return latest


async def fetch_lookback(store: InfluxStore, now_ms: int,
                         timeout_s: float) -> dict[str, LastSeen]:
    """:func:`fetch_last_seen` for every sensor, one statement per request, each allowed
    ``timeout_s``.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    params = window(now_ms - LOOKBACK_MS, now_ms + AHEAD_MS)
    answers = [(await store.query([statement], params, timeout_s=timeout_s))[0]
               for statement in last_seen_statements()]
    latest: dict[str, LastSeen] = {}
    _from_groups(answers, latest)
    return latest


async def fetch_since(store: InfluxStore, since_ms: int, now_ms: int,
                      seqs: list[SeqPoint] | None = None) -> dict[str, LastSeen]:
    """The latest reading of each sensor among those timed after ``since_ms`` (and before
    a day ahead of ``now_ms``); ``seqs`` receives every one of those readings' seq.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    answers = await store.query(recent_statements(), window(since_ms, now_ms + AHEAD_MS))
    latest: dict[str, LastSeen] = {}
    for domain, series_list in zip(READING_DOMAINS, answers, strict=True):
        for series in series_list:
            rows = list(series.rows())
            if seqs is not None:
                seqs += seq_points(rows)
            for row in rows:
                newest(latest, LastSeen(
                    sensor=str(row.get("sensor") or ""), site=str(row.get("site") or ""),
                    domain=domain, time_ms=int(row["time"]),
                    interval_s=_int(row.get(INTERVAL_S)) or None,
                    # As GROUP BY gives it: energy's tag ("" when missing), else none.
                    carrier=str(row.get("carrier") or "") if domain is Domain.ENERGY else None,
                ))
    return latest


def expire(seen: Mapping[str, LastSeen], now_ms: int) -> dict[str, LastSeen]:
    """Only the readings still within the look-back of ``now_ms``."""
    oldest = now_ms - LOOKBACK_MS
    return {sensor: last for sensor, last in seen.items() if last.time_ms > oldest}


async def site_in_data(store: InfluxStore, site: str) -> bool:
    """Whether any reading (energy, transport, air quality) carries the site tag.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    statements = [f'SHOW TAG VALUES FROM {m} WITH KEY = "site" WHERE site = $site'
                  for m in READING_MEASUREMENTS]
    answers = await store.query(statements, {"site": site})
    return any(row.get("value") == site for series in answers for one in series
               for row in one.rows())

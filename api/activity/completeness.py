"""Data completeness: the share of expected readings received in a window. Pure; no I/O.

Formulas: docs/methodology.md ("Indicators", data completeness). The inputs are
:class:`api.activity.received.StoredReadings`, one per sensor; shares are rounded to
6 decimals, expected counts to 3 (:mod:`api.precision`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.activity.received import StoredReadings
from api.activity.scope import expected
from api.precision import kg, total
from api.precision import share as share_of
from sensors.registry import Registry
from sensors.topics import Domain


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None (JSON ``null``, "no data") when the denominator
    is zero: never NaN, an infinity or an error."""
    return numerator / denominator if denominator else None


COMPLETENESS_METHOD = (
    "expected = window seconds / interval_s per sensor (registry interval; for sensors "
    "not in the registry the last interval_s they reported in the window; air-quality "
    "sensors outside the registry report none and are left out); received = readings "
    "stored in the window (energy: energy_kwh, transport: interval_s, air quality: the "
    "largest count of any one field or seq); share = sum(min(received, expected)) / "
    "sum(expected), capped per sensor so that one sensor reporting too often cannot hide "
    "another's gaps; share_uncapped = sum(received) / sum(expected); lost = "
    "(max(seq) - min(seq) + 1) - count(seq) within the window, for sensors that send seq"
)


def lost_messages(stored: StoredReadings) -> int | None:
    """Messages missing between the first and last ``seq`` seen; None without seq.

    Also None when seq went backwards or repeated (fewer numbers spanned than
    received, e.g. a sensor restart): then no estimate is honest.
    """
    if not stored.seq_count or stored.seq_min is None or stored.seq_max is None:
        return None
    lost = stored.seq_max - stored.seq_min + 1 - stored.seq_count
    return lost if lost >= 0 else None


def _sensor_entry(stored: StoredReadings, registered: bool, interval_s: int | None,
                  window_s: float) -> dict[str, Any]:
    expected = kg(window_s / interval_s) if interval_s else None
    seq = None
    if stored.seq_count:
        seq = {"first": stored.seq_min, "last": stored.seq_max, "received": stored.seq_count,
               "lost": lost_messages(stored)}
    share = None if expected is None else ratio(stored.received, expected)
    return {
        "sensor": stored.sensor, "site": stored.site, "domain": stored.domain,
        "registered": registered, "interval_s": interval_s,
        "interval_source": None if interval_s is None else
        ("registry" if registered else "reported"),
        "expected": expected, "received": stored.received,
        "share": None if share is None else share_of(min(share, 1.0)),
        "share_uncapped": share_of(share), "seq": seq,
    }


def _aggregate(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    counted = [entry for entry in entries if entry["expected"] is not None]
    expected = total(entry["expected"] for entry in counted)
    received = sum(entry["received"] for entry in counted)
    capped = total(min(entry["received"], entry["expected"]) for entry in counted)
    losses = [entry["seq"]["lost"] for entry in counted
              if entry["seq"] is not None and entry["seq"]["lost"] is not None]
    share = ratio(capped, expected)
    return {
        "sensors": len(counted), "expected": expected, "received": received,
        "received_capped": capped,
        "share": None if share is None else share_of(min(share, 1.0)),
        "share_uncapped": share_of(ratio(received, expected)),
        "lost_messages": sum(losses), "sensors_with_seq": len(losses),
    }


def completeness(registry: Registry, stored: Iterable[StoredReadings],
                 window_s: float) -> dict[str, Any]:
    """Share of expected readings received in a window of ``window_s`` seconds.

    Every registered sensor is expected (a silent one counts with 0 received); sensors
    not in the registry count when they reported an ``interval_s`` in the window.
    """
    found = {(one.domain, one.sensor): one for one in stored if expected(one.sensor)}
    entries: list[dict[str, Any]] = []
    for sensor in (one for one in registry.sensors if expected(one.id)):
        key = (sensor.domain.value, sensor.id)
        one = found.pop(key, None) or StoredReadings(sensor.domain.value, sensor.id,
                                                     sensor.site, 0)
        entries.append(_sensor_entry(one, True, sensor.interval_s, window_s))
    for key in sorted(found):
        one = found[key]
        entries.append(_sensor_entry(one, False, one.reported_interval_s, window_s))
    return {
        **_aggregate(entries),
        "by_domain": {domain.value: _aggregate(e for e in entries
                                               if e["domain"] == domain.value)
                      for domain in Domain},
        "without_interval": [e["sensor"] for e in entries if e["expected"] is None],
        "method": COMPLETENESS_METHOD,
        "per_sensor": entries,
    }

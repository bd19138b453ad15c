"""SenML JSON packs (RFC 8428), published on ``<prefix>/senml/<anything>``.

A pack is a JSON array of records. Base fields (``bn`` name, ``bt`` time, ``bu`` unit,
``bv`` value, ``bs`` sum) apply to their record and every later one until a record sets
them again (RFC 8428, 4.1 and 4.6). Resolved (4.6): name = ``bn`` + ``n``, time =
``bt`` + ``t``, unit = ``u`` else ``bu``, value = ``bv`` + ``v`` (or ``bs`` + ``s`` for a
record that carries only a sum).

Here the device is the resolved base name ``bn`` and a device's fields are its records'
``n`` (without the base name), so one pack may carry several devices and several times:
each (device, time) becomes one observation, and a later record with the same name and
time replaces an earlier one. Times are seconds since the epoch. RFC 8428 reads a time
below 2**28 as relative to "now"; such a time is refused (``timestamp_invalid``): a
redelivered or replayed message would otherwise be stored at a different time. String,
boolean and data values (``vs``, ``vb``, ``vd``) are kept, so a field mapped to one is a
``field_type`` problem, not a missing one. No seq.
"""

from __future__ import annotations

import math
from typing import Any

from sensors.formats.observation import NotReading, Observation, TimeProblem, bad, load_json
from sensors.readings import MAX_TS_MS
from sensors.reasons import DeadLetterReason

RELATIVE_TIME_LIMIT = 2**28
_OTHER_VALUES = ("vs", "vb", "vd")


def _number(record: dict[str, Any], key: str, index: int) -> float | int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(DeadLetterReason.FIELD_TYPE, f"record {index}: {key} is not a number")
    return value


def _text(record: dict[str, Any], key: str, index: int) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise bad(DeadLetterReason.FIELD_TYPE, f"record {index}: {key} is not a string")
    return value


def _time(seconds: float, index: int) -> int | TimeProblem:
    if not math.isfinite(seconds) or seconds < RELATIVE_TIME_LIMIT:
        return (DeadLetterReason.TIMESTAMP_INVALID,
                f"record {index}: time {seconds!r} is relative to now (below 2**28 s); "
                "send bt/t as seconds since the epoch")
    ms = round(seconds * 1000)
    if ms >= MAX_TS_MS:
        return DeadLetterReason.TIMESTAMP_INVALID, f"record {index}: time is after 2200"
    return ms


def parse_senml(topic: str, wildcards: tuple[str, ...], payload: bytes
                ) -> list[Observation] | NotReading:
    """One observation per device and time in the pack.

    Raises:
        InvalidReadingError: not a JSON array of objects, or a field of the wrong type.
    """
    pack = load_json(payload)
    if not isinstance(pack, list):
        raise bad(DeadLetterReason.PAYLOAD_NOT_OBJECT,
                  "a SenML pack is a JSON array of records")
    if not pack:
        return NotReading("senml:empty-pack")
    base_name, base_time, base_unit, base_value, base_sum = "", 0.0, None, 0.0, 0.0
    groups: dict[tuple[str, int | TimeProblem], tuple[dict[str, Any], dict[str, str]]] = {}
    for index, record in enumerate(pack):
        if not isinstance(record, dict):
            raise bad(DeadLetterReason.PAYLOAD_NOT_OBJECT, f"record {index} is not an object")
        if (name := _text(record, "bn", index)) is not None:
            base_name = name
        if (number := _number(record, "bt", index)) is not None:
            base_time = float(number)
        if "bu" in record:
            base_unit = _text(record, "bu", index)
        if (number := _number(record, "bv", index)) is not None:
            base_value = float(number)
        if (number := _number(record, "bs", index)) is not None:
            base_sum = float(number)
        field = _text(record, "n", index) or ""
        value = _number(record, "v", index)
        total = _number(record, "s", index)
        other = next((record[key] for key in _OTHER_VALUES if key in record), None)
        if value is not None:
            resolved: Any = base_value + value if base_value else value
        elif total is not None:
            resolved = base_sum + total if base_sum else total
        elif other is not None:
            resolved = other
        else:
            continue  # a record of base fields only
        offset = _number(record, "t", index) or 0
        when = _time(base_time + offset, index)
        unit = _text(record, "u", index) or base_unit
        values, units = groups.setdefault((base_name, when), ({}, {}))
        values[field] = resolved
        if unit:
            units[field] = unit
    if not groups:
        return NotReading("senml:no-values")
    observations = []
    for (device_id, when), (values, units) in groups.items():
        ts_ms, problem = (when, None) if isinstance(when, int) else (None, when)
        observations.append(Observation(
            device_id=device_id, values=values, values_name=f"the records of {device_id!r}",
            ts_ms=ts_ms, time_problem=problem, units=units))
    return observations

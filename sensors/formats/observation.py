"""What a format parser yields, and the helpers every parser shares. Pure.

A parser turns one message into :class:`Observation` s (one device at one time each; a
SenML pack may hold several devices and times) or into :class:`NotReading` (a join, an
event, a state report: counted and ignored). A problem with the message as a whole raises
:class:`sensors.errors.InvalidReadingError`; a problem with one observation's time is kept
on it (``time_problem``), so that the device is looked up first and the dead letter is
tagged with its domain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from sensors.errors import InvalidReadingError
from sensors.readings import MAX_TS_MS
from sensors.reasons import DeadLetterReason
from sensors.timestamps import NS_PER_MS, parse_rfc3339_ns

#: A device format's message may carry more metadata than a contract payload (a TTN uplink
#: heard by many gateways, a Shelly full status): a larger bound, still bounded.
MAX_FORMAT_PAYLOAD_BYTES = 256 * 1024

TimeProblem = tuple[DeadLetterReason, str]


@dataclass(frozen=True, slots=True)
class Observation:
    """One device's values at one time, as a format's message carries them.

    Attributes:
        device_id: the device as the message names it (matched against the devices file).
        values: where the device's ``fields`` paths start.
        values_name: what the format's documentation calls ``values`` (for messages).
        ts_ms: the time, epoch milliseconds, when the message gave one with an offset.
        local_time: a time without an offset (Tasmota), read in the device's time zone.
        time_problem: why the time could not be read (the dead-letter reason and detail).
        seq: the message counter, when the format has one.
        units: SenML's unit per record name.
        partial: a Shelly ``NotifyStatus``: a component it leaves out is unchanged, not
            missing.
    """

    device_id: str
    values: Mapping[str, Any]
    values_name: str
    ts_ms: int | None = None
    local_time: str | None = None
    time_problem: TimeProblem | None = None
    seq: int | None = None
    units: Mapping[str, str] | None = None
    partial: bool = False


@dataclass(frozen=True, slots=True)
class NotReading:
    """A message of a format's topic that is not a reading (counted by ``kind``, ignored)."""

    kind: str


def bad(reason: DeadLetterReason, detail: str) -> InvalidReadingError:
    """Shorthand for the error of a bad message."""
    return InvalidReadingError(reason, detail)


def load_json(payload: bytes) -> Any:
    """The JSON value of a payload.

    Raises:
        InvalidReadingError: ``payload_too_large``, ``payload_not_utf8``, ``payload_not_json``.
    """
    if len(payload) > MAX_FORMAT_PAYLOAD_BYTES:
        raise bad(DeadLetterReason.PAYLOAD_TOO_LARGE,
                  f"payload is {len(payload)} bytes, the limit is {MAX_FORMAT_PAYLOAD_BYTES}")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            raise bad(DeadLetterReason.PAYLOAD_NOT_UTF8, "payload is not UTF-8") from None
        raise bad(DeadLetterReason.PAYLOAD_NOT_JSON, f"payload is not JSON: {exc}") from None


def load_object(payload: bytes) -> dict[str, Any]:
    """The JSON object of a payload (see :func:`load_json`; also ``payload_not_object``)."""
    data = load_json(payload)
    if not isinstance(data, dict):
        raise bad(DeadLetterReason.PAYLOAD_NOT_OBJECT,
                  f"payload is JSON {type(data).__name__}, not an object")
    return data


def dig(data: Mapping[str, Any], *keys: str) -> Any:
    """``data[k1][k2]...``, or None where a level is absent or not an object."""
    current: Any = data
    for key in keys:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def rfc3339_ms(value: Any, where: str) -> int | TimeProblem:
    """Epoch ms of an RFC 3339 time with an offset, or the problem with it."""
    if value is None:
        return DeadLetterReason.FIELD_MISSING, f"{where}: the time is missing"
    if not isinstance(value, str):
        return DeadLetterReason.TIMESTAMP_INVALID, f"{where}: the time is not a string"
    try:
        return parse_rfc3339_ns(value) // NS_PER_MS
    except ValueError as exc:
        return DeadLetterReason.TIMESTAMP_INVALID, f"{where}: {value!r} {exc}"


def epoch_seconds_ms(value: Any, where: str) -> int | TimeProblem:
    """Epoch ms of a time in (possibly fractional) epoch seconds, or the problem with it."""
    if value is None:
        return DeadLetterReason.FIELD_MISSING, f"{where}: the time is missing"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return DeadLetterReason.TIMESTAMP_INVALID, f"{where}: {value!r} is not epoch seconds"
    ms = round(value * 1000)
    if not 0 <= ms < MAX_TS_MS:
        return DeadLetterReason.TIMESTAMP_INVALID, f"{where}: is outside 1970-01-01 .. 2200-01-01"
    return ms


def counter(value: Any) -> int | None:
    """A frame counter: a non-negative integer, or None when absent or of the wrong kind
    (the contract's ``seq`` is optional; a broken counter must not lose the reading)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def split_time(result: int | TimeProblem) -> tuple[int | None, TimeProblem | None]:
    """``(ts_ms, None)`` or ``(None, problem)``."""
    return (result, None) if isinstance(result, int) else (None, result)

"""An observation and its device become a section 2 payload (a :class:`Candidate`). Pure.

Every mapped path must be there (contract 7.3: absent or null is ``field_missing``) unless
the devices file marks it ``optional`` (an extension: then it is left out, as section 2
lets a reading leave out an optional field). One more exception: a Shelly ``NotifyStatus``
leaves out the components that did not change, so a field whose component is left out is
"unchanged": such a field is simply not in the reading, and a reading whose required
field is unchanged is no reading at all (it is counted and ignored). A value is converted
(SenML unit, then ``scale``) and otherwise left as the device sent it, so that
:func:`sensors.validation.validate_object` judges it exactly as the section 2 field it
becomes (a string is ``field_type``, and so on).

A cumulative device's ``energy_kwh`` is its register's reading: the candidate carries it
as ``register_kwh`` and leaves ``energy_kwh`` and ``interval_s`` to the ingestor, which knows
the device's previous reading (:mod:`sensors.formats.cumulative`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sensors.errors import InvalidReadingError
from sensors.formats.devices import (
    COUNT_PREFIX,
    SEQ_FIELD,
    TS_FIELD,
    Device,
    FieldMap,
)
from sensors.formats.observation import NotReading, Observation, bad
from sensors.formats.paths import MISSING, resolve
from sensors.formats.units import accepted, conversion
from sensors.readings import MAX_TS_MS, VehicleClass
from sensors.reasons import DeadLetterReason
from sensors.timestamps import NS_PER_MS, parse_rfc3339_ns
from sensors.topics import Domain

_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?")
_INTEGER_TARGETS = frozenset({"interval_s"})
_REQUIRED: dict[Domain, frozenset[str]] = {Domain.ENERGY: frozenset({"energy_kwh"})}
_UNCHANGED = object()


@dataclass(frozen=True, slots=True)
class Candidate:
    """One reading of a device, as a section 2 payload not yet validated.

    Attributes:
        device: the devices-file entry.
        payload: ``ts``, ``seq`` and the mapped fields, in section 2's shape.
        register_kwh: a cumulative device's register reading (kWh), else None.
    """

    device: Device
    payload: dict[str, Any]
    register_kwh: float | None = None

    @property
    def ts_ms(self) -> int:
        """The reading's time, epoch milliseconds."""
        ts: int = self.payload["ts"]
        return ts


def local_time_ms(text: str, device: Device) -> int:
    """Epoch ms of a time without an offset, in the device's zone (one with an offset is
    read as it says).

    Raises:
        InvalidReadingError: ``timestamp_invalid``.
    """
    try:
        if _LOCAL_TIME.fullmatch(text):
            moment = datetime.fromisoformat(text).replace(tzinfo=device.zone)
            ms = round(moment.timestamp() * 1000)
        else:
            ms = parse_rfc3339_ns(text) // NS_PER_MS
    except ValueError as exc:
        raise bad(DeadLetterReason.TIMESTAMP_INVALID, f"time {text!r}: {exc}") from None
    if not 0 <= ms < MAX_TS_MS:
        raise bad(DeadLetterReason.TIMESTAMP_INVALID, "time is outside 1970-01-01 .. 2200-01-01")
    return ms


def _time(device: Device, observation: Observation) -> int:
    if observation.time_problem is not None:
        raise InvalidReadingError(*observation.time_problem)
    if observation.local_time is not None:
        return local_time_ms(observation.local_time, device)
    if observation.ts_ms is None:
        raise bad(DeadLetterReason.FIELD_MISSING, "the message has no time")
    return observation.ts_ms


def _convert(one: FieldMap, value: Any, observation: Observation) -> Any:
    """Apply the SenML unit and the device's scale; leave anything not a number as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not math.isfinite(value):
        raise bad(DeadLetterReason.VALUE_NOT_FINITE, f"fields.{one.target}: {value!r}")
    converted: float | int = value
    unit = observation.units.get(one.path[0]) if observation.units else None
    if unit is not None:
        how = conversion(one.target, unit)
        if how is None:
            raise bad(DeadLetterReason.FIELD_TYPE,
                      f"fields.{one.target}: unit {unit!r} is not one of "
                      f"{', '.join(accepted(one.target)) or 'none'}")
        factor, offset = how
        if (factor, offset) != (1.0, 0.0):
            converted = value * factor + offset
    if one.scale is not None:
        converted = converted * one.scale
    if converted is not value:
        # 15 significant digits (what a double holds): 1480.2 W x 0.001 is 1.4802 kW, not
        # the product's 1.4802000000000002.
        converted = float(f"{converted:.15g}")
    if (converted is not value and isinstance(converted, float) and converted.is_integer()
            and (one.target in _INTEGER_TARGETS or one.target.startswith(COUNT_PREFIX))):
        converted = int(converted)  # 60000 ms * 0.001 is the integer 60, not 60.0
    return converted


def _lookup(one: FieldMap, observation: Observation) -> Any:
    if observation.partial and one.path[0] not in observation.values:
        return _UNCHANGED
    value = resolve(observation.values, one.path)
    if value is MISSING:
        return MISSING
    return _convert(one, value, observation)


def _missing(one: FieldMap, observation: Observation) -> InvalidReadingError:
    return bad(DeadLetterReason.FIELD_MISSING,
               f"fields.{one.target}: {one.shown} is absent from {observation.values_name}")


def _register(one: FieldMap, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(DeadLetterReason.FIELD_TYPE,
                  f"fields.{one.target}: the register {one.shown} is not a number")
    if value < 0:
        raise bad(DeadLetterReason.VALUE_OUT_OF_RANGE,
                  f"fields.{one.target}: the register {one.shown} is negative ({value})")
    return float(value)


def map_observation(device: Device, observation: Observation) -> Candidate | NotReading:
    """The candidate reading of ``observation``, or NotReading for a status change that
    leaves the required fields unchanged.

    Raises:
        InvalidReadingError: the time, a missing mapped path, a non-finite value, a unit
            the field does not accept, a register that is not a non-negative number.
    """
    ts_ms = _time(device, observation)
    payload: dict[str, Any] = {"ts": ts_ms}
    if observation.seq is not None:
        payload["seq"] = observation.seq
    if device.carrier is not None:
        # The member, not its value: validate_object's Python-side validation is strict and
        # takes only a Carrier (a string would send the reading the slow way, through JSON).
        payload["carrier"] = device.carrier
    # Air-quality readings have no interval_s; a cumulative one's is its register's.
    if (device.interval_s is not None and not device.cumulative
            and device.domain is not Domain.AIR_QUALITY):
        payload["interval_s"] = device.interval_s
    required = _REQUIRED.get(device.domain, frozenset())
    register: float | None = None
    counts: dict[VehicleClass, Any] = {}
    mapped = unchanged = 0
    for one in device.field_maps:
        if one.target in (TS_FIELD, SEQ_FIELD):
            continue
        value = _lookup(one, observation)
        if value is _UNCHANGED:
            unchanged += 1
            if one.target in required:
                return NotReading(f"{device.format.value}:unchanged")
            continue
        if value is MISSING:
            if one.optional:
                continue
            raise _missing(one, observation)
        mapped += 1
        if one.cumulative:
            register = _register(one, value)
        elif one.target.startswith(COUNT_PREFIX):
            # A VehicleClass key, as for carrier (the devices file admits only its classes).
            counts[VehicleClass(one.target.removeprefix(COUNT_PREFIX))] = value
        else:
            payload[one.target] = value
    counted = bool(counts) or device.domain is not Domain.TRANSPORT
    if unchanged and (not mapped or not counted):
        return NotReading(f"{device.format.value}:unchanged")  # only unchanged components
    if device.domain is Domain.TRANSPORT:
        payload["counts"] = counts  # classes left out are 0, as in section 2
    return Candidate(device, payload, register)

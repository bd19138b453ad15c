"""Decode a payload into a reading, naming the dead-letter reason when it is bad input."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from sensors.errors import InvalidReadingError
from sensors.readings import MAX_PAYLOAD_BYTES, MODEL_BY_DOMAIN, Reading
from sensors.reasons import DeadLetterReason
from sensors.topics import Domain

_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal",
                 "too_long"}


def reason_for(error: ErrorDetails) -> DeadLetterReason:
    """The dead-letter reason of one pydantic error (of any model of the project's)."""
    kind = error["type"]
    loc = error["loc"]
    if kind == "json_invalid":
        return DeadLetterReason.PAYLOAD_NOT_JSON
    if kind in ("model_type", "model_attributes_type") and not loc:
        return DeadLetterReason.PAYLOAD_NOT_OBJECT
    if kind in ("missing", "too_short"):
        return DeadLetterReason.FIELD_MISSING
    if kind == "timestamp_invalid":
        return DeadLetterReason.TIMESTAMP_INVALID
    if kind == "no_measurements":
        return DeadLetterReason.NO_MEASUREMENTS
    if kind == "finite_number":
        return DeadLetterReason.VALUE_NOT_FINITE
    if kind in _RANGE_ERRORS:
        return DeadLetterReason.VALUE_OUT_OF_RANGE
    if kind in ("literal_error", "enum"):
        if loc and loc[0] == "carrier":
            return DeadLetterReason.CARRIER_UNKNOWN
        if loc and loc[0] == "counts":
            return DeadLetterReason.VEHICLE_CLASS_UNKNOWN
    return DeadLetterReason.FIELD_TYPE


def invalid_reading(error: ErrorDetails, payload: bytes) -> InvalidReadingError:
    """The bad-input error for ``error``, found validating ``payload``: its reason (JSON that
    is not UTF-8 is ``payload_not_utf8``) and where the problem is."""
    reason = reason_for(error)
    if reason is DeadLetterReason.PAYLOAD_NOT_JSON:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            reason = DeadLetterReason.PAYLOAD_NOT_UTF8
    where = ".".join(str(part) for part in error["loc"]) or "payload"
    return InvalidReadingError(reason, f"{where}: {error['msg']}")


def validate_payload(domain: Domain, payload: bytes) -> Reading:
    """Validate a raw MQTT payload for ``domain``.

    Raises:
        InvalidReadingError: with the reason code of the first problem found.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidReadingError(
            DeadLetterReason.PAYLOAD_TOO_LARGE,
            f"payload is {len(payload)} bytes, the limit is {MAX_PAYLOAD_BYTES}",
        )
    try:
        return MODEL_BY_DOMAIN[domain].model_validate_json(payload)
    except ValidationError as exc:
        raise invalid_reading(exc.errors(include_url=False)[0], payload) from None


def validate_object(domain: Domain, data: dict[str, Any]) -> Reading:
    """Validate a payload built as a dict (a device format's translation) exactly as a
    native one.

    The model validates the dict itself first (pydantic's Python side, under the same
    strict config: no ``"1.5"`` -> float, no float -> int, no bool as a number, NaN and
    infinity refused, the same ranges). Anything it refuses is validated again as JSON, the
    way this function always did (``orjson.dumps`` and the native path), so that a refusal
    has exactly the reason and detail it had; that includes what only the Python side
    refuses, a ``carrier`` given as a string rather than a :class:`Carrier` or ``counts``
    keys as strings, which JSON accepts. A dict the Python side accepts, JSON accepts with
    the same reading, for values JSON can hold (numbers, strings, enum members; the
    translations build nothing else): tests/sensors/test_validation.py checks both ways.
    The round trip cost dumps + parse per reading: in bench/format_decode.py a Shelly
    (energy) message went from 103-104 to 95-98 us, a TTN uplink from 87-89 to 85-86.

    Non-finite floats must be refused before (JSON has no NaN: orjson writes null, so an
    optional field with NaN would pass as absent, as it always has).

    Raises:
        InvalidReadingError: with the reason code of the first problem found.
    """
    try:
        return MODEL_BY_DOMAIN[domain].model_validate(data)
    except ValidationError:
        pass
    # OPT_NON_STR_KEYS: counts keyed by VehicleClass members (what the translations build).
    return validate_payload(domain, orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))

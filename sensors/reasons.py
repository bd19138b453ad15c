"""Reason codes for bad input, stored as the ``reason`` tag of the ``dead_letter`` measurement.

The set is part of the external contract's storage schema: adding a code is fine,
renaming one breaks dashboards and alerts that filter on it.
"""

from __future__ import annotations

from enum import StrEnum


class DeadLetterReason(StrEnum):
    """Why a message could not be stored as a reading."""

    TOPIC_INVALID = "topic_invalid"
    """The topic is not ``<prefix>/<domain>/<site>/<sensor>`` with valid slugs."""
    DOMAIN_UNKNOWN = "domain_unknown"
    """The topic has the right shape but names no known domain."""
    PAYLOAD_TOO_LARGE = "payload_too_large"
    """The payload is larger than 16 KiB."""
    PAYLOAD_NOT_UTF8 = "payload_not_utf8"
    """The payload is not valid UTF-8."""
    PAYLOAD_NOT_JSON = "payload_not_json"
    """The payload is not JSON (this includes an empty payload)."""
    PAYLOAD_NOT_OBJECT = "payload_not_object"
    """The payload is JSON but not an object."""
    FIELD_MISSING = "field_missing"
    """A required field is absent."""
    FIELD_TYPE = "field_type"
    """A field has the wrong JSON type (string or boolean for a number, float for an integer)."""
    VALUE_NOT_FINITE = "value_not_finite"
    """A number is NaN or infinite."""
    VALUE_OUT_OF_RANGE = "value_out_of_range"
    """A number lies outside the contract's physical range."""
    TIMESTAMP_INVALID = "timestamp_invalid"
    """``ts`` is neither RFC 3339 with an offset nor integer epoch milliseconds, or is absurd."""
    CARRIER_UNKNOWN = "carrier_unknown"
    """An energy reading names a carrier the contract does not define."""
    VEHICLE_CLASS_UNKNOWN = "vehicle_class_unknown"
    """A transport reading counts a vehicle class the contract does not define."""
    NO_MEASUREMENTS = "no_measurements"
    """An air-quality reading carries none of the measured quantities."""
    DEVICE_UNKNOWN = "device_unknown"
    """A device format's reading from a device the devices file does not list (contract 7.3)."""
    STORE_REJECTED = "store_rejected"
    """The database refused the encoded reading (for example a field type conflict)."""

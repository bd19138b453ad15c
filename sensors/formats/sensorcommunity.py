"""Sensor.Community (airrohr) firmware bodies, posted to the ingestor's HTTP receiver.

The firmware's "custom API" sends ``{"esp8266id": "13017161", "software_version":
"NRZ-2020-133", "sensordatavalues": [{"value_type": "SDS_P1", "value": "12.30"}, ...]}``
with every value as a string (``SDS_P1`` is PM10, ``SDS_P2`` PM2.5; ``BME280_temperature``,
``BME280_humidity``, ``BME280_pressure``; also ``samples``, ``min_micro``, ``max_micro``,
``interval`` and ``signal``, which may read ``"-67 dBm"``). Device: ``esp8266-<esp8266id>``;
values: value type -> value, a decimal string read as a number (``nan``/``inf`` too, so
that they are refused as not finite), any other string kept as it is (refused as
``field_type`` only if mapped). Time: receipt, given by the receiver. No seq.
"""

from __future__ import annotations

import re
from typing import Any

from sensors.formats.observation import Observation, bad, load_object
from sensors.reasons import DeadLetterReason

DEVICE_PREFIX = "esp8266-"
_DECIMAL = re.compile(r"\s*-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*")
_NOT_FINITE = re.compile(r"\s*[-+]?(?:nan|inf|infinity)\s*", re.IGNORECASE)


def _number(text: str) -> float | int | str:
    if _DECIMAL.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    if _NOT_FINITE.fullmatch(text):
        return float(text)
    return text


def parse_sensor_community(payload: bytes, received_ms: int) -> Observation:
    """The observation of one firmware body, timed at ``received_ms``.

    Raises:
        InvalidReadingError: not the firmware's JSON shape (the receiver answers 4xx).
    """
    data = load_object(payload)
    chip = data.get("esp8266id")
    if isinstance(chip, int) and not isinstance(chip, bool):
        chip = str(chip)
    if not isinstance(chip, str) or not chip.strip():
        raise bad(DeadLetterReason.FIELD_MISSING, "esp8266id is missing")
    entries = data.get("sensordatavalues")
    if not isinstance(entries, list):
        raise bad(DeadLetterReason.FIELD_MISSING, "sensordatavalues is missing or not a list")
    values: dict[str, Any] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("value_type"), str):
            raise bad(DeadLetterReason.FIELD_TYPE,
                      f"sensordatavalues[{index}] is not {{value_type, value}}")
        value = entry.get("value")
        values[entry["value_type"]] = _number(value) if isinstance(value, str) else value
    return Observation(device_id=DEVICE_PREFIX + chip.strip(), values=values,
                       values_name="sensordatavalues", ts_ms=received_ms)

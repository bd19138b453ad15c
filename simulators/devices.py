"""Which simulated sensor speaks which device format, and the devices file to match.

``--format F`` puts every sensor F can represent in F (a Shelly or Tasmota meter measures
energy; Tasmota also air quality; the LoRaWAN servers and SenML carry anything) and leaves
the rest native. ``mixed`` is the demo's town: electricity meters are Shelly Pro 3EMs,
solar and EV chargers Tasmota plugs, half the air-quality monitors LoRaWAN on The Things
Stack, half the traffic counters LoRaWAN on ChirpStack, the rest (and the gas meters)
native. Device ids are derived from the sensor id, so a plan is the same in every
process: the simulator's messages and the ingestor's devices file always agree.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from typing import Any

from sensors.formats.devices import Format
from sensors.readings import AIR_QUALITY_FIELDS, Carrier, VehicleClass
from sensors.registry import Sensor
from sensors.topics import Domain

NATIVE = "native"
MIXED = "mixed"
#: What ``--format`` accepts.
CHOICES = (NATIVE, MIXED, Format.TTN_V3.value, Format.CHIRPSTACK_V4.value,
           Format.SHELLY_GEN2.value, Format.TASMOTA.value, Format.SENML.value)
TTN_APPLICATION = "stockport-sim"
_CAN: dict[Format, frozenset[Domain]] = {
    Format.TTN_V3: frozenset(Domain), Format.CHIRPSTACK_V4: frozenset(Domain),
    Format.SENML: frozenset(Domain),
    Format.SHELLY_GEN2: frozenset({Domain.ENERGY}),
    Format.TASMOTA: frozenset({Domain.ENERGY, Domain.AIR_QUALITY}),
}
# The decoded payload's names on the LoRaWAN servers (a payload formatter's choice).
LORAWAN_NAMES = {"no2_ugm3": "no2", "pm25_ugm3": "pm2_5", "pm10_ugm3": "pm10",
                 "o3_ugm3": "o3", "so2_ugm3": "so2", "co2_ppm": "co2",
                 "temperature_c": "temperature", "humidity_pct": "humidity"}
SENML_UNITS = {"no2_ugm3": "ug/m3", "pm25_ugm3": "ug/m3", "pm10_ugm3": "ug/m3",
               "o3_ugm3": "ug/m3", "so2_ugm3": "ug/m3", "co2_ppm": "ppm",
               "temperature_c": "Cel", "humidity_pct": "%RH"}


def _hex(sensor_id: str, size: int) -> str:
    return hashlib.blake2b(sensor_id.encode(), digest_size=size).hexdigest()


def _half(sensor: Sensor) -> bool:
    return zlib.crc32(sensor.id.encode()) % 2 == 0


def mixed_format(sensor: Sensor) -> Format | None:
    """The demo town's format of a sensor (None: native)."""
    if sensor.domain is Domain.ENERGY:
        return {Carrier.ELECTRICITY: Format.SHELLY_GEN2, Carrier.SOLAR_PV: Format.TASMOTA,
                Carrier.EV_CHARGING: Format.TASMOTA}.get(sensor.carrier or Carrier.GAS)
    if sensor.domain is Domain.AIR_QUALITY:
        return Format.TTN_V3 if _half(sensor) else None
    return Format.CHIRPSTACK_V4 if _half(sensor) else None


def plan(sensors: Sequence[Sensor], choice: str) -> list[Format | None]:
    """Each sensor's format under ``--format choice`` (None: native).

    Raises:
        ValueError: an unknown choice.
    """
    if choice not in CHOICES:
        raise ValueError(f"unknown format {choice!r}; one of {', '.join(CHOICES)}")
    if choice == NATIVE:
        return [None] * len(sensors)
    if choice == MIXED:
        return [mixed_format(sensor) for sensor in sensors]
    fmt = Format(choice)
    return [fmt if sensor.domain in _CAN[fmt] else None for sensor in sensors]


def device_id(fmt: Format, sensor: Sensor) -> str:
    """The id a simulated device of ``sensor`` carries in its messages."""
    if fmt is Format.TTN_V3:
        return sensor.id
    if fmt is Format.CHIRPSTACK_V4:
        return _hex(sensor.id, 8)
    if fmt is Format.SHELLY_GEN2:
        return f"shellypro3em-{_hex(sensor.id, 6)}"
    if fmt is Format.TASMOTA:
        return f"tasmota_{_hex(sensor.id, 3).upper()}"
    return f"urn:dev:sim:{sensor.id}:"  # SenML base name


def _fields(fmt: Format, sensor: Sensor) -> dict[str, Any]:
    if sensor.domain is Domain.ENERGY:
        if fmt is Format.SHELLY_GEN2:
            return {"energy_kwh": {"path": "em1data:0.total_act_energy", "scale": 0.001,
                                   "cumulative": True},
                    "power_kw": {"path": "em1:0.act_power", "scale": 0.001}}
        if fmt is Format.TASMOTA:
            return {"energy_kwh": {"path": "ENERGY.Total", "cumulative": True},
                    "power_kw": {"path": "ENERGY.Power", "scale": 0.001}}
        if fmt is Format.SENML:
            return {"energy_kwh": {"path": "energy", "cumulative": True}, "power_kw": "power"}
        return {"energy_kwh": "energy_kwh", "power_kw": "power_kw"}
    if sensor.domain is Domain.TRANSPORT:
        # A footfall counter counts walkers and bicycles only, and no vehicles means no
        # mean speed: what a counter does not count it leaves out (section 2: 0).
        counts = {f"counts.{vc.value}": {"path": vc.value, "optional": True}
                  for vc in VehicleClass}
        speed = {"path": "speed_kmh" if fmt is not Format.SENML else "speed", "optional": True}
        return {**counts, "avg_speed_kph": speed}
    if fmt is Format.TASMOTA:
        return {"pm25_ugm3": ["SDS0X1", "PM2.5"], "pm10_ugm3": ["SDS0X1", "PM10"],
                "temperature_c": "BME280.Temperature", "humidity_pct": "BME280.Humidity"}
    if fmt is Format.SENML:
        return {name: name.rsplit("_", 1)[0] for name in AIR_QUALITY_FIELDS}
    return {name: LORAWAN_NAMES[name] for name in AIR_QUALITY_FIELDS}


def devices_file(sensors: Sequence[Sensor], formats: Sequence[Format | None]) -> dict[str, Any]:
    """The devices file (as JSON) for the sensors that are not native."""
    entries = []
    for sensor, fmt in zip(sensors, formats, strict=True):
        if fmt is None:
            continue
        entry: dict[str, Any] = {"format": fmt.value, "device": device_id(fmt, sensor),
                                 "domain": sensor.domain.value, "site": sensor.site,
                                 "sensor": sensor.id, "interval_s": sensor.interval_s}
        if sensor.carrier is not None:
            entry["carrier"] = sensor.carrier.value
        entry["fields"] = _fields(fmt, sensor)
        entries.append(entry)
    return {"devices": entries}

"""Fixtures of the device-format tests: realistic messages and the example devices file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from sensors.formats.devices import DevicesFile
from sensors.formats.devices_loader import load_devices
from sensors.formats.translator import Translator

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "sensors" / "fixtures"
EXAMPLE = ROOT / "deploy" / "devices.example.json"
PREFIX = "stockport/town-centre"

#: Where each fixture is published (the formats' default topics).
TOPICS = {
    "ttn-v3-uplink.json": "v3/stockport-air@ttn/devices/aq-mersey-01/up",
    "chirpstack-v4-up.json":
        "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/a84041000181c2d3/event/up",
    "senml-pack.json": f"{PREFIX}/senml/market-gateway",
    "shelly-gen2-notifystatus.json": "shellypro3em-0cb815fcaff4/events/rpc",
    "shelly-gen2-notifystatus-power-only.json": "shellypro3em-0cb815fcaff4/events/rpc",
    "shelly-gen2-notifyevent.json": "shellypro3em-0cb815fcaff4/events/rpc",
    "tasmota-sensor-energy.json": "tele/tasmota_8C4F2A/SENSOR",
    "tasmota-sensor-sds011.json": "tele/tasmota_5E21B0/SENSOR",
    "zigbee2mqtt-climate.json": "zigbee2mqtt/town-hall-foyer",
}


def raw(name: str) -> bytes:
    """A fixture's bytes."""
    return (FIXTURES / name).read_bytes()


def message(name: str) -> dict[str, Any]:
    """A fixture as JSON (an object; SenML's array is read with :func:`raw`)."""
    data: dict[str, Any] = orjson.loads(raw(name))
    return data


def example_devices() -> DevicesFile:
    """The documented example devices file (deploy/devices.example.json)."""
    return load_devices(EXAMPLE)


def translator(devices: DevicesFile | None = None, prefix: str = PREFIX) -> Translator:
    """A translator of the example devices (or ``devices``)."""
    return Translator(devices or example_devices(), prefix)


def devices_with(**changes: Any) -> DevicesFile:
    """The example devices file with entries changed: ``sensor=dict of field updates``."""
    raw_file = orjson.loads(EXAMPLE.read_bytes())
    for entry in raw_file["devices"]:
        entry.update(changes.get(entry["sensor"].replace("-", "_"), {}))
    return DevicesFile.model_validate(raw_file)

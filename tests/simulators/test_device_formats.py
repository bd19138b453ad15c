"""``simulate --format``: the simulated town in device formats, through the real ingestor,
stores what the native simulator would (registers give the same energy)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.service import IngestService
from sensors.formats.devices import Format
from sensors.formats.devices_loader import parse_devices
from sensors.formats.translator import Translator
from sensors.readings import EnergyReading, to_payload
from sensors.registry import load_registry
from sensors.settings import Settings
from simulators.devices import CHOICES, devices_file, plan
from simulators.engine import SimulationOptions, run_simulation
from simulators.profiles import generate_reading
from tests.helpers import as_publisher, eventually, influx_rows

START_MS = 1_795_687_200_000  # 2026-11-26T10:00:00Z
READINGS = 3


@pytest.mark.parametrize("choice", CHOICES)
def test_every_choice_has_a_valid_devices_file(choice: str) -> None:
    sensors = load_registry().sensors
    formats = plan(sensors, choice)
    devices = parse_devices(orjson.dumps(devices_file(sensors, formats)))
    Translator(devices, "stockport/town-centre")  # no ambiguous topics either
    assert len(devices.devices) == sum(fmt is not None for fmt in formats)


def test_the_mixed_town_has_native_lorawan_and_smart_meters() -> None:
    used = set(plan(load_registry().sensors, "mixed"))
    assert used == {None, Format.TTN_V3, Format.CHIRPSTACK_V4, Format.SHELLY_GEN2,
                    Format.TASMOTA}


def _points(settings: Settings, measurement: str) -> dict[str, list[dict[str, Any]]]:
    rows = influx_rows(settings.influx_url, settings.influx_database,
                       f"SELECT * FROM {measurement} GROUP BY sensor")
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["sensor"], []).append(row)
    return out


@pytest.mark.integration
@pytest.mark.parametrize("choice", ["mixed", "senml"])
def test_a_simulated_town_in_formats_stores_the_native_readings(
    settings: Settings, ingest_thread: Callable[..., IngestService], tmp_path: Path,
    choice: str,
) -> None:
    sensors = load_registry().sensors
    formats = plan(sensors, choice)
    path = tmp_path / "devices.json"
    path.write_bytes(orjson.dumps(devices_file(sensors, formats)))
    ingest_thread(devices_file=path)
    report = run_simulation(as_publisher(settings), SimulationOptions(
        count=READINGS * len(sensors), start_ms=START_MS, device_format=choice, seed=5))
    assert report.failed == 0
    stored: dict[str, dict[str, list[dict[str, Any]]]] = {
        measurement: {} for measurement in ("energy", "transport", "air_quality")}

    registers = sum(1 for sensor, fmt in zip(sensors, formats, strict=True)
                    if sensor.domain.value == "energy"
                    and fmt in (Format.SHELLY_GEN2, Format.SENML, Format.TASMOTA))

    def all_there() -> bool:
        for measurement in stored:
            stored[measurement] = _points(settings, measurement)
        # A register's late reading rewrites its successor in a later write than its own
        # point, so wait until only each register's first point is without energy.
        settled = sum(1 for points in stored["energy"].values() for point in points
                      if point.get("energy_kwh") is None) == registers
        return settled and sum(len(v) for m in stored.values()
                               for v in m.values()) == READINGS * len(sensors)

    eventually(all_there, message="every simulated reading stored, registers settled")
    for sensor, fmt in zip(sensors, formats, strict=True):
        expected = [generate_reading(5, sensor, k, START_MS + 60_000 * k) for k in range(READINGS)]
        points = stored[sensor.domain.value][sensor.id]
        assert [p["time"] for p in points] == [r.ts for r in expected], sensor.id
        if not isinstance(expected[0], EnergyReading) or fmt in (None, Format.TTN_V3,
                                                                 Format.CHIRPSTACK_V4):
            for point, reading in zip(points, expected, strict=True):
                payload = to_payload(reading)
                for name, value in payload.items():
                    if name == "counts":
                        assert {k: point[f"count_{k}"] for k in value} == value, sensor.id
                    elif name not in ("ts", "seq", "carrier", "link_km") or fmt is None:
                        column = name if name != "ts" else "time"
                        assert point[column] == value, (sensor.id, name)
            continue
        # A register: its first reading is the start; then the same energy as natively, to
        # the register's resolution (Shelly 0.01 Wh, SenML 0.1 Wh, Tasmota 1 Wh).
        assert points[0]["energy_kwh"] is None
        resolution = {Format.SHELLY_GEN2: 1e-5, Format.SENML: 1e-4, Format.TASMOTA: 1e-3}[fmt]
        for point, reading in zip(points[1:], expected[1:], strict=True):
            assert isinstance(reading, EnergyReading)
            assert point["energy_kwh"] == pytest.approx(reading.energy_kwh, abs=resolution)
            assert point["interval_s"] == 60

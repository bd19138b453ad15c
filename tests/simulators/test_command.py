"""Pacing, option checks and the command line's errors (no broker needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sensors.registry import Sensor, load_registry
from simulators.engine import Schedule, SimulationOptions
from simulators.errors import OptionError
from simulators.profiles import synthetic_sensors
from smartplace.cli import app
from smartplace.servers import free_port

SMARTPLACE = Path(sys.executable).with_name("smartplace")


def with_interval(sensor: Sensor, interval_s: int) -> Sensor:
    return sensor.model_copy(update={"interval_s": interval_s})


def test_schedule_gives_each_sensor_its_own_interval_in_time_order() -> None:
    sensors = [with_interval(s, i) for s, i in zip(synthetic_sensors(3), (60, 30, 900),
                                                    strict=True)]
    for stagger in (False, True):
        schedule = Schedule(sensors, stagger=stagger)
        offsets: dict[int, list[float]] = defaultdict(list)
        previous = 0.0
        for _ in range(200):
            offset, index = schedule.pop()
            assert offset >= previous
            previous = offset
            offsets[index].append(offset)
        for index, seen in offsets.items():
            gaps = {round(b - a, 9) for a, b in pairwise(seen)}
            assert gaps <= {float(sensors[index].interval_s)}
        # Over a long run each sensor reports in proportion to 1 / interval.
        assert len(offsets[1]) == pytest.approx(2 * len(offsets[0]), abs=2)


def test_backfill_schedule_starts_every_sensor_at_zero() -> None:
    sensors = load_registry().sensors
    schedule = Schedule(sensors, stagger=False)
    first = [schedule.pop() for _ in sensors]
    assert {offset for offset, _ in first} == {0.0}
    assert sorted(index for _, index in first) == list(range(len(sensors)))
    # The tie order is hashed, so a short run samples every domain.
    assert len({sensors[i].domain for _, i in first[:20]}) == 3


def test_staggered_schedule_spreads_first_readings_over_the_interval() -> None:
    sensors = load_registry().sensors
    schedule = Schedule(sensors, stagger=True)
    first = [schedule.pop() for _ in sensors]
    offsets = [offset for offset, _ in first]
    assert len(set(offsets)) == len(sensors)
    assert all(0 <= o < 60 for o in offsets)
    assert len({i for _, i in first}) == len(sensors)


@pytest.mark.parametrize(("kwargs", "option"), [
    ({"rate": 0}, "--rate"),
    ({"rate": -5.0}, "--rate"),
    ({"duration_s": 0}, "--duration"),
    ({"count": 0}, "--count"),
    ({"count": 5, "duration_s": 1.0}, "--duration / --count"),
    ({"bad_ratio": 1.5}, "--bad-ratio"),
    ({"bad_ratio": -0.1}, "--bad-ratio"),
])
def test_invalid_options_name_the_option(kwargs: dict[str, Any], option: str) -> None:
    with pytest.raises(OptionError) as caught:
        SimulationOptions(**kwargs)
    assert caught.value.option == option


@pytest.mark.parametrize(("args", "expected"), [
    (["--count", "5", "--duration", "2"], "one or the other"),
    (["--rate", "0"], "--rate"),
    (["--bad-ratio", "1.5"], "--bad-ratio"),
    (["--sensors", "0"], "--sensors"),
    (["--count", "0"], "--count"),
    (["--start", "2026-01-01T00:00:00"], "offset"),
    (["--start", "2199-01-01T00:00:00Z"], "future"),
])
def test_cli_rejects_bad_options_with_exit_2(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(app, ["simulate", *args])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_cli_reports_bad_settings_with_exit_2(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMARTPLACE_MQTT_URL", "http://127.0.0.1:1883")
    result = CliRunner().invoke(app, ["simulate", "--count", "1"])
    assert result.exit_code == 2
    assert "invalid configuration" in result.output
    assert "mqtt://" in result.output


def test_cli_without_a_broker_fails_clearly(tmp_path: Path) -> None:
    env = {**os.environ, "SMARTPLACE_MQTT_URL": f"mqtt://127.0.0.1:{free_port()}",
           "SMARTPLACE_TOPIC_PREFIX": "test/no-broker"}
    done = subprocess.run([str(SMARTPLACE), "simulate", "--count", "3", "--rate", "100"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "cannot connect to the MQTT broker" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""

"""The seeded reading generators: determinism, contract validity and daily shapes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from statistics import mean
from typing import Any

import orjson
import pytest

from sensors.readings import Carrier, EnergyReading, TransportReading, VehicleClass, to_payload
from sensors.registry import Sensor, load_registry
from sensors.topics import Domain, build_topic, is_slug
from sensors.validation import validate_payload
from simulators.environment import LONDON
from simulators.profiles import generate_reading, synthetic_sensors

REGISTRY = load_registry()
SENSORS = REGISTRY.sensors


def local_ms(text: str) -> int:
    """Epoch ms of a Europe/London wall-clock time."""
    return int(datetime.fromisoformat(text).replace(tzinfo=LONDON).timestamp() * 1000)


def series(seed: int, sensor: Sensor, n: int = 12,
           start: str = "2026-06-17T11:00:00") -> list[dict[str, Any]]:
    step = sensor.interval_s * 1000
    return [to_payload(generate_reading(seed, sensor, k, local_ms(start) + k * step))
            for k in range(n)]


def at(sensor: Sensor, when: str, readings: int = 12) -> list[Any]:
    """Several readings of one sensor at the same local time (different k, so different noise)."""
    return [generate_reading(3, sensor, k, local_ms(when)) for k in range(readings)]


def by_id(sensor_id: str) -> Sensor:
    sensor = REGISTRY.sensor(sensor_id)
    assert sensor is not None
    return sensor


@pytest.mark.parametrize("sensor", SENSORS, ids=lambda s: s.id)
def test_same_seed_gives_the_same_series_and_another_seed_another(sensor: Sensor) -> None:
    assert series(7, sensor) == series(7, sensor)
    assert series(7, sensor) != series(8, sensor)


def test_series_does_not_depend_on_the_process_hash_seed() -> None:
    sensor = SENSORS[0]
    code = (
        "import orjson, sys\n"
        "from sensors.readings import to_payload\n"
        "from sensors.registry import load_registry\n"
        "from simulators.profiles import generate_reading\n"
        "s = load_registry().sensors[0]\n"
        "out = [to_payload(generate_reading(5, s, k, 1_780_000_000_000 + k * 60_000))"
        " for k in range(5)]\n"
        "sys.stdout.write(orjson.dumps(out).decode())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          check=True, timeout=60)
    here = [to_payload(generate_reading(5, sensor, k, 1_780_000_000_000 + k * 60_000))
            for k in range(5)]
    assert orjson.loads(done.stdout) == here


@pytest.mark.parametrize("sensor", [*SENSORS, *synthetic_sensors(30)], ids=lambda s: s.id)
def test_every_reading_is_contract_valid(sensor: Sensor) -> None:
    # Every 97 minutes over a winter and a summer week covers all hours and weekdays.
    for start in ("2026-01-12T00:00:00", "2026-07-13T00:00:00"):
        for k in range(104):
            ts = local_ms(start) + k * 97 * 60_000
            reading = generate_reading(11, sensor, k, ts)
            payload = to_payload(reading)
            decoded = validate_payload(sensor.domain, orjson.dumps(payload))
            assert to_payload(decoded) == payload
            assert (payload["ts"], payload["seq"]) == (ts, k)
            if isinstance(reading, EnergyReading):
                assert reading.carrier is sensor.carrier
                assert reading.power_kw is not None
                assert reading.energy_kwh == pytest.approx(
                    reading.power_kw * sensor.interval_s / 3600, abs=1e-6)
                assert 0 <= reading.power_kw <= (sensor.rated_kw or 0)
            if isinstance(reading, TransportReading):
                assert reading.interval_s == sensor.interval_s
                assert ("link_km" in payload) == (sensor.link_km is not None)
                assert payload.get("link_km") == sensor.link_km


@pytest.mark.parametrize("sensor", [s for s in SENSORS if s.carrier is Carrier.SOLAR_PV],
                         ids=lambda s: s.id)
def test_solar_is_dark_at_night_and_generates_at_midday_in_summer(sensor: Sensor) -> None:
    for night in ("2026-06-21T02:00:00", "2026-12-21T02:00:00", "2026-12-21T18:00:00"):
        assert all(r.power_kw == 0 and r.energy_kwh == 0 for r in at(sensor, night))
    assert all(r.power_kw > 0 for r in at(sensor, "2026-06-21T13:00:00"))
    summer = mean(r.power_kw for r in at(sensor, "2026-06-21T13:00:00"))
    winter = mean(r.power_kw for r in at(sensor, "2026-12-21T13:00:00"))
    assert summer > winter


def speed(readings: list[TransportReading]) -> float:
    """Mean speed over the intervals that saw a vehicle."""
    return mean(r.avg_speed_kph for r in readings if r.avg_speed_kph is not None)


def vehicles(reading: TransportReading) -> int:
    return sum(n for c, n in reading.counts.items() if c is not VehicleClass.PEDESTRIAN)


@pytest.mark.parametrize("sensor", [s for s in SENSORS if s.link_km is not None],
                         ids=lambda s: s.id)
def test_traffic_peaks_in_the_morning_rush_and_slows_down(sensor: Sensor) -> None:
    # 2026-11-25 is a Wednesday.
    rush, night = at(sensor, "2026-11-25T08:00:00"), at(sensor, "2026-11-25T03:00:00")
    assert sum(map(vehicles, rush)) > 3 * sum(map(vehicles, night))
    midday = at(sensor, "2026-11-25T13:00:00")
    assert speed(rush) < speed(midday)
    # Cars dominate motor traffic.
    totals = {c: sum(r.counts[c] for r in rush) for c in VehicleClass}
    assert totals[VehicleClass.CAR] > totals[VehicleClass.VAN] > totals[VehicleClass.HGV]


def test_a_footfall_counter_counts_people_in_shopping_hours() -> None:
    sensor = by_id("tr-little-underbank")
    saturday = at(sensor, "2026-11-28T13:00:00", 30)
    assert {c for r in saturday for c in r.counts} == {VehicleClass.PEDESTRIAN,
                                                       VehicleClass.BICYCLE}
    assert all(r.avg_speed_kph is None and r.link_km is None for r in saturday)
    pedestrians = sum(r.counts[VehicleClass.PEDESTRIAN] for r in saturday)
    at_night = sum(r.counts[VehicleClass.PEDESTRIAN] for r in at(sensor, "2026-11-28T03:00:00", 30))
    assert pedestrians > 5 * max(1, at_night)


def test_roadside_no2_follows_traffic_and_ozone_opposes_it() -> None:
    sensor = by_id("aq-a6-roadside")
    rush, night = at(sensor, "2026-01-14T08:00:00"), at(sensor, "2026-01-14T03:00:00")
    assert mean(r.no2_ugm3 for r in rush) > 2 * mean(r.no2_ugm3 for r in night)
    assert mean(r.o3_ugm3 for r in rush) < mean(r.o3_ugm3 for r in night)
    background = at(by_id("aq-market-background"), "2026-01-14T08:00:00")
    assert mean(r.no2_ugm3 for r in background) < mean(r.no2_ugm3 for r in rush)
    assert all(r.so2_ugm3 < 10 for r in rush)
    assert all(30 <= r.humidity_pct <= 100 for r in rush)
    assert -5 < mean(r.temperature_c for r in rush) < 15


def test_gas_heats_cold_mornings_and_electricity_follows_opening_hours() -> None:
    gas = by_id("mw-gas-boiler")
    january_morning = mean(r.power_kw for r in at(gas, "2026-01-14T07:00:00"))
    assert january_morning > 2 * mean(r.power_kw for r in at(gas, "2026-07-15T07:00:00"))
    assert january_morning > mean(r.power_kw for r in at(gas, "2026-01-14T02:00:00"))
    elec = by_id("mw-elec-main")
    assert (mean(r.power_kw for r in at(elec, "2026-11-25T13:00:00"))
            > 2 * mean(r.power_kw for r in at(elec, "2026-11-25T03:00:00")))
    ev = by_id("ic-ev-hub")
    assert (mean(r.power_kw for r in at(ev, "2026-11-25T18:30:00"))
            > 3 * mean(r.power_kw for r in at(ev, "2026-11-25T03:00:00")))


def test_synthetic_sensors_are_unique_valid_and_spread() -> None:
    made = synthetic_sensors(60)
    assert made == synthetic_sensors(60)
    assert made[:10] == synthetic_sensors(10)
    assert len({s.id for s in made}) == 60
    assert all(is_slug(s.id) and s.id.startswith("sim-") for s in made)
    assert made[0].id == "sim-energy-0001"
    site_ids = {site.id for site in REGISTRY.sites}
    assert {s.site for s in made} == site_ids
    assert {d: sum(s.domain is d for s in made) for d in Domain} == {d: 20 for d in Domain}
    assert not {s.id for s in made} & set(REGISTRY.sensors_by_id)
    for sensor in made:
        build_topic("test/x", sensor.domain, sensor.site, sensor.id)
        if sensor.domain is Domain.ENERGY:
            assert sensor.carrier is not None
            assert sensor.rated_kw
        elif sensor.domain is Domain.TRANSPORT:
            assert sensor.peak_flow_per_hour
        else:
            assert sensor.setting in ("roadside", "background")
    assert {s.carrier for s in made if s.carrier} == set(Carrier)
    transport = [s for s in made if s.domain is Domain.TRANSPORT]
    assert any(s.link_km is None for s in transport)
    assert any(s.link_km is not None for s in transport)


def test_synthetic_sensors_needs_at_least_one() -> None:
    with pytest.raises(ValueError, match="count"):
        synthetic_sensors(0)

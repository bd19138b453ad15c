"""Sensor status rules: reporting (<= 2 intervals), late (<= 3), silent."""

from __future__ import annotations

import pytest

from api.network.last_seen import LastSeen
from api.network.status import classify, sensor_statuses
from sensors.registry import load_registry
from sensors.topics import Domain


@pytest.mark.parametrize(
    ("age_s", "state"),
    [(None, "silent"), (-5.0, "reporting"), (0.0, "reporting"), (120.0, "reporting"),
     (120.001, "late"), (180.0, "late"), (180.001, "silent"), (1e9, "silent")],
)
def test_classify(age_s: float | None, state: str) -> None:
    assert classify(age_s, 60) == state


def test_statuses_cover_registry_and_unregistered_sensors() -> None:
    registry = load_registry()
    now_ms = 1_764_151_200_000
    seen = {
        "mw-elec-main": LastSeen("mw-elec-main", "merseyway", Domain.ENERGY, now_ms - 1000, 60,
                                 "electricity"),
        "zz-rogue": LastSeen("zz-rogue", "merseyway", Domain.TRANSPORT, now_ms - 700_000, 300,
                             None),
    }
    statuses = sensor_statuses(registry, seen, now_ms)
    assert [s.id for s in statuses[: len(registry.sensors)]] == [s.id for s in registry.sensors]
    by_id = {s.id: s for s in statuses}
    assert by_id["mw-elec-main"].status == "reporting"
    assert by_id["mw-elec-main"].last_seen == "2025-11-26T09:59:59Z"
    assert by_id["mw-elec-main"].site_name == "Merseyway Shopping Centre"
    assert by_id["mw-gas-boiler"].status == "silent"
    assert by_id["mw-gas-boiler"].last_seen is None
    rogue = by_id["zz-rogue"]
    assert rogue.registered is False
    assert rogue.interval_s == 300
    assert rogue.status == "late"

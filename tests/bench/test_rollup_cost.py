"""The rollup-run benchmark's harness at a tiny size: it times a real run that writes
every tier (figures: ``python -m bench --only rollup``)."""

from __future__ import annotations

import pytest

from bench import rollup_cost
from tests.conftest import _require

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_a_tiny_network_is_rolled_up_and_timed() -> None:
    _require("influxd")
    one = rollup_cost.run_one(30, hours=2)
    assert one.points == 30 * 2 * 60
    # Each hour: a received point per sensor, an activity point per energy and transport
    # sensor, an air-quality point per monitor; then the daily tiers.
    assert one.lines > 2 * (30 + 20 + 10)
    assert 0 < one.air_s < one.run_s
    assert "| 30 |" in rollup_cost.table([one])

"""The scale benchmark's harness at tiny sizes: both consumers drain everything, the
ingestor's memory and influxd's CPU are sampled, and the API lists and polls every sensor
(figures: ``python -m bench --only scale``)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import scale, scale_api
from sensors.registry import load_registry
from tests.conftest import _require

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.mark.parametrize("sensors", [30, 300])
def test_a_small_drain_and_the_api_over_its_sensors(sensors: int, tmp_path: Path) -> None:
    _require("mosquitto")
    _require("influxd")

    row = scale.run_one(sensors, 2_000, tmp_path, requests=3, live_s=3.0, ticks=2)

    assert row.baseline.messages == row.ingest.messages == 2_000
    assert row.ingest.stored == 2_000
    assert row.ingest.problems == ()
    assert row.ingest_rss_max > 10 * 1024 * 1024
    api = row.api
    assert api.problems == []
    # The packaged registry's sensors, then the N found in the data.
    assert api.listed == len(load_registry().sensors) + sensors
    assert len(api.list_ms) == 3
    # Every 100th sensor's latest reading is 30 minutes old: silent, and raised as such.
    assert api.alert_kinds.get("sensor_silent") == math.ceil(sensors / 100)
    assert "seq_gap" not in api.alert_kinds  # the history's seqs run on without a gap
    assert api.first_sensors_s is not None
    assert api.first_sensors_s > 0
    assert api.event_bytes["sensors"] > sensors * 50  # one entry per sensor at least
    assert len(api.tick_ms) == 2
    # Every panel was sent whole (the carbon panel beside the ticks) within the run.
    assert api.whole_s is not None
    assert 0 < api.whole_s < 60
    assert len(api.steady_ms) == scale_api.STEADY_TICKS
    assert len(api.last_seen_ms) == 2
    assert api.seq_seed_ms > 0  # after the index seed, which no longer waits for it
    # The carbon panel over 30 minutes of history, with the rollups backfilled first.
    assert len(api.carbon_ms) == 2
    assert api.history_s > 0
    assert api.rollup_s > 0
    assert api.carbon_reads.endswith("row requests")
    assert api.rss_max >= api.rss_idle > 0
    assert f"| {sensors:,} |" in scale.table([row])

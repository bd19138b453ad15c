"""The live-rate benchmark's harness at a tiny size: it publishes on time, finds every
probe in InfluxDB and accounts for every message (figures: ``python -m bench --only live``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import live_rate
from tests.conftest import _require

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_one_slow_rate_is_published_stored_and_probed(tmp_path: Path) -> None:
    _require("mosquitto")
    _require("influxd")

    run = live_rate.run_rate(500, 3, workdir=tmp_path)

    assert run.published == 1_500
    assert run.stored == 1_500  # counted in InfluxDB, not taken from the ingestor's metrics
    assert run.problems == ()  # per-measurement counts and value sums as published
    assert run.lost == 0
    assert run.probes == 3  # every 500th message
    assert len(run.latencies_ms) == 3
    # Same clock on both sides: a probe cannot be queryable before it was published.
    assert all(latency > 0 for latency in run.latencies_ms)
    assert len(run.rss) >= 3
    assert min(run.rss) > 10 * 1024 * 1024  # a Python ingestor, sampled while alive
    assert run.cpu_s > 0
    rows = live_rate.table([run]).splitlines()
    assert rows[2].startswith("| 500 | 1 process | ")
    assert "3 of 3" in rows[2]

"""What one scheduled rollup run costs as the network grows.

Method: for each sensor count, a private ``influxd`` gets ``hours`` (default 6, the
default ``SMARTPLACE_ROLLUP_LOOKBACK_H``) of minute readings from that many sensors, a
third per domain (``bench/api_data.py``, the ingestor's exact lines), and the run's work
is timed alone: the air-quality tiers (:func:`api.air.rollup.rollup_air`), then every
tier as a run writes them (:func:`api.activity.rollup_job.rollup_hours`, which includes
the air-quality tiers again; activity, received and daily tiers are the difference).
What is printed is what the run takes on this machine; the share of the air-quality
tiers and the ratio to the rollup interval are what compare across machines.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.api_data import DATABASE, bench_sensors, write_all
from sensors.settings import Settings
from smartplace.servers import InfluxServer

HOUR_MS = 3_600_000
DEFAULT_INTERVAL_S = 300


@dataclass(frozen=True)
class RollupCost:
    """One sensor count's run."""

    sensors: int
    hours: int
    points: int
    air_s: float
    run_s: float
    lines: int

    def row(self) -> str:
        return (f"| {self.sensors:,} | {self.points:,} | {self.run_s:.1f} s | "
                f"{self.air_s:.1f} s ({self.air_s / self.run_s:.0%}) | "
                f"{self.run_s - self.air_s:.1f} s | {self.lines:,} | "
                f"{self.run_s / DEFAULT_INTERVAL_S:.0%} |")


def table(results: list[RollupCost]) -> str:
    """The printable report."""
    head = ("| sensors | points | one run | of which air-quality tiers | activity, received, "
            "daily | lines written | of a 5-minute interval |\n|---|---|---|---|---|---|---|")
    hours = results[0].hours if results else 0
    return (f"One scheduled rollup run ({hours} hours of minute readings), alone:\n"
            + "\n".join([head, *(one.row() for one in results)]))


async def _time_run(url: str, start_ms: int, hours: int) -> tuple[float, float, int]:
    from api.activity.rollup_job import ROLLUP_TIMEOUT_S, rollup_hours
    from api.air.rollup import rollup_air
    from api.influx import InfluxStore

    store = InfluxStore(Settings(_env_file=None, influx_url=url, influx_database=DATABASE))
    try:
        end_ms = start_ms + hours * HOUR_MS
        started = time.perf_counter()
        await rollup_air(store, start_ms, end_ms, ROLLUP_TIMEOUT_S)
        air_s = time.perf_counter() - started
        started = time.perf_counter()
        lines = await rollup_hours(store, start_ms, end_ms)
        return air_s, time.perf_counter() - started, lines
    finally:
        await store.aclose()


def run_one(sensors: int, hours: int = 6) -> RollupCost:
    """Write the readings to a fresh influxd and time one run's work."""
    server = InfluxServer(Path(tempfile.mkdtemp(prefix="smartplace-bench-rollup-")))
    server.start()
    try:
        created = httpx.post(f"{server.url}/query", data={"q": f"CREATE DATABASE {DATABASE}"})
        created.raise_for_status()
        # Two days back, whole days: closed hours, as a scheduled run finds them.
        start_ms = (int(time.time()) // 86_400 - 2) * 86_400_000
        points, _ = write_all(server.url, bench_sensors(sensors), start_ms, hours * 60)
        air_s, run_s, lines = asyncio.run(_time_run(server.url, start_ms, hours))
        return RollupCost(sensors, hours, points, air_s, run_s, lines)
    finally:
        server.stop()


def run(sensor_counts: list[int], hours: int = 6) -> str:
    """Each count in turn; the table."""
    results = []
    for sensors in sensor_counts:
        results.append(run_one(sensors, hours))
        print(results[-1].row(), flush=True)
    return table(results)

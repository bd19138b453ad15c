"""API latency over a month of minute data: emissions and indicators, from rollups vs raw.

Method: a private ``influxd`` gets ``days`` x 1,440 minutes of readings for ``sensors``
sensors (a third each energy, transport, air quality), written directly as line protocol
by ``bench/api_data.py`` (the exact lines the ingestor writes, checked against
``sensors.lineprotocol.reading_line`` on a sample). The API then
runs in process (``httpx.ASGITransport``, inside the app's lifespan) and each request is
timed after warm-ups, sequentially:

- ``/api/v1/emissions?interval=1d&group_by=domain`` over the whole window;
- ``/api/v1/indicators`` over the whole window;
- ``/api/v1/air-quality/daqi/history`` and ``/daqi/daily`` (every site) and
  ``/api/v1/live/series`` (the trend chart's custom range), over the whole window (the
  history over its last 31 days at most);

each with ``source=raw`` and, after the rollups are backfilled for the window
(``api.activity.rollup_job.backfill``), ``source=rollup`` (the last three take no
``source``: "raw" is before the backfill, with no rollups to read). A request that fails
is reported as not measured; no figure is ever made up.

Target (the issue): p95 under 300 ms from rollups on 2 cores.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.api_data import (
    BATCH_LINES,
    DATABASE,
    MINUTE_MS,
    WRITERS,
    bench_sensors,
    check_lines,
    write_all,
)
from sensors.settings import Settings
from smartplace.servers import InfluxServer

TARGET_P95_MS = 300.0
EMISSIONS = "/api/v1/emissions"
INDICATORS = "/api/v1/indicators"
DAQI_HISTORY = "/api/v1/air-quality/daqi/history"
DAQI_DAILY = "/api/v1/air-quality/daqi/daily"
SERIES = "/api/v1/live/series"
_SOURCED = (EMISSIONS, INDICATORS)  # the endpoints that take source=raw|rollup (labels too)
DAY_MS = 86_400_000
HISTORY_MAX_MS = 31 * DAY_MS

class RequestFailed(RuntimeError):
    """A timed request did not answer 200."""

    def __init__(self, message: str, elapsed_ms: float) -> None:
        super().__init__(message)
        self.elapsed_ms = elapsed_ms


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Timing:
    """Latencies of one endpoint from one source (milliseconds), or why there are none."""

    endpoint: str
    source: str
    samples_ms: list[float] = field(default_factory=list)
    missing: str | None = None
    detail: str = ""
    failed_after_ms: float | None = None  # when a request failed: how long it took

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)


@dataclass
class ApiLatencyResult:
    sensors: int
    days: int
    points: int
    write_s: float
    lines_checked: int
    timings: list[Timing]
    notes: list[str]
    backfill_s: float | None = None

    @property
    def write_rate(self) -> float:
        return self.points / self.write_s

    def timing(self, endpoint: str, source: str) -> Timing | None:
        return next((t for t in self.timings if t.endpoint == endpoint and t.source == source),
                    None)

    def summary(self) -> str:
        """The printable report."""
        out = [
            f"API latency: {self.sensors} sensors x {self.days} days of 1-minute data = "
            f"{self.points:,} points",
            f"  written with {WRITERS} concurrent writers, {BATCH_LINES:,}-line gzip batches: "
            f"{self.write_s:.1f}s ({self.write_rate:,.0f} points/s); "
            f"{self.lines_checked} sample lines identical to reading_line()",
        ]
        if self.backfill_s is not None:
            out.append(f"  rollup backfill for the window: {self.backfill_s:.1f}s")
        for t in self.timings:
            label = f"  {t.endpoint} [{t.source}]"
            if t.missing:
                out.append(f"{label}: NOT MEASURED ({t.missing})")
            else:
                out.append(f"{label}: p50 {t.p50:,.0f} ms, p95 {t.p95:,.0f} ms "
                           f"(n={len(t.samples_ms)}){t.detail}")
        for endpoint in dict.fromkeys(t.endpoint for t in self.timings):
            raw, rollup = self.timing(endpoint, "raw"), self.timing(endpoint, "rollup")
            if raw and rollup and not raw.missing and not rollup.missing:
                target = (f"; rollup p95 {rollup.p95:,.0f} ms "
                          f"{'meets' if rollup.p95 < TARGET_P95_MS else 'MISSES'} the "
                          f"{TARGET_P95_MS:.0f} ms target") if endpoint in _SOURCED else ""
                out.append(
                    f"  {endpoint}: rollup/raw ratio p50 {rollup.p50 / raw.p50:.3f}, "
                    f"p95 {rollup.p95 / raw.p95:.3f}{target}")
            else:
                out.append(f"  {endpoint}: no rollup/raw ratio (not both measured)")
        out.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(out)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _time(client: httpx.AsyncClient, path: str, params: dict[str, str], warmups: int,
                requests: int) -> tuple[list[float], dict[str, Any]]:
    body: dict[str, Any] = {}
    samples: list[float] = []
    for n in range(warmups + requests):
        started = time.perf_counter()
        response = await client.get(path, params=params)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RequestFailed(
                f"{response.status_code} after {elapsed / 1000:.1f}s: {response.text[:300]}",
                elapsed)
        if n == 0:
            body = response.json()
        if n >= warmups:
            samples.append(elapsed)
    return samples, body


async def measure(settings: Settings, start_ms: int, end_ms: int, warmups: int,
                  requests: int) -> tuple[list[Timing], list[str], float | None]:
    """Time the endpoints from raw readings, then from rollups; (timings, notes, backfill s)."""
    from api.activity.rollup_job import ROLLUP_TIMEOUT_S, backfill
    from api.air.rollup import rollup_air
    from api.main import create_app

    app = create_app(settings)
    notes: list[str] = []
    timings: list[Timing] = []
    window = {"start": _iso(start_ms), "end": _iso(end_ms)}
    week = {"start": _iso(max(start_ms, end_ms - 7 * DAY_MS)), "end": window["end"]}
    month = {"start": _iso(max(start_ms, end_ms - HISTORY_MAX_MS)), "end": window["end"]}
    days = f"{(end_ms - start_ms) // DAY_MS} d"
    # label -> (path, parameters); the air-quality answers over a week too, which raw
    # readings can answer within the 30 s time-out at 300 sensors
    endpoints = {
        EMISSIONS: (EMISSIONS, {**window, "interval": "1d", "group_by": "domain"}),
        INDICATORS: (INDICATORS, dict(window)),
        f"{DAQI_HISTORY} 7 d": (DAQI_HISTORY, week),
        f"{DAQI_HISTORY} {days}": (DAQI_HISTORY, month),
        f"{DAQI_DAILY} 7 d": (DAQI_DAILY, week),
        f"{DAQI_DAILY} {days}": (DAQI_DAILY, dict(window)),
        SERIES: (SERIES, dict(window)),
    }
    backfill_s: float | None = None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     timeout=600) as client:
            totals: dict[tuple[str, str], Any] = {}
            for source in ("raw", "rollup"):
                if source == "rollup":
                    started = time.perf_counter()
                    await backfill(app.state.store, start_ms, end_ms, time.time_ns() // 1_000_000)
                    backfill_s = time.perf_counter() - started
                    # Its air-quality share: the same hours again (idempotent), those tiers only.
                    started = time.perf_counter()
                    await rollup_air(app.state.store, start_ms, end_ms, ROLLUP_TIMEOUT_S)
                    notes.append(f"of the backfill, the air-quality tiers alone took "
                                 f"{time.perf_counter() - started:.1f}s")
                for label, (path, params) in endpoints.items():
                    try:
                        asked = {**params, "source": source} if path in _SOURCED else params
                        samples, body = await _time(client, path, asked, warmups, requests)
                    except RequestFailed as exc:
                        timings.append(Timing(label, source, missing=f"request failed: {exc}",
                                              failed_after_ms=exc.elapsed_ms))
                        continue
                    except httpx.HTTPError as exc:
                        timings.append(Timing(label, source, missing=f"request failed: {exc!r}"))
                        continue
                    totals[(label, source)] = _answer(body)
                    timings.append(Timing(label, source, samples, detail=_describe(body)))
            for label in endpoints:
                raw, rollup = totals.get((label, "raw")), totals.get((label, "rollup"))
                if raw is not None and rollup is not None and raw != rollup:
                    notes.append(f"{label}: totals differ between raw ({raw}) and rollup "
                                 f"({rollup})")
    return timings, notes, backfill_s


def _answer(body: dict[str, Any]) -> Any:
    """What must not change between raw and rollups (rounded where floats are summed in
    another order)."""
    if "total_kgco2e" in body or "totals_tco2e" in body:
        return body.get("total_kgco2e", body.get("totals_tco2e"))
    if "days_by_band" in body:
        return body["days_by_band"]
    if "hours" in body:
        return [(hour["site"], hour["at"], hour["overall"]["index"]) for hour in body["hours"]]
    return [[t, *(None if v is None else round(v, 6) for v in values)]
            for t, *values in body.get("energy_kw", []) + body.get("no2_ugm3", [])]


def _describe(body: dict[str, Any]) -> str:
    if "rollup_start" in body:
        return (f"; rollups used for {body['rollup_start']} .. {body['rollup_end']}"
                if body["rollup_start"] else "; no rollups used")
    if "total_kgco2e" in body:
        text = f"; total {body['total_kgco2e']:,.1f} kgCO2e, {len(body.get('rows', []))} rows"
        source = body.get("source")
        if isinstance(source, dict):
            span = (source.get("rollup_start"), source.get("rollup_end"))
            text += (f"; rollups used for {span[0]} .. {span[1]}" if span[0]
                     else "; no rollups used")
        return text
    totals = body.get("totals_tco2e")
    if isinstance(totals, dict) and "total" in totals:
        return f"; total {totals['total']:,.2f} tCO2e"
    return ""


def run(days: int = 30, sensors: int = 300, requests: int = 20, warmups: int = 2,
        workdir: Path | None = None) -> ApiLatencyResult:
    """Write the data to a fresh influxd, time the API, and return the figures."""
    folder = workdir or Path(tempfile.mkdtemp(prefix="smartplace-bench-api-"))
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start_ms = int((today - timedelta(days=days)).timestamp() * 1000)
    minutes = days * 1440
    end_ms = start_ms + minutes * MINUTE_MS
    fleet = bench_sensors(sensors)
    checked = check_lines(fleet, start_ms, minutes)
    server = InfluxServer(folder)
    server.start()
    try:
        created = httpx.post(f"{server.url}/query", data={"q": f"CREATE DATABASE {DATABASE}"})
        created.raise_for_status()
        points, write_s = write_all(server.url, fleet, start_ms, minutes)
        print(f"wrote {points:,} points in {write_s:.1f}s ({points / write_s:,.0f} points/s)",
              flush=True)
        overrides: dict[str, Any] = {}
        if "rollup_interval_s" in Settings.model_fields:
            # No scheduled rollup job competing with the timed requests: the benchmark
            # backfills the window itself, once, before timing the rollup source.
            overrides["rollup_interval_s"] = 0
        if "api_cache_s" in Settings.model_fields:
            # Each timed request computes its answer: identical requests would otherwise
            # be served from the answer cache (bench --only load measures that).
            overrides["api_cache_s"] = 0
        settings = Settings(
            _env_file=None,
            influx_url=server.url, influx_database=DATABASE, api_keys=None, **overrides,
        )
        timings, notes, backfill_s = asyncio.run(
            measure(settings, start_ms, end_ms, warmups, requests))
        return ApiLatencyResult(sensors, days, points, write_s, checked, timings, notes,
                                backfill_s)
    finally:
        server.stop()

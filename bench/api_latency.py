"""API latency over a month of minute data: emissions and indicators, from rollups vs raw.

Method: a private ``influxd`` gets ``days`` x 1,440 minutes of readings for ``sensors``
sensors (a third each energy, transport, air quality), written directly as line protocol
(the exact lines the ingestor writes, checked against ``ingest.lineprotocol.reading_line``
on a sample) by two concurrent writer processes in 5,000-line gzip batches. The API then
runs in process (``httpx.ASGITransport``, inside the app's lifespan) and each request is
timed after warm-ups, sequentially:

- ``/api/v1/emissions?interval=1d&group_by=domain`` over the whole window;
- ``/api/v1/indicators`` over the whole window;

each with ``source=raw`` and, after the rollups are backfilled for the window
(``api.rollup_write.backfill``), ``source=rollup``, when the API offers a ``source``
parameter. Parts
the API does not offer yet are reported as not measured; no figure is ever made up.

Target (the issue): p95 under 300 ms from rollups on 2 cores.
"""

from __future__ import annotations

import asyncio
import gzip
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from sensors.lineprotocol import reading_line
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer

DATABASE = "bench_api"
BATCH_LINES = 5_000
WRITERS = 2
MINUTE_MS = 60_000
TARGET_P95_MS = 300.0
EMISSIONS = "/api/v1/emissions"
INDICATORS = "/api/v1/indicators"

_CARRIERS = (Carrier.ELECTRICITY, Carrier.ELECTRICITY, Carrier.GAS, Carrier.SOLAR_PV,
             Carrier.EV_CHARGING)
_LINK_KM = (0.18, 0.22, 0.28, 0.3, 0.35, 0.4, 0.45, 0.62)
_CLASSES = tuple(VehicleClass)
# Values come from small tables of pre-formatted text, so that building a line is string
# concatenation only (the shortest repr of each float, as ``reading_line`` writes it).
_KWH = [repr(round(0.05 + (i * 37 % 400) / 100, 2)) for i in range(97)]
_KW = [repr(round(3.0 + (i * 53 % 2400) / 10, 1)) for i in range(89)]
_COUNT = [str(i * 7 % 23) for i in range(101)]
_NO2 = [repr(round(5.0 + (i * 29 % 850) / 10, 1)) for i in range(83)]
_PM25 = [repr(round(1.0 + (i * 31 % 390) / 10, 1)) for i in range(79)]
_PM10 = [repr(round(2.0 + (i * 41 % 580) / 10, 1)) for i in range(73)]


@dataclass(frozen=True)
class BenchSensor:
    """One synthetic sensor."""

    index: int
    domain: Domain
    site: str
    sensor: str
    carrier: Carrier | None = None
    link_km: float | None = None


def bench_sensors(count: int) -> list[BenchSensor]:
    """``count`` sensors, a third per domain, spread over the registry's sites."""
    sites = [site.id for site in load_registry().sites]
    domains = (Domain.ENERGY, Domain.TRANSPORT, Domain.AIR_QUALITY)
    out = []
    for i in range(count):
        domain = domains[i * 3 // count] if count >= 3 else domains[i % 3]
        site = sites[i % len(sites)]
        if domain is Domain.ENERGY:
            out.append(BenchSensor(i, domain, site, f"bench-energy-{i:04d}",
                                   carrier=_CARRIERS[i % len(_CARRIERS)]))
        elif domain is Domain.TRANSPORT:
            out.append(BenchSensor(i, domain, site, f"bench-transport-{i:04d}",
                                   link_km=_LINK_KM[i % len(_LINK_KM)]))
        else:
            out.append(BenchSensor(i, domain, site, f"bench-aq-{i:04d}"))
    return out


def line_maker(sensor: BenchSensor, start_ms: int) -> Callable[[int], str]:
    """A function of the minute number k giving the sensor's line (ingestor format)."""
    i = sensor.index
    if sensor.domain is Domain.ENERGY:
        assert sensor.carrier is not None
        head = (f"energy,site={sensor.site},sensor={sensor.sensor},"
                f"carrier={sensor.carrier.value} energy_kwh=")

        def energy(k: int) -> str:
            return (f"{head}{_KWH[(k + i) % 97]},interval_s=60i,power_kw={_KW[(k * 3 + i) % 89]}"
                    f",seq={k}i {(start_ms + k * MINUTE_MS) * 1_000_000}")
        return energy
    if sensor.domain is Domain.TRANSPORT:
        head = f"transport,site={sensor.site},sensor={sensor.sensor} "
        link = f",interval_s=60i,link_km={sensor.link_km!r},seq="
        names = [f"count_{vc.value}=" for vc in _CLASSES]

        def transport(k: int) -> str:
            counts = ",".join(f"{name}{_COUNT[(k + i + n * 13) % 101]}i"
                              for n, name in enumerate(names))
            return f"{head}{counts}{link}{k}i {(start_ms + k * MINUTE_MS) * 1_000_000}"
        return transport
    head = f"air_quality,site={sensor.site},sensor={sensor.sensor} no2_ugm3="

    def air(k: int) -> str:
        return (f"{head}{_NO2[(k + i) % 83]},pm25_ugm3={_PM25[(k + 2 * i) % 79]},"
                f"pm10_ugm3={_PM10[(k + 3 * i) % 73]},seq={k}i "
                f"{(start_ms + k * MINUTE_MS) * 1_000_000}")
    return air


def model_line(sensor: BenchSensor, start_ms: int, k: int) -> str:
    """The same point built the ingestor's way: a validated reading and ``reading_line``."""
    i = sensor.index
    ts = start_ms + k * MINUTE_MS
    topic = Topic(sensor.domain, sensor.site, sensor.sensor)
    reading: Reading
    if sensor.domain is Domain.ENERGY:
        assert sensor.carrier is not None
        reading = EnergyReading(ts=ts, seq=k, carrier=sensor.carrier, interval_s=60,
                                energy_kwh=float(_KWH[(k + i) % 97]),
                                power_kw=float(_KW[(k * 3 + i) % 89]))
    elif sensor.domain is Domain.TRANSPORT:
        counts = {vc: int(_COUNT[(k + i + n * 13) % 101]) for n, vc in enumerate(_CLASSES)}
        reading = TransportReading(ts=ts, seq=k, interval_s=60, counts=counts,
                                   link_km=sensor.link_km)
    else:
        reading = AirQualityReading(ts=ts, seq=k, no2_ugm3=float(_NO2[(k + i) % 83]),
                                    pm25_ugm3=float(_PM25[(k + 2 * i) % 79]),
                                    pm10_ugm3=float(_PM10[(k + 3 * i) % 73]))
    return reading_line(topic, reading)


def check_lines(sensors: Sequence[BenchSensor], start_ms: int, minutes: int) -> int:
    """Compare the fast lines with ``reading_line`` on a sample; the number compared.

    Raises:
        SystemExit: a line differs.
    """
    checked = 0
    for sensor in [*sensors[:: max(1, len(sensors) // 30)], *sensors[-3:]]:
        make = line_maker(sensor, start_ms)
        for k in {0, 1, 59, 997, minutes // 2, minutes - 1}:
            if 0 <= k < minutes:
                fast, model = make(k), model_line(sensor, start_ms, k)
                if fast != model:
                    raise SystemExit(f"benchmark: line mismatch\n fast:  {fast}\n model: {model}")
                checked += 1
    return checked


def _write_share(url: str, sensors: list[BenchSensor], start_ms: int, minutes: int) -> int:
    """One writer process: every line of its sensors, in gzip batches; the points written."""
    written = 0
    with httpx.Client(base_url=url, timeout=120) as client:
        for sensor in sensors:
            make = line_maker(sensor, start_ms)
            for first in range(0, minutes, BATCH_LINES):
                body = "\n".join([make(k) for k in range(first, min(first + BATCH_LINES,
                                                                       minutes))])
                response = client.post(
                    "/write", params={"db": DATABASE, "precision": "ns"},
                    content=gzip.compress(body.encode(), compresslevel=1),
                    headers={"Content-Encoding": "gzip"},
                )
                if response.status_code != 204:
                    raise RuntimeError(f"write failed: {response.status_code} {response.text}")
                written += min(first + BATCH_LINES, minutes) - first
    return written


def write_all(url: str, sensors: list[BenchSensor], start_ms: int, minutes: int
              ) -> tuple[int, float]:
    """Write everything with two concurrent writer processes; (points, seconds)."""
    shares = [sensors[n::WRITERS] for n in range(WRITERS)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=WRITERS) as pool:
        futures = [pool.submit(_write_share, url, share, start_ms, minutes) for share in shares]
        points = sum(future.result() for future in futures)
    return points, time.perf_counter() - started


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
        for endpoint in (EMISSIONS, INDICATORS):
            raw, rollup = self.timing(endpoint, "raw"), self.timing(endpoint, "rollup")
            if raw and rollup and not raw.missing and not rollup.missing:
                out.append(
                    f"  {endpoint}: rollup/raw ratio p50 {rollup.p50 / raw.p50:.3f}, "
                    f"p95 {rollup.p95 / raw.p95:.3f}; rollup p95 {rollup.p95:,.0f} ms "
                    f"{'meets' if rollup.p95 < TARGET_P95_MS else 'MISSES'} the "
                    f"{TARGET_P95_MS:.0f} ms target"
                )
            else:
                out.append(f"  {endpoint}: no rollup/raw ratio (not both measured)")
        out.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(out)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _operation_params(document: dict[str, Any], path: str) -> set[str] | None:
    operation = document.get("paths", {}).get(path, {}).get("get")
    if operation is None:
        return None
    return {p["name"] for p in operation.get("parameters", [])}


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
    """Time the endpoints from each source the API offers; (timings, notes, backfill s)."""
    from api.main import create_app

    app = create_app(settings)
    document = app.openapi()
    notes: list[str] = []
    timings: list[Timing] = []
    window = {"start": _iso(start_ms), "end": _iso(end_ms)}
    endpoints = {
        EMISSIONS: {**window, "interval": "1d", "group_by": "domain"},
        INDICATORS: dict(window),
    }
    offered = {path: _operation_params(document, path) for path in endpoints}
    backfill_s: float | None = None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     timeout=600) as client:
            totals: dict[tuple[str, str], Any] = {}
            for source in ("raw", "rollup"):
                if source == "rollup":
                    if not any(p and "source" in p for p in offered.values()):
                        for path in endpoints:
                            timings.append(Timing(path, "rollup", missing=(
                                "the API has no rollup source yet" if offered[path] is not None
                                else f"{path} is not served by the API")))
                        break
                    from api.activity.rollup_job import backfill

                    started = time.perf_counter()
                    await backfill(app.state.store, start_ms, end_ms, time.time_ns() // 1_000_000)
                    backfill_s = time.perf_counter() - started
                for path, params in endpoints.items():
                    names = offered[path]
                    if names is None:
                        timings.append(Timing(path, source, missing=(
                            f"{path} is not served by the API (api/routes/indicators.py not "
                            "wired into api/main.py)" if path == INDICATORS
                            else f"{path} is not served by the API")))
                        continue
                    query = dict(params)
                    label = source
                    if "source" in names:
                        query["source"] = source
                    elif source == "rollup":
                        timings.append(Timing(path, source, missing=(
                            f"{path} has no `source` parameter")))
                        continue
                    else:
                        label = "raw"
                        notes.append(f"{path} has no `source` parameter: its one path is "
                                     "listed as raw, and it has no rollup figure")
                    try:
                        samples, body = await _time(client, path, query, warmups, requests)
                    except RequestFailed as exc:
                        timings.append(Timing(path, label, missing=f"request failed: {exc}",
                                              failed_after_ms=exc.elapsed_ms))
                        continue
                    except httpx.HTTPError as exc:
                        timings.append(Timing(path, label, missing=f"request failed: {exc!r}"))
                        continue
                    total = body.get("total_kgco2e", body.get("totals_tco2e"))
                    totals[(path, label)] = total
                    timings.append(Timing(path, label, samples, detail=_describe(body)))
            for path in endpoints:
                raw, rollup = totals.get((path, "raw")), totals.get((path, "rollup"))
                if raw is not None and rollup is not None and raw != rollup:
                    notes.append(f"{path}: totals differ between raw ({raw}) and rollup "
                                 f"({rollup})")
    return timings, notes, backfill_s


def _describe(body: dict[str, Any]) -> str:
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

"""The API under load: 50 concurrent clients asking for the last 24 hours of emissions.

Method: a private ``influxd`` gets two days of minute readings for ``sensors`` sensors
(``bench/api_data.py``, the ingestor's lines), the rollups are backfilled for them, and
``smartplace api`` runs as its own process (uvicorn, real HTTP on loopback). ``clients``
concurrent clients (asyncio, one process) then each send ``GET /api/v1/emissions``
(no ``start``/``end``: the 24 hours before now) one after another for ``seconds``, against
two servers in turn:

- **before**: every request computed from raw readings (``source=raw``, cache off), the
  case measured in issue 13 (13 requests/s, p50 3.7 s);
- **rollups**: ``source=auto`` reads the covered hours from rollups, cache off;
- **now**: the defaults (rollups, and identical requests share an answer for
  ``SMARTPLACE_API_CACHE_S``).

Target (issue 13): p99 under 1 s with 50 clients. Ratios are taken within the run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.api_data import DATABASE, MINUTE_MS, bench_sensors, write_all
from bench.api_latency import percentile
from bench.procstat import cpu_seconds
from smartplace.servers import InfluxServer, free_port

TARGET_P99_MS = 1000.0
PATH = "/api/v1/emissions"
CLIENTS_PER_PROCESS = 5


@dataclass(frozen=True)
class LoadRun:
    """What the clients saw from one server."""

    name: str
    latencies_ms: list[float]
    errors: int
    seconds: float
    cpu_seconds: float
    client_cpu_seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def row(self, base_rate: float) -> str:
        ok = self.latencies_ms or [float("nan")]
        return (f"| {self.name} | {self.rate:,.1f} | {self.rate / base_rate:.1f} | "
                f"{percentile(ok, 50):,.0f} | {percentile(ok, 99):,.0f} | {self.errors} | "
                f"{self.cpu_seconds * 1000 / max(1, len(self.latencies_ms)):,.1f} | "
                f"{self.client_cpu_seconds * 1000 / max(1, len(self.latencies_ms)):,.1f} |")


async def _clients(port: int, clients: int, seconds: float, params: dict[str, str]
                   ) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120,
                                 limits=limits) as client:
        async def one_client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.get(PATH, params=params)
                except httpx.HTTPError:
                    errors += 1
                    continue
                if response.status_code == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return latencies, errors, time.perf_counter() - started


def _client_process(port: int, clients: int, seconds: float, params: dict[str, str]
                    ) -> tuple[list[float], int, float, float]:
    cpu = time.process_time()
    latencies, errors, elapsed = asyncio.run(_clients(port, clients, seconds, params))
    return latencies, errors, elapsed, time.process_time() - cpu


def _load(port: int, clients: int, seconds: float, params: dict[str, str]
          ) -> tuple[list[float], int, float, float]:
    """``clients`` clients spread over processes of at most ``CLIENTS_PER_PROCESS``: httpx
    spent 15 ms of CPU per request with 50 connections in one process (2026-12-02), which
    on 2 cores made the load generator the bottleneck, not the API."""
    processes = -(-clients // CLIENTS_PER_PROCESS)
    shares = [clients // processes + (n < clients % processes) for n in range(processes)]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        done = list(pool.map(_client_process, [port] * processes, shares,
                             [seconds] * processes, [params] * processes))
    return ([ms for one in done for ms in one[0]], sum(one[1] for one in done),
            max(one[2] for one in done), sum(one[3] for one in done))


def _serve(influx_url: str, port: int, cache_s: float, log: Path) -> subprocess.Popen[bytes]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "SMARTPLACE_INFLUX_URL": influx_url, "SMARTPLACE_INFLUX_DATABASE": DATABASE,
           "SMARTPLACE_API_PORT": str(port), "SMARTPLACE_API_CACHE_S": str(cache_s),
           "SMARTPLACE_ROLLUP_INTERVAL_S": "0",  # backfilled once; no job in the timing
           "SMARTPLACE_LOG_LEVEL": "WARNING", "SMARTPLACE_LOG_FORMAT": "text"}
    with log.open("ab") as handle:
        process = subprocess.Popen([sys.executable, "-m", "smartplace", "api"], env=env,
                                   stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code < 500:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"benchmark: smartplace api did not start; see {log}")


def _measure(name: str, influx_url: str, workdir: Path, cache_s: float,
             params: dict[str, str], clients: int, seconds: float) -> LoadRun:
    port = free_port()
    process = _serve(influx_url, port, cache_s, workdir / f"api-{port}.log")
    try:
        asyncio.run(_clients(port, 2, 2.0, params))  # warm-up: connections, imports
        cpu_before = cpu_seconds(process.pid)
        latencies, errors, elapsed, client_cpu = _load(port, clients, seconds, params)
        cpu = cpu_seconds(process.pid) - cpu_before
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    return LoadRun(name, latencies, errors, elapsed, cpu, client_cpu)


async def _backfill(influx_url: str, start_ms: int, end_ms: int) -> None:
    from api.activity.rollup_job import backfill
    from api.influx import InfluxStore
    from sensors.settings import Settings

    store = InfluxStore(Settings(_env_file=None, influx_url=influx_url,
                                 influx_database=DATABASE))
    try:
        await backfill(store, start_ms, end_ms, end_ms)
    finally:
        await store.aclose()


def run(clients: int = 50, seconds: float = 30.0, sensors: int = 300,
        workdir: Path | None = None) -> str:
    """Both servers under the same load; the figures as a Markdown table."""
    folder = workdir or Path(tempfile.mkdtemp(prefix="smartplace-bench-load-"))
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    start_ms = now_ms - now_ms % MINUTE_MS - 2 * 1440 * MINUTE_MS
    server = InfluxServer(folder)
    server.start()
    try:
        httpx.post(f"{server.url}/query",
                   data={"q": f"CREATE DATABASE {DATABASE}"}).raise_for_status()
        points, write_s = write_all(server.url, bench_sensors(sensors), start_ms, 2 * 1440)
        asyncio.run(_backfill(server.url, start_ms, now_ms))
        print(f"wrote {points:,} points in {write_s:.1f}s; rollups backfilled", flush=True)
        before = _measure("before: raw readings, no cache", server.url, folder, 0,
                          {"source": "raw"}, clients, seconds)
        rollups = _measure("rollups for whole hours, no cache", server.url, folder, 0, {},
                           clients, seconds)
        now = _measure("now: rollups for whole hours + answer cache (defaults)", server.url,
                       folder, 5, {}, clients, seconds)
    finally:
        server.stop()
    lines = [f"{clients} clients, GET {PATH} (the last 24 hours), {seconds:.0f} s each, "
             f"{sensors} sensors; load {os.getloadavg()[0]:.1f}",
             "| server | requests/s | vs before | p50 ms | p99 ms | errors | "
             "API CPU ms per request | clients' CPU ms per request |",
             "|---|---|---|---|---|---|---|---|",
             *(one.row(before.rate) for one in (before, rollups, now))]
    p99 = percentile(now.latencies_ms, 99) if now.latencies_ms else float("inf")
    lines.append(f"target p99 < {TARGET_P99_MS:,.0f} ms: "
                 f"{'met' if p99 < TARGET_P99_MS else 'NOT met'} ({p99:,.0f} ms)")
    return "\n".join(lines)

"""The API's side of the scale benchmark (:mod:`bench.scale`): ``/api/v1/sensors`` and the
live poller over the data of N sensors.

After a drain has stored readings of N sensors, their database gets one recent reading per
sensor (every 100th sensor's is 30 minutes old, so 1 % are silent and raise
``sensor_silent`` alerts), written as the ingestor writes them (``reading_line``), and
written again before each phase: at 30,000 sensors a phase takes minutes, and readings
older than two intervals would turn every sensor silent. Before the first phase, the
last :data:`HISTORY_MIN` minutes get a reading per sensor per minute (the silent ones
excepted), as a network reporting each minute leaves them, and the rollup job backfills
from yesterday's London midnight, as a running API keeps it (the live ``carbon`` panel
reads rolled-up hours from the rollups; its raw part is what the history makes costly).
Then:

- ``smartplace api`` runs against that database (its packaged registry: the N sensors are
  ``registered: false``, found in the data); ``/api/v1/sensors`` is timed (the first
  request, which seeds the API's last-seen index, then 20 after 2 warm-ups: the steady
  state), the live stream (``/api/v1/live``) is read for a few seconds (time to the first
  ``sensors`` event, size of each panel's event, the ``sensors`` full list apart from its
  change events), and the process's RSS is sampled;
- in this process, an app whose registry lists all N sensors (``create_app(registry=...)``)
  times its last-seen index alone (the seed, its seq seed, which the API runs beside
  the ticks, then one refresh of recent readings: what
  both use), the live ``carbon`` panel alone (its first computation, then a refresh),
  then its live hub's ``tick()``: the first computes every panel (the slow ones
  included, or their first part: the series fill in over several ticks at 30,000
  sensors, the carbon panel runs beside the ticks), the following ones the per-refresh
  panels only. That is one poll cycle, measured directly; ticks go on (paced as the
  poller paces them) until every panel has been sent whole: the time to a whole screen;
  then :data:`STEADY_TICKS` more, the steady cycle.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from bench.api_latency import percentile
from bench.consumers import wait_for
from bench.messages import PREFIX, payloads
from bench.procstat import rss_bytes
from sensors.lineprotocol import reading_line
from sensors.readings import Carrier
from sensors.registry import Registry, Sensor, Site
from sensors.settings import Settings
from sensors.topics import Domain, domain_of, parse_topic
from sensors.validation import validate_payload
from smartplace.servers import free_port

REQUESTS, WARMUPS = 20, 2
LIVE_S = 8.0
LIVE_MAX_S = 180.0  # a first tick slower than this is reported as not seen
TICKS = 6
STEADY_TICKS = 5  # once the screen is whole: the cycle a wall screen then lives with
WHOLE = ("now:", "series:1h", "series:24h", "sensors:", "alerts:", "carbon:")
WHOLE_MAX_S = 300.0  # a screen not whole by then is reported as not seen
SILENT_EVERY = 100
WRITE_BATCH = 5_000
HISTORY_MIN = 30


@dataclass
class ApiScale:
    """The API's figures at one sensor count."""

    sensors: int
    listed: int = 0
    list_ms: list[float] = field(default_factory=list)
    first_list_ms: float = 0.0  # the first request: seeds the last-seen index
    list_bytes: int = 0
    first_sensors_s: float | None = None  # connect to the first ``sensors`` event
    event_bytes: dict[str, int] = field(default_factory=dict)  # largest event of each kind
    rss_idle: int = 0
    rss_max: int = 0
    alert_kinds: dict[str, int] = field(default_factory=dict)  # active alerts, by kind
    tick_ms: list[float] = field(default_factory=list)  # in process, registered sensors
    steady_ms: list[float] = field(default_factory=list)  # ticks after the screen is whole
    last_seen_ms: list[float] = field(default_factory=list)  # index seed, then a refresh
    seq_seed_ms: float = 0.0  # the seq seed, after the index seed (beside it in the API)
    carbon_ms: list[float] = field(default_factory=list)  # carbon panel: first, refresh
    carbon_reads: str = ""  # the panel's raw reads: bulk spans and row requests
    whole_s: float | None = None  # first tick's start to a screen with every panel whole
    history_s: float = 0.0  # writing HISTORY_MIN minutes of readings
    rollup_s: float = 0.0  # the rollup backfill since yesterday's London midnight
    problems: list[str] = field(default_factory=list)


class PeakRss:
    """Samples a process tree's RSS every ``interval_s`` in a thread; keeps the peak."""

    def __init__(self, pid: int, interval_s: float = 0.1) -> None:
        self.peak = rss_bytes(pid)
        self._pid, self._interval = pid, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, rss_bytes(self._pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _line(topic_text: str, payload: bytes, ts: int, seq: int) -> str:
    """The payload at ``ts`` with ``seq``, as the ingestor writes it."""
    body = orjson.loads(payload)
    body["ts"], body["seq"] = ts, seq
    domain = domain_of(PREFIX, topic_text)
    assert domain is not None
    reading = validate_payload(domain, orjson.dumps(body))
    return reading_line(parse_topic(PREFIX, topic_text), reading)


def write_recent(url: str, database: str, sensors: int, phase: int = 0) -> None:
    """One reading per sensor, 20 s old (every :data:`SILENT_EVERY`-th: 30 minutes old).

    ``phase``: the how-many-th call (0, 1, ...): its seq is 100,000 + phase, far from the
    drain's (the seq-gap alert compares within 1 h), right after write_history's, and one
    up at each call, as a device's next message (a repeated seq would make every sensor
    one the seq seed reads raw).
    """
    now = time.time_ns() // 1_000_000
    _write(url, database, [
        _line(topic_text, payload, now - (1_800_000 if index % SILENT_EVERY == 0 else 20_000),
              100_000 + phase)
        for index, (topic_text, payload) in enumerate(payloads(sensors, sensors))])


def write_history(url: str, database: str, sensors: int, minutes: int = HISTORY_MIN) -> None:
    """A reading per sensor per minute for the last ``minutes`` minutes (each sensor at its
    own millisecond), but none from the silent sensors."""
    now = time.time_ns() // 1_000_000
    messages = [(index, topic_text, payload)
                for index, (topic_text, payload) in enumerate(payloads(sensors, sensors))
                if index % SILENT_EVERY != 0]
    for minute in range(minutes):
        at = now - (minutes - minute) * 60_000
        _write(url, database, [_line(topic_text, payload, at + index % 60_000,
                                     100_000 - minutes + minute)
                               for index, topic_text, payload in messages])


async def backfill_rollups(settings: Settings) -> None:
    """What the API's rollup job keeps: the hours since yesterday's London midnight."""
    from api.activity.rollup_job import backfill
    from api.influx import InfluxStore
    from api.live.carbon import today_and_yesterday

    store = InfluxStore(settings)
    try:
        now = time.time_ns() // 1_000_000
        _, yesterday = today_and_yesterday(now)
        await backfill(store, yesterday.start_ns // 1_000_000, now, now, limit_ms=None)
    finally:
        await store.aclose()


def _write(url: str, database: str, lines: list[str]) -> None:
    for start in range(0, len(lines), WRITE_BATCH):
        answer = httpx.post(f"{url}/write", params={"db": database, "precision": "ns"},
                            content="\n".join(lines[start:start + WRITE_BATCH]), timeout=60)
        answer.raise_for_status()


def bench_registry(sensors: int) -> Registry:
    """A registry listing the drain's N sensors (``payloads``: sensor k at ``site-{k % 9}``)."""
    sites = tuple(Site(id=f"site-{i}", name=f"Bench site {i}", lat=53.41 + i / 1000,
                       lon=-2.16, kind="bench") for i in range(9))
    domains = (Domain.ENERGY, Domain.TRANSPORT, Domain.AIR_QUALITY)
    return Registry(network="bench", sites=sites, sensors=tuple(
        Sensor(id=f"sensor-{k:05d}", site=f"site-{k % 9}", domain=domains[k % 3],
               interval_s=60, carrier=Carrier.ELECTRICITY if k % 3 == 0 else None,
               link_km=0.4 if k % 3 == 1 else None)
        for k in range(sensors)))


def _read_live(url: str, seconds: float, result: ApiScale) -> None:
    """Read the live stream for ``seconds``, and on until the first tick's ``sensors`` and
    ``alerts`` events came (at most :data:`LIVE_MAX_S`): when the first ``sensors`` event
    arrived, the largest event of each kind."""
    started = time.perf_counter()
    name, data = "", b""
    timeout = httpx.Timeout(10, read=LIVE_MAX_S + 30)  # heartbeats come every 15 s
    with httpx.stream("GET", f"{url}/api/v1/live", timeout=timeout) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data += line.removeprefix("data: ").encode()
            elif not line and name:
                if name == "sensors" and result.first_sensors_s is None:
                    result.first_sensors_s = time.perf_counter() - started
                if name == "sensors" and not orjson.loads(data).get("full", True):
                    name = "sensors_change"  # the full list is sent once per client
                if name == "error":
                    _problem(result, f"live stream: {orjson.loads(data)['message']}")
                if name == "alerts":
                    kinds = [alert["kind"] for alert in orjson.loads(data)["active"]]
                    result.alert_kinds = {kind: kinds.count(kind) for kind in set(kinds)}
                result.event_bytes[name] = max(result.event_bytes.get(name, 0), len(data))
                name, data = "", b""
            elapsed = time.perf_counter() - started
            complete = {"sensors", "sensors_change", "alerts"} <= result.event_bytes.keys()
            if (elapsed > seconds and complete) or elapsed > LIVE_MAX_S:
                return


def _problem(result: ApiScale, text: str) -> None:
    if text not in result.problems:
        result.problems.append(text)


def _time_sensor_list(url: str, result: ApiScale, requests: int) -> None:
    with httpx.Client(base_url=url, timeout=120) as client:
        for n in range(WARMUPS + requests):
            started = time.perf_counter()
            answer = client.get("/api/v1/sensors")
            elapsed_ms = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            if n == 0:
                result.first_list_ms = elapsed_ms
            if n >= WARMUPS:
                result.list_ms.append(elapsed_ms)
        result.listed = len(answer.json()["sensors"])
        result.list_bytes = len(answer.content)


def measure_process(influx_url: str, database: str, workdir: Path, result: ApiScale,
                    requests: int = REQUESTS, live_s: float = LIVE_S) -> None:
    """Time ``smartplace api`` (a child process) on the database."""
    port = free_port()
    env = {"SMARTPLACE_INFLUX_URL": influx_url, "SMARTPLACE_INFLUX_DATABASE": database,
           "SMARTPLACE_API_HOST": "127.0.0.1", "SMARTPLACE_API_PORT": str(port),
           "SMARTPLACE_ROLLUP_INTERVAL_S": "0", "SMARTPLACE_LOG_FORMAT": "text",
           "PATH": "/usr/bin:/bin"}
    url = f"http://127.0.0.1:{port}"
    with (workdir / "api.log").open("ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "smartplace", "api"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_for(lambda: _answers(f"{url}/health"), 60, "smartplace api answering", 0.2)
        result.rss_idle = rss_bytes(process.pid)
        peak = PeakRss(process.pid)
        try:
            write_recent(influx_url, database, result.sensors, 0)
            _time_sensor_list(url, result, requests)
            write_recent(influx_url, database, result.sensors, 1)
            _read_live(url, live_s, result)
        finally:
            result.rss_max = peak.stop()
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:  # busy in a long request: its figures are moot
            process.kill()
            process.wait(30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def _ticks(settings: Settings, registry: Registry, result: ApiScale, ticks: int) -> None:
    from api.errors import StoreError
    from api.live.carbon import CarbonPanel
    from api.main import create_app
    from api.network.last_seen_index import LastSeenIndex
    from sensors.factors import load_factors

    app = create_app(settings, registry=registry)
    async with app.router.lifespan_context(app):
        # What /sensors and the sensors panel read: the seed, then new readings only.
        index = LastSeenIndex(app.state.store, refresh_s=0, reseed_s=3600)
        for _ in range(2):
            started = time.perf_counter()
            await index.get()
            result.last_seen_ms.append((time.perf_counter() - started) * 1000)
            if not index.seq_ready:
                started = time.perf_counter()
                await index.seq_gaps(time.time_ns() // 1_000_000)
                result.seq_seed_ms = (time.perf_counter() - started) * 1000
        await index.aclose()
        # The carbon panel alone: its first computation reads the raw hours in bulk, a
        # refresh only the readings since (here, the seconds since the first one).
        panel = CarbonPanel(app.state.store, load_factors())
        for _ in range(2):
            started = time.perf_counter()
            try:
                await panel.fetch(time.time_ns() // 1_000_000)
            except StoreError as exc:
                _problem(result, f"carbon panel: {exc.message}")
                break
            result.carbon_ms.append((time.perf_counter() - started) * 1000)
        result.carbon_reads = (f"{panel.tally.bulk_reads} bulk, "
                               f"{panel.tally.row_requests} row requests")
        hub = app.state.live_hub
        began = time.perf_counter()
        shown: dict[str, bool] = {}  # panel: whole (a series not partial), as last sent
        tick = 0
        while tick < ticks or (result.whole_s is None
                               and time.perf_counter() - began < WHOLE_MAX_S):
            started = time.perf_counter()
            events = await hub.tick()
            if tick < ticks:
                result.tick_ms.append((time.perf_counter() - started) * 1000)
            tick += 1
            for event in events:
                if event.name == "error":
                    _problem(result, f"tick: {', '.join(event.data['failed'])} failed "
                                     f"({event.data['message']})")
                elif event.name in ("series", "carbon", "sensors", "alerts", "now"):
                    key = f"{event.name}:{event.data.get('window', '')}"
                    shown[key] = not event.data.get("partial", False)
            if result.whole_s is None and len(shown) == len(WHOLE) and all(shown.values()):
                result.whole_s = time.perf_counter() - began
            if tick >= ticks and result.whole_s is None:
                await asyncio.sleep(hub.refresh_s)  # as the poller paces its ticks
        while result.whole_s is not None and len(result.steady_ms) < STEADY_TICKS:
            await asyncio.sleep(hub.refresh_s)
            started = time.perf_counter()
            await hub.tick()
            result.steady_ms.append((time.perf_counter() - started) * 1000)


def measure(influx_url: str, database: str, sensors: int, workdir: Path, *,
            requests: int = REQUESTS, live_s: float = LIVE_S, ticks: int = TICKS) -> ApiScale:
    """Everything above, on the drain's database (which the caller's influxd serves)."""
    result = ApiScale(sensors)
    settings = Settings(_env_file=None, influx_url=influx_url,
                        influx_database=database, api_keys=None, rollup_interval_s=0)
    started = time.perf_counter()
    write_history(influx_url, database, sensors)
    result.history_s = time.perf_counter() - started
    started = time.perf_counter()
    asyncio.run(backfill_rollups(settings))
    result.rollup_s = time.perf_counter() - started
    measure_process(influx_url, database, workdir, result, requests, live_s)
    write_recent(influx_url, database, sensors, 2)
    asyncio.run(_ticks(settings, bench_registry(sensors), result, ticks))
    if result.listed < sensors:
        result.problems.append(f"/api/v1/sensors listed {result.listed} of {sensors}")
    return result


def p(values: list[float], q: float) -> str:
    """A percentile in ms, or '-' when nothing was measured."""
    return f"{percentile(values, q):,.0f}" if values else "-"

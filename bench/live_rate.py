"""Live-rate benchmark: ``smartplace ingest`` under a steady publish rate, not a drain.

Method, per target rate, on fresh servers: ``smartplace ingest`` (one process, or
``--workers N``) subscribes; one or more paced publishers (:mod:`bench.live_publisher`)
publish QoS 1 contract payloads from 300 sensors for ``seconds``, each stamped with its
publish time. Every 500th message is a probe on its own series; this process polls
InfluxDB for the probes every 100 ms (one small query of one series) and takes, for each,
the time it was first seen minus its own timestamp: publish-to-queryable latency, an upper
bound by up to one poll period. Once a second it samples the ingestor's RSS and its
``/metrics`` (received, stored). At the end it waits for the ingestor to catch up, then
counts and sums what InfluxDB holds against what was published (:func:`bench.drain.check_content`).

"Sustained" means the publishers kept their rate (>= 95 % of it), the ingestor was less
than one second of messages behind (published minus stored) both at half-time and when
the publishers stopped, nothing was lost and every probe was seen. The CPU of the
ingestor, mosquitto and influxd over the run (as cores) shows where the time went on a
shared machine. Target (issue 13): 8,000 msg/s sustained with p99 under 500 ms.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.api_latency import percentile
from bench.consumers import Smartplace, metric, wait_for
from bench.drain import Bench, check_content
from bench.live_publisher import PROBE_EVERY, PROBE_SITE, PublisherProcess
from bench.messages import PREFIX, Totals
from bench.procstat import cpu_seconds, rss_bytes
from smartplace.broker_auth import publisher_account
from smartplace.servers import InfluxServer, MosquittoServer

POLL_S = 0.1
SAMPLE_S = 1.0
CATCH_UP_S = 120.0
TARGET_RATE, TARGET_P99_MS = 8_000, 500.0
_MB = 1024 * 1024


@dataclass
class LiveRun:
    """What one target rate did."""

    target: float
    workers: int
    publishers: int
    published: int = 0
    publish_s: float = 0.0
    publisher_cpu_s: float = 0.0
    stored_while_publishing: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    probes: int = 0
    rss: list[int] = field(default_factory=list)  # one sample a second, from before the start
    cpu_s: float = 0.0  # the ingestor's, from the first publish until it caught up
    server_cpu_s: tuple[float, float] = (0.0, 0.0)  # mosquitto's and influxd's, the same
    busy_s: float = 0.0  # that same window
    behind_mid: int = 0
    behind_end: int = 0
    catch_up_s: float = 0.0
    stored: int = 0
    problems: tuple[str, ...] = ()
    load: str = ""

    @property
    def publish_rate(self) -> float:
        return self.published / self.publish_s

    @property
    def ingest_rate(self) -> float:
        return self.stored_while_publishing / self.publish_s

    @property
    def lost(self) -> int:
        return self.published - self.stored

    @property
    def sustained(self) -> bool:
        return (self.publish_rate >= 0.95 * self.target
                and max(self.behind_mid, self.behind_end) < self.target
                and self.lost == 0 and len(self.latencies_ms) == self.probes)

    @property
    def ingestor(self) -> str:
        return "1 process" if self.workers == 1 else f"--workers {self.workers}"


class ProbeWatch:
    """Polls InfluxDB for the probes and keeps when each was first seen."""

    def __init__(self, url: str, database: str, since_ms: int) -> None:
        self._client = httpx.Client(base_url=url, timeout=10)
        self._params = {
            "db": database, "epoch": "ms",
            "q": "SELECT seq FROM air_quality WHERE site = $site AND time >= $since "
                 "GROUP BY sensor",
            "params": orjson.dumps({"site": PROBE_SITE,
                                    "since": since_ms * 1_000_000}).decode()}
        self.latency_ms: dict[tuple[str, int], float] = {}

    def poll(self) -> None:
        try:
            answer = self._client.get("/query", params=self._params).json()
        except (httpx.HTTPError, ValueError):
            return  # not yet (the database may not exist yet): the next poll tries again
        seen_ms = time.time() * 1000
        for series in answer.get("results", [{}])[0].get("series", []):
            sensor = series.get("tags", {}).get("sensor", "")
            for point_ms, seq in series["values"]:
                self.latency_ms.setdefault((sensor, int(seq)), seen_ms - point_ms)

    def close(self) -> None:
        self._client.close()


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _merged(outcomes: Sequence[dict[str, Any]]) -> Totals:
    merged = Totals()
    for outcome in outcomes:
        one = Totals(**outcome["totals"])
        for name, count in one.by_measurement.items():
            merged.by_measurement[name] = merged.by_measurement.get(name, 0) + count
        merged.energy_kwh += one.energy_kwh
        merged.vehicles += one.vehicles
        merged.no2_ugm3 += one.no2_ugm3
    return merged


def _watch(run: LiveRun, ingest: Smartplace, pid: int, probes: ProbeWatch,
           publishers: Sequence[PublisherProcess], seconds: float) -> list[dict[str, Any]]:
    """Poll and sample while publishing, then until everything is stored and seen; the
    publishers' outcomes."""
    port = ingest.metrics_port
    started = time.perf_counter()
    next_sample, ended_at = started, 0.0
    stored_start = int(metric(port, "smartplace_ingest_stored_total"))
    outcomes: list[dict[str, Any]] = []
    while True:
        now = time.perf_counter()
        probes.poll()
        if not outcomes and all(one.process.poll() is not None for one in publishers):
            outcomes = [one.finish() for one in publishers]
            stored = int(metric(port, "smartplace_ingest_stored_total"))
            run.published = sum(one["sent"] for one in outcomes)
            run.publish_s = max(one["paced_s"] for one in outcomes)
            run.publisher_cpu_s = sum(one["cpu_s"] for one in outcomes)
            run.probes = sum(one["sent"] // PROBE_EVERY for one in outcomes)
            run.behind_end = max(0, run.published - stored)
            run.stored_while_publishing = stored - stored_start
            ended_at = now
        if now >= next_sample:
            next_sample += SAMPLE_S
            run.rss.append(rss_bytes(pid))
            if not outcomes and not run.behind_mid and now - started >= seconds / 2:
                stored = int(metric(port, "smartplace_ingest_stored_total"))
                run.behind_mid = max(0, sum(one.sent for one in publishers) - stored)
        if outcomes and ((len(probes.latency_ms) >= run.probes and metric(
                port, "smartplace_ingest_stored_total") >= run.published)
                or now - ended_at > CATCH_UP_S):
            run.catch_up_s, run.busy_s = now - ended_at, now - started
            run.rss.append(rss_bytes(pid))
            return outcomes
        time.sleep(max(0.0, POLL_S - (time.perf_counter() - now)))


def run_rate(rate: float, seconds: float, workers: int = 1, publishers: int = 1,
             sensors: int = 300, workdir: Path | None = None) -> LiveRun:
    """Publish at ``rate`` for ``seconds`` into a fresh broker, ingestor and InfluxDB."""
    made = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="smartplace-bench-live-"))
    ingest = Smartplace(workers=workers, client_id="bench-live")
    accounts = [publisher_account(f"bench-live-pub-{i}", PREFIX) for i in range(publishers)]
    broker = MosquittoServer(workdir, accounts=accounts + ingest.accounts(), prefixes=[PREFIX])
    store = InfluxServer(workdir)
    run = LiveRun(rate, workers, publishers, load=_loadavg())
    broker.start()
    store.start()
    process: subprocess.Popen[bytes] | None = None
    try:
        bench = Bench(workdir, broker, store)
        process = ingest._start(bench)
        wait_for(lambda: metric(ingest.metrics_port, "smartplace_ingest_mqtt_subscribed") == 1,
                 60, f"{ingest.name} subscribed", 0.2)
        probes = ProbeWatch(store.url, ingest.database, time.time_ns() // 1_000_000 - 1000)
        run.rss.append(rss_bytes(process.pid))
        servers = [server.process.pid for server in (broker, store) if server.process]
        cpu_start = cpu_seconds(process.pid)
        servers_start = [cpu_seconds(pid) for pid in servers]
        children = [PublisherProcess(broker.port, account, rate / publishers, seconds,
                                     sensors, i, publishers)
                    for i, account in enumerate(accounts)]
        outcomes = _watch(run, ingest, process.pid, probes, children, seconds)
        run.cpu_s = cpu_seconds(process.pid) - cpu_start
        broker_s, influx_s = (cpu_seconds(pid) - start
                              for pid, start in zip(servers, servers_start, strict=True))
        run.server_cpu_s = (broker_s, influx_s)
        run.latencies_ms = sorted(probes.latency_ms.values())
        probes.close()
        ingest._stop(process)
        process = None
        bench.expected = _merged(outcomes)
        run.stored, run.problems = check_content(bench, ingest.database)
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the workers go too
        broker.stop()
        store.stop()
    run.load += f" -> {_loadavg()}"
    if made:
        shutil.rmtree(workdir)  # only after a run that finished: a failure leaves the logs
    return run


def run(rates: Sequence[float], seconds: float, workers: Sequence[int] = (1,),
        publishers: int = 1) -> list[LiveRun]:
    """Every rate with every ingestor configuration, each on fresh servers."""
    results = []
    for rate in rates:
        for count in workers:
            one = run_rate(rate, seconds, count, publishers)
            print(f"live {rate:,.0f} msg/s, {one.ingestor}: published {one.publish_rate:,.0f}/s,"
                  f" p99 {_p(one, 99)}, behind at the end {one.behind_end:,}", flush=True)
            results.append(one)
    return results


def _p(run: LiveRun, q: float) -> str:
    return f"{percentile(run.latencies_ms, q):,.0f} ms" if run.latencies_ms else "-"


def _mb(value: int) -> str:
    return f"{value / _MB:,.0f}"


def table(results: Sequence[LiveRun]) -> str:
    """The results as a Markdown table, and the machine's load during each run."""
    lines = ["| target msg/s | ingestor | published msg/s | stored msg/s | p50 | p99 | "
             "probes seen | behind at half-time / end | catch-up s | RSS MB start / end / max "
             "| ingest CPU ms per 1k | CPU cores: ingest / mosquitto / influxd | lost "
             "| sustained |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for one in results:
        cores = " / ".join(f"{cpu / one.busy_s:.2f}" if one.busy_s else "-"
                           for cpu in (one.cpu_s, *one.server_cpu_s))
        verdict = "yes" if one.sustained else "NO"
        if one.problems:
            verdict += f" ({'; '.join(one.problems)})"
        lines.append(
            f"| {one.target:,.0f} | {one.ingestor} | {one.publish_rate:,.0f} | "
            f"{one.ingest_rate:,.0f} | {_p(one, 50)} | {_p(one, 99)} | "
            f"{len(one.latencies_ms)} of {one.probes} | {one.behind_mid:,} / "
            f"{one.behind_end:,} | {one.catch_up_s:.1f} | {_mb(one.rss[0])} / "
            f"{_mb(one.rss[-1])} / {_mb(max(one.rss))} | "
            f"{one.cpu_s * 1e6 / max(1, one.published):,.0f} | {cores} | {one.lost:,} | "
            f"{verdict} |")
    lines.append("")
    at_target = [one for one in results if one.target == TARGET_RATE]
    if at_target:
        for one in at_target:
            met = bool(one.sustained and one.latencies_ms
                       and percentile(one.latencies_ms, 99) < TARGET_P99_MS)
            lines.append(f"Target {TARGET_RATE:,} msg/s sustained with p99 under "
                         f"{TARGET_P99_MS:.0f} ms, {one.ingestor}: "
                         f"{'met' if met else 'NOT met'} in this run.")
    lines += [f"- {one.target:,.0f} msg/s, {one.ingestor}: load average {one.load}; "
              f"publisher CPU {one.publisher_cpu_s * 1e6 / max(1, one.published):,.0f} us/msg"
              for one in results]
    return "\n".join(lines)

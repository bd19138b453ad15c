"""Scale benchmark: throughput, memory and the API at 300, 3,000 and 30,000 distinct sensors.

Method, per sensor count N, on fresh servers (:func:`bench.drain.run`): N messages
(``--messages``) from N distinct sensors are queued for the count-only paho subscriber and
for ``smartplace ingest``, and each drains its queue in the same run, so the ratio between
them is the figure to compare across N. While the ingestor drains, a thread samples its
RSS and the CPU of ``influxd`` every 0.1 s, with the ingestor's own counters (received,
stored), so influxd is charged for the drain window only (to within one sample). Then
influxd is started again on the same data and :mod:`bench.scale_api` measures
``/api/v1/sensors`` and the live poller over those N sensors.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import drain, scale_api
from bench.consumers import CountOnly, Smartplace
from bench.drain import Bench, Consumer, Drained
from bench.procstat import cpu_seconds, rss_bytes
from smartplace.servers import InfluxServer

SAMPLE_S = 0.1
_MB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    at: float
    ingest_rss: int
    influx_cpu_s: float
    received: float
    stored: float


def _counters(port: int) -> tuple[float, float]:
    """The ingestor's received and stored counters from one ``/metrics`` (-1: no answer)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return -1.0, -1.0
    found = {sample.name: sample.value for family in text_string_to_metric_families(text)
             for sample in family.samples}
    return (found.get("smartplace_ingest_received_total", -1.0),
            found.get("smartplace_ingest_stored_total", -1.0))


class DrainSampler:
    """Samples the ingestor's RSS, influxd's CPU and the ingestor's counters in a thread."""

    def __init__(self, ingest_pid: int, influx_pid: int, metrics_port: int) -> None:
        self.samples: list[Sample] = []
        self._pids, self._port = (ingest_pid, influx_pid), metrics_port
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ingest, influx = self._pids
        while not self._stop.wait(SAMPLE_S):
            received, stored = _counters(self._port)
            self.samples.append(Sample(time.perf_counter(), rss_bytes(ingest),
                                       cpu_seconds(influx), received, stored))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class SampledSmartplace(Smartplace):
    """``smartplace ingest`` as :class:`bench.consumers.Smartplace` drains it, sampled."""

    expected: int = 0
    sampler: DrainSampler | None = field(default=None, init=False)

    def _start(self, bench: Bench) -> subprocess.Popen[bytes]:
        process = super()._start(bench)
        assert bench.store.process is not None
        self.expected = len(bench.messages)
        self.sampler = DrainSampler(process.pid, bench.store.process.pid, self.metrics_port)
        return process

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        super()._stop(process)

    def drain_samples(self) -> list[Sample]:
        """The samples from the first message received to the last one stored."""
        samples = self.sampler.samples if self.sampler else []
        first = next((i for i, s in enumerate(samples) if s.received > 0), 0)
        last = next((i for i, s in enumerate(samples) if s.stored >= self.expected),
                    len(samples) - 1)
        return samples[max(0, first - 1):last + 1]


@dataclass
class ScaleRow:
    sensors: int
    baseline: Drained
    ingest: Drained
    ingest_rss_max: int
    influx_cpu_s: float
    api: scale_api.ApiScale

    @property
    def ratio(self) -> float:
        return self.ingest.rate / self.baseline.rate


def run_one(sensors: int, messages: int, workdir: Path, **api_sizes: Any) -> ScaleRow:
    """Drain ``messages`` from ``sensors`` sensors, then measure the API on that data."""
    ingest = SampledSmartplace()
    consumers: list[Consumer] = [CountOnly(), ingest]
    baseline, drained = drain.run(consumers, messages, sensors, workdir)
    window = ingest.drain_samples()
    influx_cpu = window[-1].influx_cpu_s - window[0].influx_cpu_s if window else 0.0
    rss_max = max((s.ingest_rss for s in window), default=0)
    store = InfluxServer(workdir)  # the drain's data, served again
    store.start(timeout_s=180)  # it replays its WAL first: 30,000 series took over 15 s
    try:
        api = scale_api.measure(store.url, ingest.database, sensors, workdir, **api_sizes)
    finally:
        store.stop()
    return ScaleRow(sensors, baseline, drained, rss_max, influx_cpu, api)


def run(sensor_counts: Sequence[int], messages: int, **api_sizes: Any) -> list[ScaleRow]:
    """Every sensor count on fresh servers; ``api_sizes`` go to :func:`bench.scale_api.measure`."""
    root = Path(tempfile.mkdtemp(prefix="smartplace-bench-scale-"))
    rows = []
    for sensors in sensor_counts:
        load = Path("/proc/loadavg").read_text().split()[:3]
        row = run_one(sensors, messages, root / f"sensors-{sensors}", **api_sizes)
        print(f"scale {sensors:,} sensors (load average {' '.join(load)}): ratio "
              f"{row.ratio:.2f}, /api/v1/sensors p50 {scale_api.p(row.api.list_ms, 50)} ms",
              flush=True)
        rows.append(row)
    shutil.rmtree(root)  # only when every count ran: a failure leaves the servers' logs
    return rows


def table(rows: Sequence[ScaleRow]) -> str:
    """Two Markdown tables: the drains, then the API."""
    out = ["| sensors | count-only msg/s | smartplace msg/s | ratio | smartplace CPU ms per 1k "
           "| influxd CPU ms per 1k | ingestor max RSS MB | lost | notes |",
           "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        per_1k = row.influx_cpu_s * 1e6 / row.ingest.messages
        out.append(f"| {row.sensors:,} | {row.baseline.rate:,.0f} | {row.ingest.rate:,.0f} | "
                   f"{row.ratio:.2f} | {row.ingest.cpu_ms_per_1k:,.0f} | {per_1k:,.0f} | "
                   f"{row.ingest_rss_max / _MB:,.0f} | {row.ingest.lost:,} | "
                   f"{'; '.join(row.ingest.problems)} |")
    out += ["", "| sensors | /api/v1/sensors ms: first (seed) / p50 / p99 | answer KB | live: "
            "first `sensors` event s | live event KB: sensors full / changes / alerts (active) "
            "| poll cycle ms: first / later p50; screen whole s; then p50 | last-seen index "
            "ms: seed / refresh; seq seed | carbon panel ms: first / refresh (raw reads) | "
            "history written / rollups backfilled s | API RSS MB idle / max | notes |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        api = row.api
        later = api.tick_ms[1:]
        first = (f"{api.first_sensors_s:.2f}" if api.first_sensors_s is not None
                 else f"none within {scale_api.LIVE_MAX_S:.0f} s")
        whole = (f"{api.whole_s:.1f}" if api.whole_s is not None
                 else f"not within {scale_api.WHOLE_MAX_S:.0f}")
        out.append(
            f"| {row.sensors:,} | {api.first_list_ms:,.0f} / {scale_api.p(api.list_ms, 50)} / "
            f"{scale_api.p(api.list_ms, 99)} | {api.list_bytes / 1024:,.0f} | "
            f"{first} | {api.event_bytes.get('sensors', 0) / 1024:,.0f} / "
            f"{api.event_bytes.get('sensors_change', 0) / 1024:,.1f} / "
            f"{api.event_bytes.get('alerts', 0) / 1024:,.1f} ({sum(api.alert_kinds.values())}) | "
            f"{api.tick_ms[0] if api.tick_ms else 0:,.0f} / {scale_api.p(later, 50)}; "
            f"{whole}; {scale_api.p(api.steady_ms, 50)} | "
            f"{' / '.join(f'{ms:,.0f}' for ms in api.last_seen_ms) or '-'}; "
            f"{api.seq_seed_ms:,.0f} | "
            f"{' / '.join(f'{ms:,.0f}' for ms in api.carbon_ms) or '-'} "
            f"({api.carbon_reads}) | {api.history_s:,.0f} / {api.rollup_s:,.0f} | "
            f"{api.rss_idle / _MB:,.0f} / {api.rss_max / _MB:,.0f} | "
            f"{'; '.join(api.problems)} |")
    return "\n".join(out)

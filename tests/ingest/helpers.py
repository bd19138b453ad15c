"""Helpers for the ingest tests: readings to publish, the ingestor's metrics, a child ingestor."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from sensors.readings import VehicleClass
from sensors.settings import Settings
from tests.helpers import eventually, settings_env

TS0 = 1795687200000  # 2026-11-26T10:00:00Z


def metrics(settings: Settings) -> dict[str, float]:
    """The ingestor's Prometheus samples, keyed by name plus labels."""
    text = httpx.get(f"http://127.0.0.1:{settings.metrics_port}/metrics", timeout=5).text
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return samples


def subscribed(settings: Settings) -> bool:
    try:
        return metrics(settings).get("smartplace_ingest_mqtt_subscribed") == 1.0
    except httpx.HTTPError:
        return False


def readings(prefix: str, count: int, seed: int = 7) -> list[tuple[str, bytes, dict[str, object]]]:
    """``count`` valid messages over the three domains: (topic, payload, payload as dict)."""
    rng = random.Random(seed)
    out: list[tuple[str, bytes, dict[str, object]]] = []
    for k in range(count):
        kind = k % 3
        ts = TS0 + k  # unique per sensor: every message has its own millisecond
        if kind == 0:
            sensor, domain = f"meter-{k % 5}", "energy"
            body: dict[str, object] = {
                "ts": ts, "carrier": rng.choice(["electricity", "gas", "solar_pv", "ev_charging"]),
                "energy_kwh": round(rng.uniform(0, 50), 3), "interval_s": 60, "seq": k,
            }
        elif kind == 1:
            sensor, domain = f"counter-{k % 4}", "transport"
            body = {"ts": ts, "interval_s": 60, "seq": k, "link_km": 0.5,
                    "counts": {vc.value: rng.randint(0, 40) for vc in VehicleClass}}
        else:
            sensor, domain = f"aq-{k % 3}", "air_quality"
            body = {"ts": ts, "no2_ugm3": round(rng.uniform(5, 80), 2),
                    "pm25_ugm3": round(rng.uniform(1, 30), 2)}
        out.append((f"{prefix}/{domain}/site-{k % 2}/{sensor}", orjson.dumps(body), body))
    return out


class IngestProcess:
    """``python -m smartplace ingest [ARGS]`` as a child process with the test's settings,
    in a process group of its own (so a pool's workers go with it at teardown)."""

    def __init__(self, settings: Settings, log_path: Path, args: tuple[str, ...] = ()) -> None:
        self.settings = settings
        self.log_path = log_path
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it has subscribed (its metrics say so)."""
        self.start_unchecked()
        eventually(lambda: subscribed(self.settings), 20, message="ingest subscribed")

    def start_unchecked(self) -> None:
        """Start it without waiting (for one that cannot report, or must not succeed)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smartplace", "ingest", *self.args],
                env=settings_env(self.settings), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout_s: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout_s)

    def kill_all(self) -> None:
        """SIGKILL the process and everything it started."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def kill_9_mid_stream(process: IngestProcess, stored: Callable[[], int], under_way: int,
                      total: int, timeout_s: float = 90) -> int:
    """Once ``under_way`` readings are stored, ``kill -9`` the ingestor; how many were
    stored at the kill (fewer than ``total``: the kill landed mid-stream)."""
    eventually(lambda: stored() >= under_way, timeout_s, message="stream under way")
    process.signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    at_kill = stored()
    assert at_kill < total, "the kill must land mid-stream"
    return at_kill

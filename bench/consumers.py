"""The contenders of the drain benchmark (:mod:`bench.drain`), each run as child processes.

- ``CountOnly``: a paho subscriber that only counts (acknowledges on receipt): the floor
  every Python MQTT consumer pays, and the baseline of every ratio.
- ``AckHandoff``: paho with manual acknowledgement and a writer thread, nothing stored:
  what the hand-off and acknowledgement cost, before and after issue 13.
- ``Smartplace``: ``smartplace ingest`` (validated, stored, acknowledged after the write),
  one process or ``--workers N``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families

from bench.count_subscriber import session_properties
from bench.drain import RECEIVE_MAXIMUM, Bench, Drained, check_content
from bench.messages import PREFIX
from bench.mixed import FORMAT_TOPICS
from bench.procstat import cpu_seconds
from smartplace.broker_auth import BrokerAccount, ingest_account, new_password
from smartplace.servers import free_port

PROFILE = os.environ.get("BENCH_PROFILE")
# Every consumer may read the mixed drain's format topics too (bench.mixed).
READ = (f"{PREFIX}/#", *FORMAT_TOPICS)


def register_session(port: int, account: BrokerAccount, topics: tuple[str, ...]) -> None:
    """Create the persistent session of ``account`` subscribed to ``topics``, then leave."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=account.username,
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(account.username, account.password)
    client.connect("127.0.0.1", port, clean_start=True,
                   properties=session_properties(RECEIVE_MAXIMUM))
    client.loop_start()
    client.subscribe([(topic, 1) for topic in topics])
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()


def _child_drain(module: str, mode: tuple[str, ...], bench: Bench,
                 account: BrokerAccount) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-m", module, *mode, "127.0.0.1", str(bench.broker.port),
         account.username, str(len(bench.messages)), str(RECEIVE_MAXIMUM)],
        check=True, capture_output=True, text=True, timeout=900,
        env={**os.environ, "BENCH_MQTT_PASSWORD": account.password},
    ).stdout.split()
    return float(out[0]), float(out[1])


@dataclass
class CountOnly:
    name: str = "paho subscriber that only counts"
    account: BrokerAccount = field(default_factory=lambda: BrokerAccount(
        "bench-count", new_password(), read=READ))

    def accounts(self) -> list[BrokerAccount]:
        return [self.account]

    def register(self, bench: Bench) -> None:
        register_session(bench.broker.port, self.account, bench.topics)

    def drain(self, bench: Bench) -> Drained:
        seconds, cpu = _child_drain("bench.count_subscriber", (), bench, self.account)
        return Drained(self.name, len(bench.messages), seconds, cpu)


@dataclass
class AckHandoff:
    mode: str  # "each" (before issue 13) or "batch" (now)
    account: BrokerAccount = field(init=False)

    def __post_init__(self) -> None:
        self.account = BrokerAccount(f"bench-ack-{self.mode}", new_password(),
                                     read=READ)

    @property
    def name(self) -> str:
        how = ("one ack per message, 2 ms naps" if self.mode == "each"
               else "one packet of acks per batch, event wake-up")
        return f"manual-ack hand-off only ({how})"

    def accounts(self) -> list[BrokerAccount]:
        return [self.account]

    def register(self, bench: Bench) -> None:
        register_session(bench.broker.port, self.account, bench.topics)

    def drain(self, bench: Bench) -> Drained:
        seconds, cpu = _child_drain("bench.ack_handoff", (self.mode,), bench, self.account)
        return Drained(self.name, len(bench.messages), seconds, cpu)


def metric(port: int, name: str) -> float:
    """One sample of an ingestor's ``/metrics`` (-1 while it does not answer)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return -1.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return -1.0


def wait_for(check: Callable[[], bool], timeout_s: float, what: str,
             interval_s: float = 0.1) -> float:
    """Poll until ``check``; the ``perf_counter`` time it became true."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        if check():
            return time.perf_counter()
        time.sleep(interval_s)
    raise SystemExit(f"benchmark: {what} did not happen within {timeout_s}s")


@dataclass
class Smartplace:
    workers: int = 1
    client_id: str = "bench-ingest"
    database: str = field(init=False)
    metrics_port: int = field(default_factory=free_port)
    password: str = field(default_factory=new_password)
    # Another checkout's code (a worktree of an older commit, say), for a before/after in
    # one run; None = this one.
    code_dir: Path | None = None

    def __post_init__(self) -> None:
        other = re.sub(r"[^a-z0-9]+", "-", self.code_dir.name.lower()) if self.code_dir else ""
        self.client_id = f"{self.client_id}-x{self.workers}" + (f"-{other}" if other else "")
        self.database = self.client_id.replace("-", "_")

    @property
    def name(self) -> str:
        name = ("smartplace ingest (validated, stored, acked after the write)"
                if self.workers == 1 else f"smartplace ingest --workers {self.workers}")
        return f"{name} [{self.code_dir.name}]" if self.code_dir else name

    def accounts(self) -> list[BrokerAccount]:
        base = ingest_account(self.client_id, PREFIX, FORMAT_TOPICS)
        names = [self.client_id] + [f"{self.client_id}-{i}" for i in range(1, self.workers + 1)]
        return [BrokerAccount(name, self.password, base.read, base.write) for name in names]

    def _start(self, bench: Bench) -> subprocess.Popen[bytes]:
        env = {
            "SMARTPLACE_MQTT_URL": (f"mqtt://{self.client_id}:{self.password}@127.0.0.1:"
                                    f"{bench.broker.port}"),
            "SMARTPLACE_INFLUX_URL": bench.store.url,
            "SMARTPLACE_INFLUX_DATABASE": self.database,
            "SMARTPLACE_TOPIC_PREFIX": PREFIX,
            "SMARTPLACE_INGEST_CLIENT_ID": self.client_id,
            "SMARTPLACE_INGEST_WORKERS": str(self.workers),
            "SMARTPLACE_METRICS_PORT": str(self.metrics_port),
            "SMARTPLACE_LOG_FORMAT": "text",
            "SMARTPLACE_SPOOL_DIR": str(bench.workdir / self.client_id / "spool"),
            "SMARTPLACE_INGEST_HTTP_PORT": "0",
            "PATH": "/usr/bin:/bin",
        }
        if bench.devices_file is not None:
            env["SMARTPLACE_DEVICES_FILE"] = str(bench.devices_file)
        if self.code_dir is not None:
            env["PYTHONPATH"] = str(self.code_dir)
        log = bench.workdir / f"{self.client_id}.log"
        with log.open("ab") as handle:
            return subprocess.Popen([sys.executable, "-m", "smartplace", "ingest"], env=env,
                                    stdout=handle, stderr=subprocess.STDOUT,
                                    start_new_session=True, cwd=self.code_dir)

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGTERM)
        if process.wait(90) != 0:
            raise SystemExit(f"benchmark: {self.name} did not exit cleanly")

    def register(self, bench: Bench) -> None:
        process = self._start(bench)
        # With workers: 1 once every one has its session, before messages are queued.
        wait_for(lambda: metric(self.metrics_port, "smartplace_ingest_mqtt_subscribed") == 1,
                 60, f"{self.name} subscribed", 0.2)
        self._stop(process)

    def drain(self, bench: Bench) -> Drained:
        expected = len(bench.messages)
        process = self._start(bench)
        port = self.metrics_port
        first = wait_for(lambda: metric(port, "smartplace_ingest_received_total") > 0, 90,
                         f"{self.name}: first message", 0.02)
        cpu_first = cpu_seconds(process.pid)
        if PROFILE and self.workers == 1:  # py-spy's raw stacks of the drain's first 8 s
            subprocess.Popen(["py-spy", "record", "-o", PROFILE, "-d", "8", "-r", "200",
                              "--pid", str(process.pid), "--format", "raw"])
        done = wait_for(lambda: metric(port, "smartplace_ingest_stored_total") >= expected,
                        900, f"{self.name}: all stored")
        cpu_done = cpu_seconds(process.pid)
        self._stop(process)
        stored, problems = check_content(bench, self.database)
        return Drained(self.name, expected, done - first, cpu_done - cpu_first, stored,
                       problems)


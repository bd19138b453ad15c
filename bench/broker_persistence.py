"""What ``autosave_interval 1`` costs the broker, against mosquitto's usual 30 s.

A kill -9 of mosquitto loses what it acknowledged since its last save, so the shipped
config saves every second (README, "Nothing lost"). Each save writes the whole in-memory
database, which grows with the queue. This runs, alternately for both settings, the
worst case of the ingest benchmark: N QoS 1 messages queued for an offline persistent
session, then drained by the count-only subscriber; ratios are taken within a pair.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.consumers import register_session
from bench.messages import PREFIX, payloads, publish
from smartplace import server_config, servers
from smartplace.broker_auth import BrokerAccount, new_password, publisher_account

INTERVALS = (30, 1)
BASELINE_ID = "bench-count"


@dataclass(frozen=True)
class PersistenceRun:
    """One drain with one autosave interval."""

    interval_s: int
    publish_rate: float
    drain_rate: float


def run_once(interval_s: int, messages: int) -> PersistenceRun:
    """Queue ``messages`` on a fresh broker saving every ``interval_s``, then drain them."""
    server_config.AUTOSAVE_INTERVAL_S = interval_s
    workdir = Path(tempfile.mkdtemp(prefix="smartplace-autosave-"))
    baseline = BrokerAccount(BASELINE_ID, new_password(), read=(f"{PREFIX}/#",))
    publisher = publisher_account("bench-publisher", PREFIX)
    broker = servers.MosquittoServer(workdir, accounts=[baseline, publisher], prefixes=[PREFIX])
    broker.start()
    try:
        register_session(broker.port, baseline, (f"{PREFIX}/#",))
        batch = payloads(messages)
        publish_s = publish(broker.port, publisher, batch)
        time.sleep(interval_s if interval_s <= 2 else 0)  # at least one save of the queue
        drain_s = float(subprocess.run(
            [sys.executable, "-m", "bench.count_subscriber", "127.0.0.1", str(broker.port),
             BASELINE_ID, str(messages), "20000"],
            check=True, capture_output=True, text=True, timeout=600,
            env={**os.environ, "BENCH_MQTT_PASSWORD": baseline.password},
        ).stdout.split()[0])
    finally:
        broker.stop()
        server_config.AUTOSAVE_INTERVAL_S = 1
    return PersistenceRun(interval_s, messages / publish_s, messages / drain_s)


def run(messages: int = 100_000, repeat: int = 3) -> str:
    """Paired runs (30 s, then 1 s, ``repeat`` times); the summary lines."""
    lines = []
    ratios = []
    for number in range(1, repeat + 1):
        slow, fast = (run_once(interval, messages) for interval in INTERVALS)
        ratio = fast.drain_rate / slow.drain_rate
        ratios.append(ratio)
        lines.append(f"pair {number}: autosave 30 s publish {slow.publish_rate:,.0f} / drain "
                     f"{slow.drain_rate:,.0f} msg/s | autosave 1 s publish "
                     f"{fast.publish_rate:,.0f} / drain {fast.drain_rate:,.0f} msg/s | "
                     f"drain ratio {ratio:.2f}")
    ratios.sort()
    lines.append(f"broker drain with autosave 1 s / 30 s (median of {repeat}): "
                 f"{ratios[len(ratios) // 2]:.2f}")
    return "\n".join(lines)

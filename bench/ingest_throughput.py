"""End-to-end ingest throughput against a counting-only paho subscriber, in one run.

Method: two persistent MQTT sessions subscribe to the same prefix (the baseline
counter and the ingestor) and go offline; 100,000 QoS 1 messages are published and
queued by the broker for both. Each consumer is then started alone and timed while it
drains its queue: the counter from first to last message, the ingestor from its first
received message until every reading is stored in InfluxDB. Both run as child
processes, so neither shares an interpreter with the benchmark itself.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families

from bench.count_subscriber import session_properties
from sensors.readings import VehicleClass
from sensors.settings import Settings
from smartplace.broker_auth import (
    BrokerAccount,
    ingest_account,
    new_password,
    publisher_account,
)
from smartplace.servers import InfluxServer, MosquittoServer, free_port

PREFIX = "bench/town-centre"
BASELINE_ID = "bench-baseline"
INGEST_ID = "bench-ingest"
PROFILE = __import__("os").environ.get("BENCH_PROFILE")


@dataclass
class ThroughputResult:
    messages: int
    baseline_s: float
    ingest_s: float

    @property
    def baseline_rate(self) -> float:
        return self.messages / self.baseline_s

    @property
    def ingest_rate(self) -> float:
        return self.messages / self.ingest_s

    @property
    def ratio(self) -> float:
        return self.ingest_rate / self.baseline_rate


def payloads(count: int, sensors: int = 300) -> list[tuple[str, bytes]]:
    """Contract-valid messages over the three domains, about 130-220 bytes each."""
    rng = random.Random(42)
    start = 1_795_687_200_000
    out = []
    for k in range(count):
        sensor = k % sensors
        ts = start + (k // sensors) * 60_000 + sensor  # unique per sensor
        kind = sensor % 3
        if kind == 0:
            domain = "energy"
            body: dict[str, object] = {"ts": ts, "seq": k // sensors, "carrier": "electricity",
                                       "energy_kwh": round(rng.uniform(0, 40), 3),
                                       "interval_s": 60, "power_kw": round(rng.uniform(0, 2400), 1)}
        elif kind == 1:
            domain = "transport"
            body = {"ts": ts, "seq": k // sensors, "interval_s": 60, "link_km": 0.4,
                    "counts": {vc.value: rng.randint(0, 30) for vc in VehicleClass}}
        else:
            domain = "air_quality"
            body = {"ts": ts, "seq": k // sensors, "no2_ugm3": round(rng.uniform(5, 90), 1),
                    "pm25_ugm3": round(rng.uniform(1, 40), 1),
                    "pm10_ugm3": round(rng.uniform(2, 60), 1)}
        out.append((f"{PREFIX}/{domain}/site-{sensor % 9}/sensor-{sensor:04d}", orjson.dumps(body)))
    return out


def _metric(port: int, name: str) -> float:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return -1.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return -1.0


def _wait(check: object, timeout_s: float, what: str, interval_s: float = 0.02) -> float:
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        if check():  # type: ignore[operator]
            return time.perf_counter()
        time.sleep(interval_s)
    raise SystemExit(f"benchmark: {what} did not happen within {timeout_s}s")


def _publish(port: int, account: BrokerAccount, messages: list[tuple[str, bytes]]) -> float:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(account.username, account.password)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    started = time.perf_counter()
    # paho's packet ids wrap at 65,535, so no more than that may be outstanding at once.
    window = 20_000
    for offset in range(0, len(messages), window):
        infos = [client.publish(topic, payload, qos=1)
                 for topic, payload in messages[offset:offset + window]]
        for info in infos:
            info.wait_for_publish(120)
            if not info.is_published():
                raise SystemExit("benchmark: the broker did not acknowledge every publish")
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


def _register_baseline_session(port: int, receive_maximum: int, account: BrokerAccount) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=BASELINE_ID, protocol=mqtt.MQTTv5)
    client.username_pw_set(account.username, account.password)
    client.connect("127.0.0.1", port, clean_start=True,
                   properties=session_properties(receive_maximum))
    client.loop_start()
    client.subscribe(f"{PREFIX}/#", qos=1)
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()


def _ingest_process(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        "SMARTPLACE_MQTT_URL": settings.mqtt_url,
        "SMARTPLACE_INFLUX_URL": settings.influx_url,
        "SMARTPLACE_INFLUX_DATABASE": settings.influx_database,
        "SMARTPLACE_TOPIC_PREFIX": settings.topic_prefix,
        "SMARTPLACE_INGEST_CLIENT_ID": settings.ingest_client_id,
        "SMARTPLACE_METRICS_PORT": str(settings.metrics_port),
        "SMARTPLACE_LOG_FORMAT": "text",
        "SMARTPLACE_SPOOL_DIR": str(log.parent / "spool"),
        "PATH": "/usr/bin:/bin",
    }
    with log.open("ab") as handle:
        return subprocess.Popen([sys.executable, "-m", "smartplace", "ingest"], env=env,
                                stdout=handle, stderr=subprocess.STDOUT)


def run(messages: int = 100_000) -> ThroughputResult:
    """Run the benchmark once on fresh local servers and return the timings."""
    workdir = Path(tempfile.mkdtemp(prefix="smartplace-bench-"))
    # The broker as it ships: accounts and an ACL (the ingestor's name is its client id).
    baseline = BrokerAccount(BASELINE_ID, new_password(), read=(f"{PREFIX}/#",))
    publisher = publisher_account("bench-publisher", PREFIX)
    broker = MosquittoServer(workdir, accounts=[baseline, publisher,
                                                ingest_account(INGEST_ID, PREFIX)],
                             prefixes=[PREFIX])
    store = InfluxServer(workdir)
    broker.start()
    store.start()
    settings = Settings(
        _env_file=None,
        mqtt_url=broker.url_for(INGEST_ID), influx_url=store.url, influx_database="bench",
        topic_prefix=PREFIX, ingest_client_id=INGEST_ID, metrics_port=free_port(),
    )
    port = settings.metrics_port
    try:
        # Register both persistent sessions, then take them offline.
        _register_baseline_session(broker.port, settings.ingest_receive_maximum, baseline)
        ingest = _ingest_process(settings, workdir / "ingest.log")
        _wait(lambda: _metric(port, "smartplace_ingest_mqtt_subscribed") == 1, 30, "subscribe")
        ingest.send_signal(signal.SIGTERM)
        ingest.wait(30)

        batch = payloads(messages)
        publish_s = _publish(broker.port, publisher, batch)
        print(f"published {messages:,} QoS 1 messages in {publish_s:.1f}s "
              f"({messages / publish_s:,.0f}/s); queued at the broker for both consumers")

        baseline_s = float(subprocess.run(
            [sys.executable, "-m", "bench.count_subscriber", "127.0.0.1", str(broker.port),
             BASELINE_ID, str(messages), str(settings.ingest_receive_maximum)],
            check=True, capture_output=True, text=True, timeout=600,
            env={**os.environ, "BENCH_MQTT_PASSWORD": baseline.password},
        ).stdout.strip())

        ingest = _ingest_process(settings, workdir / "ingest.log")
        first = _wait(lambda: _metric(port, "smartplace_ingest_received_total") > 0, 60,
                      "first message")
        if PROFILE:
            subprocess.Popen(["py-spy", "record", "-o", PROFILE, "-d", "8", "-r", "200",
                              "--pid", str(ingest.pid), "--format", "raw"])
        done = _wait(lambda: _metric(port, "smartplace_ingest_stored_total") >= messages, 600,
                     "all stored", interval_s=0.05)
        ingest.send_signal(signal.SIGTERM)
        if ingest.wait(60) != 0:
            raise SystemExit("benchmark: the ingestor did not exit cleanly")
        counted = httpx.get(f"{store.url}/query", params={
            "db": "bench", "q": "SELECT count(seq) FROM energy, transport, air_quality"
        }).json()["results"][0]["series"]
        stored = sum(series["values"][0][1] for series in counted)
        if stored != messages:
            raise SystemExit(f"benchmark: {stored} of {messages} readings in InfluxDB")
        return ThroughputResult(messages, baseline_s, done - first)
    finally:
        broker.stop()
        store.stop()

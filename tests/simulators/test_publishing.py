"""The simulator against a real mosquitto: what arrives is exactly what the report counts."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from sensors.errors import InvalidReadingError
from sensors.readings import Reading
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.topics import Topic, parse_topic
from sensors.validation import validate_payload
from simulators.engine import SimulationOptions, SimulationReport, run_simulation
from simulators.errors import BrokerUnavailableError
from simulators.profiles import synthetic_sensors
from smartplace.broker_auth import BrokerAccount, new_password
from smartplace.servers import MosquittoServer, free_port
from tests.helpers import PUBLISHER, as_publisher, eventually, influx_rows, publisher_url

pytestmark = pytest.mark.integration

SMARTPLACE = Path(sys.executable).with_name("smartplace")
START_MS = 1_780_272_000_000  # 2026-06-01T00:00:00Z


class Subscriber:
    """Collects every message under a prefix at QoS 1."""

    def __init__(self, broker: MosquittoServer, prefix: str) -> None:
        self.prefix = prefix
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        # An account of its own that reads the prefix and publishes the drain markers.
        account = broker.add_account(BrokerAccount(
            f"sub-{secrets.token_hex(4)}", new_password(), read=(f"{prefix}/#",),
            write=(f"{prefix}/zz-marker/#",)))
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self._client.username_pw_set(account.username, account.password)
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.connect("127.0.0.1", broker.port)
        self._client.subscribe(f"{prefix}/#", options=SubscribeOptions(qos=1))
        self._client.loop_start()
        eventually(self._subscribed.is_set, timeout_s=10, message="SUBACK")

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reason_codes: list[ReasonCode], properties: Properties) -> None:
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object,
                    message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def drain(self) -> list[tuple[str, bytes]]:
        """Everything the broker routed before now: a marker is published and awaited.

        The simulator has had every message acknowledged, so the broker queued them for
        us before the marker; messages to one subscriber keep the broker's order.
        """
        marker = f"{self.prefix}/zz-marker/{secrets.token_hex(4)}"
        self._client.publish(marker, b"", qos=1)

        def seen() -> int | None:
            with self._lock:
                topics = [topic for topic, _ in self.messages]
            return topics.index(marker) + 1 if marker in topics else None

        end = eventually(seen, timeout_s=10, message="marker")
        with self._lock:
            received = [m for m in self.messages[:end] if not m[0].startswith(
                f"{self.prefix}/zz-marker/")]
            del self.messages[:end]
        return received

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def subscriber(settings: Settings, mosquitto: MosquittoServer) -> Iterator[Subscriber]:
    sub = Subscriber(mosquitto, settings.topic_prefix)
    try:
        yield sub
    finally:
        sub.close()


def classify(prefix: str, messages: list[tuple[str, bytes]]
             ) -> tuple[list[tuple[Topic, Reading]], Counter[str]]:
    """Valid readings (with their topics) and the reasons of the bad ones."""
    good: list[tuple[Topic, Reading]] = []
    bad: Counter[str] = Counter()
    for topic, payload in messages:
        try:
            parsed = parse_topic(prefix, topic)
            good.append((parsed, validate_payload(parsed.domain, payload)))
        except InvalidReadingError as exc:
            bad[exc.reason.value] += 1
    return good, bad


def assert_report_matches(report: SimulationReport, prefix: str,
                          messages: list[tuple[str, bytes]]) -> list[tuple[Topic, Reading]]:
    good, bad = classify(prefix, messages)
    assert report.total == len(messages)
    assert report.failed == 0
    assert report.bad == dict(bad)
    assert report.by_domain == {d: sum(t.domain == d for t, _ in good)
                                for d in ("energy", "transport", "air_quality")}
    return good


def assert_series_consistent(good: list[tuple[Topic, Reading]]) -> None:
    """Per sensor: seq is 0, 1, 2, ... and ts strictly increases."""
    by_sensor: dict[str, list[Reading]] = defaultdict(list)
    for topic, reading in good:
        by_sensor[topic.sensor].append(reading)
    for sensor, readings in by_sensor.items():
        assert [r.seq for r in readings] == list(range(len(readings))), sensor
        stamps = [r.ts for r in readings]
        assert all(a < b for a, b in pairwise(stamps)), sensor


def test_run_simulation_publishes_exactly_what_it_reports(settings: Settings,
                                                          subscriber: Subscriber) -> None:
    report = run_simulation(as_publisher(settings),
                            SimulationOptions(count=200, bad_ratio=0.1, rate=4000))
    messages = subscriber.drain()
    assert len(messages) == 200
    good = assert_report_matches(report, settings.topic_prefix, messages)
    assert 5 <= sum(report.bad.values()) <= 40
    assert report.mode == "live"
    assert not report.interrupted
    assert_series_consistent(good)
    registry = load_registry()
    assert {t.sensor for t, _ in good} <= set(registry.sensors_by_id)
    stamps = [r.ts for _, r in good]
    assert (report.first_ts_ms, report.last_ts_ms) == (min(stamps), max(stamps))


def test_backfill_is_reproducible_and_steps_by_interval(settings: Settings,
                                                        subscriber: Subscriber) -> None:
    # The registry's 33 sensors, three readings each, all a minute apart.
    options = SimulationOptions(count=99, start_ms=START_MS, seed=42)
    first = run_simulation(as_publisher(settings), options)
    first_messages = subscriber.drain()
    second = run_simulation(as_publisher(settings), options)
    assert first_messages == subscriber.drain()
    assert first.total == second.total == 99
    good = assert_report_matches(first, settings.topic_prefix, first_messages)
    assert_series_consistent(good)
    assert first.mode == "backfill"
    for _, reading in good:
        assert reading.seq is not None
        assert reading.ts == START_MS + reading.seq * 60_000
    assert (first.first_ts_ms, first.last_ts_ms) == (START_MS, START_MS + 2 * 60_000)


def test_cli_publishes_and_prints_a_json_summary(settings: Settings, subscriber: Subscriber,
                                                 tmp_path: Path) -> None:
    env = {**os.environ, "SMARTPLACE_MQTT_URL": publisher_url(settings.mqtt_url),
           "SMARTPLACE_TOPIC_PREFIX": settings.topic_prefix,
           "SMARTPLACE_INFLUX_URL": settings.influx_url,
           "SMARTPLACE_INFLUX_DATABASE": settings.influx_database}
    done = subprocess.run(
        [str(SMARTPLACE), "simulate", "--count", "20", "--rate", "200", "--json",
         "--sensors", "12", "--bad-ratio", "0.25", "--seed", "3"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    summary = orjson.loads(done.stdout)
    messages = subscriber.drain()
    assert summary["total"] == len(messages) == 20
    assert summary["sensors"] == 12
    assert summary["seed"] == 3
    assert summary["failed"] == 0
    assert summary["messages_per_s"] > 0
    good, bad = classify(settings.topic_prefix, messages)
    assert summary["bad"] == dict(bad)
    assert sum(summary["by_domain"].values()) == len(good)
    assert {t.sensor for t, _ in good} <= {f"sim-{d}-{i:04d}" for i in range(1, 13)
                                           for d in ("energy", "transport", "air-quality")}
    # The generated sensors were registered as simulated before they published.
    flags = influx_rows(settings.influx_url, settings.influx_database,
                        'SELECT simulated, site, domain FROM "sensor_flags" GROUP BY sensor')
    assert {row["sensor"] for row in flags} == {s.id for s in synthetic_sensors(12)}
    assert {row["simulated"] for row in flags} == {1}


def test_cli_publishes_nothing_when_the_sensors_cannot_be_registered(
        settings: Settings, subscriber: Subscriber, tmp_path: Path) -> None:
    env = {**os.environ, "SMARTPLACE_MQTT_URL": publisher_url(settings.mqtt_url),
           "SMARTPLACE_TOPIC_PREFIX": settings.topic_prefix,
           "SMARTPLACE_INFLUX_URL": f"http://127.0.0.1:{free_port()}"}
    done = subprocess.run([str(SMARTPLACE), "simulate", "--count", "5", "--sensors", "3"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "nothing was published" in done.stderr
    assert "SMARTPLACE_INFLUX_URL" in done.stderr
    assert subscriber.drain() == []  # the process has ended: anything it sent came first


def test_cli_stops_on_sigint_after_the_last_acknowledgement(
        settings: Settings, subscriber: Subscriber, tmp_path: Path) -> None:
    env = {**os.environ, "SMARTPLACE_MQTT_URL": publisher_url(settings.mqtt_url),
           "SMARTPLACE_TOPIC_PREFIX": settings.topic_prefix}
    # Real time: with no --count or --duration it would run for ever.
    process = subprocess.Popen([str(SMARTPLACE), "simulate", "--json"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        eventually(subscriber.count, timeout_s=15, message="a first reading")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    summary = orjson.loads(stdout)
    assert summary["interrupted"] is True
    assert summary["total"] == len(subscriber.drain()) >= 1


def auth_settings(broker: MosquittoServer, password: str | None, prefix: str) -> Settings:
    """The session broker's publisher account (write: ``test/#``), with its own password or
    another, publishing under ``prefix``."""
    account = broker.accounts[PUBLISHER]
    return Settings(_env_file=None,
                    mqtt_url=f"mqtt://{account.username}:{password or account.password}"
                             f"@127.0.0.1:{broker.port}",
                    topic_prefix=prefix)


def test_username_and_password_are_used(mosquitto: MosquittoServer) -> None:
    options = SimulationOptions(count=10, rate=1000)
    report = run_simulation(auth_settings(mosquitto, None, "test/allowed-sim"), options)
    assert (report.total, report.failed) == (10, 0)
    with pytest.raises(BrokerUnavailableError, match="refused"):
        run_simulation(auth_settings(mosquitto, "wrong", "test/allowed-sim"), options)


def test_messages_the_broker_refuses_count_as_failed(mosquitto: MosquittoServer) -> None:
    report = run_simulation(auth_settings(mosquitto, None, "denied/sim"),
                            SimulationOptions(count=10, rate=1000))
    assert (report.total, report.failed) == (0, 10)

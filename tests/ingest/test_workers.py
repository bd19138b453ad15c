"""N ingestors on one MQTT 5 shared subscription (issue 13): ``--workers N`` processes, or
separate ingestors in one group; a member killed and started again with its id, a member
retired and drained, and dead letters of several ingestors. Real mosquitto and influxd."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ingest.consumer import MqttConsumer
from ingest.endpoints import sum_expositions
from ingest.service import IngestService
from ingest.workers import worker_settings
from sensors.settings import Settings
from smartplace.broker_auth import BrokerAccount
from smartplace.servers import MosquittoServer, free_port
from tests.helpers import eventually, influx_count, influx_rows, publish, settings_env
from tests.ingest.helpers import IngestProcess, readings

pytestmark = pytest.mark.integration


def stored(settings: Settings) -> int:
    url, db = settings.influx_url, settings.influx_database
    return sum(influx_count(url, db, m, f) for m, f in (
        ("energy", "energy_kwh"), ("transport", "interval_s"), ("air_quality", "no2_ugm3")))


def member(mosquitto: MosquittoServer, settings: Settings, name: str, **overrides: object
           ) -> Settings:
    """Settings of another ingestor of the same deployment: its own account and id, the
    same database and prefix, the share group ``g``."""
    base = mosquitto.accounts[settings.ingest_client_id]
    account = mosquitto.add_account(BrokerAccount(name, base.password, base.read, base.write))
    return settings.model_copy(update={
        "ingest_client_id": name, "mqtt_url": mosquitto.url_for(account.username),
        "ingest_share_group": "g", "metrics_port": free_port(),
        "spool_dir": settings.spool_dir / name, **overrides})


def worker_accounts(mosquitto: MosquittoServer, settings: Settings, count: int) -> None:
    """The accounts ``--workers count`` logs in with: <user>-<i>, the same password."""
    base = mosquitto.accounts[settings.ingest_client_id]
    for index in range(1, count + 1):
        mosquitto.add_account(BrokerAccount(f"{base.username}-{index}", base.password,
                                            base.read, base.write))


def workers_of(pid: int) -> list[int]:
    """The worker processes of a pool (spawned by multiprocessing; not its resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def publish_in_background(settings: Settings, messages: list[tuple[str, bytes]]
                          ) -> threading.Thread:
    thread = threading.Thread(target=publish, args=(settings, messages), daemon=True)
    thread.start()
    return thread


# --- identities ---------------------------------------------------------------------------


def test_each_worker_has_a_stable_identity_of_its_own(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, mqtt_url="mqtt://ingest:p%40ss@broker:1884",
                        ingest_client_id="ingest", spool_dir=tmp_path, ingest_workers=3)
    second = worker_settings(settings, 2)
    assert second.ingest_client_id == "ingest-2"
    assert (second.mqtt.username, second.mqtt.password) == ("ingest-2", "p@ss")
    assert (second.mqtt.host, second.mqtt.port) == ("broker", 1884)
    assert second.ingest_share_group == "smartplace"
    assert second.spool_dir == tmp_path / "ingest-2"
    assert (second.metrics_host, second.metrics_port, second.ingest_workers) == (
        "127.0.0.1", 0, 1)
    # One listener per port: the Sensor.Community receiver runs in the first worker only.
    assert (worker_settings(settings, 1).ingest_http_port, second.ingest_http_port) == (8090, 0)
    # Device formats' topics are shared in the group like the prefix.
    consumer = MqttConsumer(second, lambda *_: None, extra_topics=["v3/+/devices/+/up"])
    assert consumer.topics == ["$share/smartplace/stockport/town-centre/#",
                               "$share/smartplace/v3/+/devices/+/up"]
    consumer.close()
    grouped = settings.model_copy(update={"ingest_share_group": "north",
                                          "mqtt_url": "mqtt://broker:1883"})
    assert worker_settings(grouped, 1).ingest_share_group == "north"
    assert worker_settings(grouped, 1).mqtt_url == "mqtt://broker:1883"  # no accounts


def test_the_pool_sums_its_workers_metrics() -> None:
    def exposition(received: int, subscribed: int, created: float) -> str:
        return (
            "# HELP smartplace_ingest_received MQTT messages received\n"
            "# TYPE smartplace_ingest_received counter\n"
            f"smartplace_ingest_received_total {received}\n"
            f"smartplace_ingest_received_created {created}\n"
            "# HELP smartplace_ingest_mqtt_subscribed 1 while subscribed\n"
            "# TYPE smartplace_ingest_mqtt_subscribed gauge\n"
            f"smartplace_ingest_mqtt_subscribed {subscribed}\n"
            "# HELP smartplace_ingest_dead_letters Bad messages\n"
            "# TYPE smartplace_ingest_dead_letters counter\n"
            f'smartplace_ingest_dead_letters_total{{reason="payload_not_json"}} {received // 10}\n'
        )

    def values(texts: list[str], members: int | None = None) -> dict[str, float]:
        return {sample.name + str(sorted(sample.labels.items())): sample.value
                for family in sum_expositions(texts, members) for sample in family.samples}

    both = values([exposition(100, 1, 50.0), exposition(30, 1, 20.0)])
    assert both["smartplace_ingest_received_total[]"] == 130
    assert both["smartplace_ingest_received_created[]"] == 20.0  # the earliest start
    assert both["smartplace_ingest_mqtt_subscribed[]"] == 1  # every worker subscribed
    assert both["smartplace_ingest_dead_letters_total[('reason', 'payload_not_json')]"] == 13
    one_down = values([exposition(100, 1, 50.0), exposition(30, 0, 20.0)])
    assert one_down["smartplace_ingest_mqtt_subscribed[]"] == 0
    # A second worker still starting (no endpoint yet) is not subscribed either.
    starting = values([exposition(100, 1, 50.0)], members=2)
    assert starting["smartplace_ingest_mqtt_subscribed[]"] == 0


# --- --workers N --------------------------------------------------------------------------


@pytest.mark.slow
def test_workers_share_the_load_and_a_killed_worker_loses_nothing(
        settings: Settings, mosquitto: MosquittoServer,
        ingest_process: Callable[..., IngestProcess]) -> None:
    worker_accounts(mosquitto, settings, 2)
    pool = ingest_process("--workers", "2")
    pool.start_unchecked()
    eventually(lambda: ready(settings.metrics_port), 60, interval_s=0.5,
               message="both workers ready")
    assert pool.process is not None
    workers = workers_of(pool.process.pid)
    assert len(workers) == 2

    messages = [(topic, payload) for topic, payload, _ in readings(settings.topic_prefix, 6000)]
    sender = publish_in_background(settings, messages)
    eventually(lambda: stored(settings) > 500, 30, message="the stream is being stored")
    os.kill(workers[0], signal.SIGKILL)  # mid-stream
    sender.join(120)
    eventually(lambda: stored(settings) == len(messages), 90, interval_s=0.5,
               message="every message stored once")
    text = httpx.get(f"http://127.0.0.1:{settings.metrics_port}/metrics", timeout=5).text
    assert "smartplace_ingest_worker_restarts_total" in text
    restarts = [line for line in text.splitlines()
                if line.startswith("smartplace_ingest_worker_restarts_total{")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in restarts) == 1
    # Both workers took a share (each reports under its own instance).
    rows = influx_rows(settings.influx_url, settings.influx_database,
                       "SELECT last(received) AS n FROM ingest_stats GROUP BY instance")
    assert len(rows) == 2
    assert all(row["n"] > 0 for row in rows)
    assert "ingest worker exited; starting it again" in pool.log()
    restarted = workers_of(pool.process.pid)
    pool.signal(signal.SIGTERM)
    assert pool.wait(60) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in restarted), "the workers exited"


# --- separate ingestors in one group ------------------------------------------------------


@pytest.mark.slow
def test_a_member_killed_and_started_again_with_its_id_loses_nothing(
        settings: Settings, mosquitto: MosquittoServer, tmp_path: Path) -> None:
    first = IngestProcess(member(mosquitto, settings, f"{settings.ingest_client_id}-a"),
                          tmp_path / "a.log")
    second = IngestProcess(member(mosquitto, settings, f"{settings.ingest_client_id}-b"),
                           tmp_path / "b.log")
    try:
        first.start()
        second.start()
        messages = [(t, p) for t, p, _ in readings(settings.topic_prefix, 6000, seed=3)]
        sender = publish_in_background(settings, messages)
        eventually(lambda: stored(settings) > 500, 30, message="the stream is being stored")
        second.signal(signal.SIGKILL)
        second.wait()
        sender.join(120)  # the broker queues b's share in its session meanwhile
        assert stored(settings) < len(messages)
        second.start()
        eventually(lambda: stored(settings) == len(messages), 90, interval_s=0.5,
                   message="every message stored once")
    finally:
        for one in (first, second):
            one.kill_all()


@pytest.mark.slow
def test_a_retired_member_is_drained_and_its_session_ended(
        settings: Settings, mosquitto: MosquittoServer, tmp_path: Path) -> None:
    staying = member(mosquitto, settings, f"{settings.ingest_client_id}-a")
    retired = member(mosquitto, settings, f"{settings.ingest_client_id}-b")
    first = IngestProcess(staying, tmp_path / "a.log")
    second = IngestProcess(retired, tmp_path / "b.log")
    try:
        first.start()
        second.start()
        second.signal(signal.SIGTERM)
        assert second.wait() == 0  # retired: its session keeps its share from now on
        messages = [(t, p) for t, p, _ in readings(settings.topic_prefix, 1000, seed=5)]
        publish(settings, messages)
        eventually(lambda: stored(settings) >= 300, 30, message="a stores its share")
        assert stored(settings) < len(messages)

        drained = subprocess.run(
            [sys.executable, "-m", "smartplace", "ingest", "drain",
             "--client-id", retired.ingest_client_id],
            env=settings_env(staying), capture_output=True, text=True, timeout=120)
        assert drained.returncode == 0, drained.stderr
        assert f"drained the session of {retired.ingest_client_id}" in drained.stdout
        assert stored(settings) == len(messages)

        # The session is gone: the group is a alone, and it takes everything now.
        later = [(t, p) for t, p, _ in readings(settings.topic_prefix, 1200, seed=5)][1000:]
        publish(settings, later)
        eventually(lambda: stored(settings) == len(messages) + len(later), 30,
                   message="a stores every later message")
    finally:
        for one in (first, second):
            one.kill_all()


def test_dead_letters_of_two_ingestors_never_overwrite_each_other(
        settings: Settings, mosquitto: MosquittoServer) -> None:
    services = [IngestService(member(mosquitto, settings, f"{settings.ingest_client_id}-{n}"))
                for n in "ab"]
    threads = [threading.Thread(target=service.run, daemon=True) for service in services]
    for thread in threads:
        thread.start()
    try:
        for service in services:
            assert service.consumer.subscribed.wait(15)
        bad = [(f"{settings.topic_prefix}/energy/site-a/meter-{k % 7}", b"{not json")
               for k in range(600)]
        publish(settings, bad)
        url, db = settings.influx_url, settings.influx_database
        eventually(lambda: influx_count(url, db, "dead_letter", "payload") == len(bad), 30,
                   message="one dead letter per bad message")
        per_ingestor = influx_rows(url, db, 'SELECT count(payload) AS n FROM dead_letter '
                                   'GROUP BY "ingestor"')
        assert sorted(row["n"] for row in per_ingestor) == sorted(
            service.stats.dead_letters["payload_not_json"] for service in services)
        assert all(service.stats.dead_letters["payload_not_json"] > 0 for service in services)
    finally:
        for service in services:
            service.stop()
        for thread in threads:
            thread.join(30)

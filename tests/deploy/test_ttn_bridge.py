"""The documented TTN bridge (deploy/mosquitto/ttn-bridge.conf) with real brokers.

A second mosquitto stands in for The Things Stack's MQTT server (plain, an account per
application, QoS 0 publishes by an MQTT 3.1.1 client, as TTN sends them); the local broker
runs the project's config (accounts and ACL) plus the shipped bridge file, with only the
address, TLS and the API key changed.
The real ingestor then stores the uplinks, also those that arrive while it is down, and a
lost uplink shows as a gap in ``seq``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.service import IngestService
from sensors.formats.devices import DEFAULT_TOPICS, Format
from sensors.settings import Settings
from smartplace.broker_auth import BrokerAccount, ingest_account, new_password
from smartplace.server_config import mosquitto_config
from smartplace.servers import InfluxServer, MosquittoServer
from tests.conftest import unique_name
from tests.helpers import eventually, influx_rows
from tests.ingest.formats_helpers import T0, ttn_uplink, write_devices

pytestmark = pytest.mark.integration
BRIDGE = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "ttn-bridge.conf"


APP = "stockport-air"
INGEST = "ingest-bridge-test"


class BridgedBroker(MosquittoServer):
    """The local broker: the project's config and the TTN bridge pointed at ``remote``."""

    def __init__(self, workdir: Path, remote: MosquittoServer, ingest: BrokerAccount,
                 probe: BrokerAccount) -> None:
        super().__init__(workdir, accounts=[ingest, probe], prefixes=["test/bridge"])
        self.remote = remote

    def command(self) -> list[str]:
        command = super().command()
        bridge = []
        account = self.remote.accounts[f"{APP}@ttn"]
        for line in BRIDGE.read_text().splitlines():
            if line.startswith(("bridge_capath", "bridge_insecure")):
                continue  # the stand-in has no TLS
            if line.startswith("address "):
                line = f"address 127.0.0.1:{self.remote.port}"
            elif line.startswith("remote_password "):
                line = f"remote_password {account.password}"
            bridge.append(line.replace("<application-id>", APP))
        config = Path(command[-1])
        config.write_text(mosquitto_config(self.port, self.workdir / "mosquitto-data",
                                           self.workdir) + "\n".join(bridge) + "\n")
        return command


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[tuple[MosquittoServer, MosquittoServer]]:
    """TTN's stand-in (the application's account reads its traffic, a gateway account
    publishes it) and the local broker with the ingestor's account and a probe's."""
    ttn = MosquittoServer(tmp_path / "ttn", accounts=[
        BrokerAccount(f"{APP}@ttn", new_password(), read=("v3/#",)),
        BrokerAccount("ttn-network", new_password(), write=("v3/#",))])
    ttn.start()
    local = BridgedBroker(tmp_path / "local", ttn,
                          ingest_account(INGEST, "test/bridge", [DEFAULT_TOPICS[Format.TTN_V3]]),
                          BrokerAccount("probe", new_password(), read=("v3/probe",)))
    local.start()
    try:
        yield ttn, local
    finally:
        local.stop()
        ttn.stop()


def publish_qos0(ttn: MosquittoServer, messages: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 0 "at TTN", as its network server does (MQTT 3.1.1)."""
    account = ttn.accounts["ttn-network"]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=account.username,
                         protocol=mqtt.MQTTv311)
    client.username_pw_set(account.username, account.password)
    client.connect("127.0.0.1", ttn.port)
    client.loop_start()
    for topic, payload in messages:
        client.publish(topic, payload, qos=0).wait_for_publish(5)
    client.disconnect()  # sent after the publishes, so they are on the wire
    client.loop_stop()
    client._reset_sockets()  # no ResourceWarning from paho's socket pair


def wait_for_bridge(ttn: MosquittoServer, local: MosquittoServer) -> None:
    """Until a probe published "at TTN" arrives here (the bridge connects on its own)."""
    arrived = threading.Event()
    probe = local.accounts["probe"]
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=probe.username,
                           protocol=mqtt.MQTTv5)
    listener.username_pw_set(probe.username, probe.password)
    listener.on_message = lambda *_: arrived.set()
    listener.connect("127.0.0.1", local.port)
    listener.subscribe("v3/probe", qos=0)
    listener.loop_start()
    try:
        def forwarded() -> bool:
            publish_qos0(ttn, [("v3/probe", b"1")])
            return arrived.wait(0.2)

        eventually(forwarded, timeout_s=20, message="the bridge forwards")
    finally:
        listener.disconnect()
        listener.loop_stop()
        listener._reset_sockets()


def run(service: IngestService) -> threading.Thread:
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    assert service.consumer.subscribed.wait(15)
    return thread


def test_uplinks_cross_the_bridge_and_wait_for_a_stopped_ingestor(
    brokers: tuple[MosquittoServer, MosquittoServer], influx: InfluxServer, tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    ttn, local = brokers
    name = unique_name(request)
    settings = Settings(
        _env_file=None,
        mqtt_url=local.url_for(INGEST), influx_url=influx.url, influx_database=f"test_{name}",
        topic_prefix="test/bridge", spool_dir=tmp_path / "spool",
        ingest_client_id=INGEST, ingest_flush_interval_s=0.05,
        metrics_port=0, ingest_http_port=0, ingest_stats_interval_s=0, log_format="text",
        devices_file=write_devices(tmp_path, wide_topics=False),
    )
    wait_for_bridge(ttn, local)
    service = IngestService(settings)
    thread = run(service)
    publish_qos0(ttn, [ttn_uplink(10, T0), ttn_uplink(11, T0 + 60_000)])
    url, db = settings.influx_url, settings.influx_database

    def seqs() -> list[int]:
        try:
            return [row["seq"] for row in influx_rows(url, db, "SELECT seq FROM air_quality")]
        except Exception:
            return []

    eventually(lambda: seqs() == [10, 11], message="uplinks over the bridge stored")
    service.stop()
    thread.join(30)
    # While the ingestor is down: uplink 12 is lost on the way (never sent here), 13 and 14
    # wait in the ingestor's session (queue_qos0_messages).
    publish_qos0(ttn, [ttn_uplink(13, T0 + 180_000), ttn_uplink(14, T0 + 240_000)])
    again = IngestService(settings)
    thread = run(again)
    eventually(lambda: seqs() == [10, 11, 13, 14], message="queued QoS 0 uplinks stored")
    again.stop()
    thread.join(30)

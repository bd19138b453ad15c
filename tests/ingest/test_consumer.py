"""The MQTT consumer against the real broker: the lean PUBLISH path and paho's own path
deliver the same messages (mid, QoS, topic, payload, retain), and batched PUBACKs really
acknowledge (the broker does not send the messages again)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import NamedTuple

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.consumer import MqttConsumer
from sensors.endpoints import MqttEndpoint
from sensors.settings import Settings
from tests.helpers import eventually, publisher_url

pytestmark = pytest.mark.integration


class Got(NamedTuple):
    mid: int
    qos: int
    generation: int
    topic: str
    payload: bytes
    retained: bool


class Recorder:
    def __init__(self) -> None:
        self.got: list[Got] = []
        self.lock = threading.Lock()

    def __call__(self, mid: int, qos: int, generation: int, topic: str, payload: bytes,
                 retained: bool) -> None:
        with self.lock:
            self.got.append(Got(mid, qos, generation, topic, payload, retained))


@pytest.fixture
def consumer(settings: Settings) -> Iterator[tuple[MqttConsumer, Recorder]]:
    recorder = Recorder()
    made = MqttConsumer(settings, recorder)
    made.start()
    assert made.subscribed.wait(15)
    yield made, recorder
    made.close()


def publisher(settings: Settings) -> mqtt.Client:
    endpoint = MqttEndpoint(publisher_url(settings.mqtt_url))
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(endpoint.username, endpoint.password)
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    return client


def with_properties() -> Properties:
    """What an MQTT 5 gateway may add: a content type and a user property."""
    # paho leaves Properties.__init__ unannotated: nothing to narrow, only to ignore.
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.ContentType = "application/json"
    properties.UserProperty = [("gateway", "tts-eu1")]
    return properties


def test_both_paths_deliver_every_message_as_sent(
        settings: Settings, consumer: tuple[MqttConsumer, Recorder]) -> None:
    made, recorder = consumer
    lean = made._client.publish_handler
    assert lean is not None
    took_lean: list[str] = []

    def counting(mid: int, qos: int, topic: str, payload: bytes, retained: bool) -> None:
        took_lean.append(topic)
        lean(mid, qos, topic, payload, retained)

    made._client.publish_handler = counting
    prefix = settings.topic_prefix
    client = publisher(settings)
    sent = []
    for k in range(40):
        topic = f"{prefix}/energy/site-é/meter-{k}"  # a multi-byte topic
        payload = f'{{"ts": {k}, "k": "{"x" * k}"}}'.encode()
        qos = k % 2
        client.publish(topic, payload, qos=qos,
                       properties=with_properties() if k % 4 >= 2 else None
                       ).wait_for_publish(5)
        sent.append((topic, payload, qos))
    eventually(lambda: len(recorder.got) == len(sent), 10, message="every message arrived")
    client.disconnect()
    client.loop_stop()
    assert [(one.topic, one.payload, one.qos) for one in recorder.got] == sent
    assert all(one.generation == made.generation for one in recorder.got)
    assert all(one.mid > 0 for one in recorder.got if one.qos == 1)
    assert all(one.mid == 0 for one in recorder.got if one.qos == 0)
    assert not any(one.retained for one in recorder.got)
    # Without properties the lean path, with them paho's (20 each).
    assert took_lean == [topic for k, (topic, _, _) in enumerate(sent) if k % 4 < 2]


def test_a_retained_message_arrives_flagged_on_the_lean_path(settings: Settings) -> None:
    client = publisher(settings)
    topic = f"{settings.topic_prefix}/air_quality/site-a/aq-1"
    client.publish(topic, b'{"ts": 1, "no2_ugm3": 3}', qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
    recorder = Recorder()
    made = MqttConsumer(settings, recorder)
    made.start()
    try:
        eventually(lambda: recorder.got, 10, message="the retained message")
        assert recorder.got[0].retained
        assert recorder.got[0].payload == b'{"ts": 1, "no2_ugm3": 3}'
    finally:
        made.close()
        cleaner = publisher(settings)
        cleaner.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        cleaner.disconnect()
        cleaner.loop_stop()


def test_one_packet_of_acknowledgements_acknowledges_every_message(
        settings: Settings) -> None:
    subscriber = MqttConsumer(settings, Recorder())
    subscriber.start()
    assert subscriber.subscribed.wait(15)
    subscriber.close()  # the persistent session now queues for us
    client = publisher(settings)
    for k in range(300):
        client.publish(f"{settings.topic_prefix}/energy/site-a/m-{k % 3}", b"{}",
                       qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()

    first = Recorder()
    made = MqttConsumer(settings, first)
    made.start()
    eventually(lambda: len(first.got) == 300, 10, message="the queued messages")
    made.ack_all(first.got[:200])  # the first 200 as one packet
    made.close()
    # Let the broker read the closed connection to its end: a new connection with the same
    # id at once takes the session over and the broker drops the old socket's unread bytes
    # (our PUBACKs among them). A restarted ingestor is never that quick.
    time.sleep(0.5)

    again = Recorder()
    second = MqttConsumer(settings, again)
    second.start()
    eventually(lambda: len(again.got) == 100, 10, message="only the unacknowledged come back")
    assert [one.payload for one in again.got] == [b"{}"] * 100
    assert {one.topic for one in again.got} == {one.topic for one in first.got[200:]}
    second.ack_all(again.got)
    second.close()

"""Baseline for the ingest benchmark: a paho subscriber that only counts QoS 1 messages.

Run as a child process: ``python -m bench.count_subscriber HOST PORT CLIENT_ID N RECEIVE_MAX``
(the broker account's password in ``BENCH_MQTT_PASSWORD``; the account is named like the
client id). It connects to an existing persistent session, drains N queued messages (paho
acknowledges each on receipt) and prints the seconds from first to last message, and the
CPU seconds the process used in that time.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def session_properties(receive_maximum: int) -> Properties:
    """CONNECT properties of a session that survives disconnects."""
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 0xFFFFFFFF
    properties.ReceiveMaximum = receive_maximum
    return properties


def drain(host: str, port: int, client_id: str, expected: int,
          receive_maximum: int) -> tuple[float, float]:
    """Receive ``expected`` messages; the seconds and CPU seconds from the first to the last."""
    done = threading.Event()
    state = {"count": 0, "first": 0.0, "last": 0.0, "first_cpu": 0.0, "last_cpu": 0.0}

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if state["count"] == 0:
            state["first"] = time.perf_counter()
            state["first_cpu"] = time.process_time()
        state["count"] += 1
        if state["count"] >= expected:
            state["last"] = time.perf_counter()
            state["last_cpu"] = time.process_time()
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    password = os.environ.get("BENCH_MQTT_PASSWORD")
    if password:
        client.username_pw_set(client_id, password)
    client.on_message = on_message
    client.connect(host, port, clean_start=False, properties=session_properties(receive_maximum))
    client.loop_start()
    finished = done.wait(600)
    client.disconnect()
    client.loop_stop()
    if not finished:
        raise SystemExit(f"only {state['count']} of {expected} messages arrived")
    return state["last"] - state["first"], state["last_cpu"] - state["first_cpu"]


def main() -> None:
    host, port, client_id, expected, receive_maximum = sys.argv[1:6]
    print(*drain(host, int(port), client_id, int(expected), int(receive_maximum)))


if __name__ == "__main__":
    main()

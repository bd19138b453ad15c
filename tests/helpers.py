"""Helpers shared by the tests: bounded polling and InfluxDB queries."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout_s: float = 20.0,
               interval_s: float = 0.1, message: str = "condition") -> T:
    """Poll ``check`` until it returns a truthy value (so never None); fail after
    ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"{message} not met within {timeout_s}s (last value: {last!r})")


def ingest_ready_answer(port: int, status: int, store_error: str = "") -> httpx.Response | None:
    """The ingestor's ``/ready`` answer if it has ``status`` and (when given) its
    ``store_error`` names ``store_error``; None otherwise (a check for :func:`eventually`)."""
    response = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5)
    if response.status_code != status:
        return None
    if store_error and store_error not in response.json().get("store_error", ""):
        return None
    return response


def influx_query(url: str, database: str, query: str, **params: Any) -> list[dict[str, Any]]:
    """Run an InfluxQL query; return the series of the first statement (or [])."""
    response = httpx.get(
        f"{url}/query",
        params={"db": database, "q": query, "epoch": "ms",
                **({"params": __import__("orjson").dumps(params).decode()} if params else {})},
        timeout=30,
    )
    response.raise_for_status()
    result = response.json()["results"][0]
    if "error" in result:
        raise AssertionError(f"query failed: {result['error']}: {query}")
    series: list[dict[str, Any]] = result.get("series", [])
    return series


def influx_rows(url: str, database: str, query: str, **params: Any) -> list[dict[str, Any]]:
    """Query rows as dicts (column -> value), across all series, with the series tags merged."""
    rows: list[dict[str, Any]] = []
    for series in influx_query(url, database, query, **params):
        tags = series.get("tags", {})
        for values in series["values"]:
            rows.append({**tags, **dict(zip(series["columns"], values, strict=True))})
    return rows


def influx_count(url: str, database: str, measurement: str, field: str) -> int:
    """How many points of ``measurement`` carry ``field``."""
    rows = influx_rows(url, database, f'SELECT count("{field}") FROM "{measurement}"')
    return int(rows[0]["count"]) if rows else 0


TEST_ROOT = "test"  # every test's topic prefix is test/<its name>
PUBLISHER = "test-publisher"  # the session broker's gateway account (write: test/#)
#: Device formats' topics outside the prefix (contract 7.2) that the tests use: the
#: publisher may write them and every test's ingestor read them (as `smartplace broker
#: accounts --devices-file` allows in production).
FORMAT_TOPICS = ("v3/#", "application/#", "tele/#", "+/events/rpc", "shellies/#",
                 "zigbee2mqtt/#")

# Broker port -> the URL of its publisher account (the session broker registers one).
_PUBLISHERS: dict[int, str] = {}


def register_publisher(port: int, url: str) -> None:
    """Let :func:`publisher_url` answer for the broker on ``port``."""
    _PUBLISHERS[port] = url


def publisher_url(mqtt_url: str) -> str:
    """The URL of the publisher account of the broker ``mqtt_url`` points at: tests publish
    as a gateway would, the ingestor's account may only read."""
    from sensors.endpoints import MqttEndpoint

    return _PUBLISHERS[MqttEndpoint(mqtt_url).port]


def publish_all(mqtt_url: str, messages: list[tuple[str, bytes]], timeout_s: float = 60.0,
                ca_file: Any = None) -> None:
    """Publish messages at QoS 1 in order and wait until the broker acknowledged each one
    with success (a PUBACK that refuses, e.g. for the ACL, fails the test)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from sensors.endpoints import MqttEndpoint

    endpoint = MqttEndpoint(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if endpoint.username is not None:
        client.username_pw_set(endpoint.username, endpoint.password)
    if endpoint.tls:
        client.tls_set(ca_certs=str(ca_file) if ca_file else None)
    refused: list[str] = []
    client.on_publish = lambda _c, _u, _mid, code, _p: (
        refused.append(str(code)) if code.is_failure else None)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout_s
        # paho's packet ids wrap at 65,535: keep fewer than that outstanding.
        for offset in range(0, len(messages), 20_000):
            infos = [client.publish(topic, payload, qos=1)
                     for topic, payload in messages[offset:offset + 20_000]]
            for info in infos:
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
                assert info.is_published(), "broker did not acknowledge a publish"
        assert not refused, f"the broker refused {len(refused)} publishes: {refused[:3]}"
    finally:
        client.disconnect()
        client.loop_stop()


def settings_env(settings: Any) -> dict[str, str]:
    """The SMARTPLACE_* environment that reproduces ``settings`` in a child process."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTPLACE_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"SMARTPLACE_{name.upper()}"] = str(value)
    return env


def publish(settings: Any, messages: list[tuple[str, bytes]], timeout_s: float = 60.0) -> None:
    """:func:`publish_all` on the broker of ``settings``, as its publisher account (what
    a sensor gateway or the simulator does; the ingestor's own account may only read)."""
    publish_all(publisher_url(settings.mqtt_url), messages, timeout_s)


def as_publisher(settings: Any) -> Any:
    """``settings`` with the broker's publisher account, for the simulator under test."""
    return settings.model_copy(update={"mqtt_url": publisher_url(settings.mqtt_url)})

"""The Sensor.Community HTTP receiver against the real ingestor, broker and InfluxDB."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ingest.service import IngestService
from sensors.settings import Settings
from smartplace.servers import InfluxServer, free_port
from tests.helpers import eventually, influx_rows
from tests.ingest.formats_helpers import write_devices
from tests.ingest.helpers import metrics
from tests.sensors.formats.helpers import raw

pytestmark = pytest.mark.integration
Start = Callable[..., IngestService]
HEADERS = {"Content-Type": "application/json", "X-Sensor": "esp8266-13017161", "X-PIN": "1"}


def body(**values: str) -> bytes:
    """The firmware's body with some values changed (value type -> string)."""
    data = orjson.loads(raw("sensor-community.json"))
    for entry in data["sensordatavalues"]:
        entry["value"] = values.get(entry["value_type"], entry["value"])
    return orjson.dumps(data)


def post(port: int, content: bytes, path: str = "/ingest/sensor-community") -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}{path}", content=content, headers=HEADERS,
                      timeout=30)


def air(settings: Settings) -> list[dict[str, Any]]:
    try:
        return influx_rows(settings.influx_url, settings.influx_database,
                           "SELECT * FROM air_quality WHERE sensor = 'aq-exchange-sc'")
    except Exception:  # no database yet
        return []


def start(ingest_thread: Start, tmp_path: Path, **overrides: Any) -> int:
    port = free_port()
    ingest_thread(devices_file=write_devices(tmp_path), ingest_http_port=port, **overrides)
    return port


def test_200_only_once_stored_and_a_resent_body_is_the_same_point(
    settings: Settings, ingest_thread: Start, tmp_path: Path
) -> None:
    port = start(ingest_thread, tmp_path)
    before = int(time.time() * 1000)
    answer = post(port, raw("sensor-community.json"))
    after = int(time.time() * 1000)
    assert (answer.status_code, answer.json()) == (200, {"stored": 1, "dead_letters": 0})
    # Already there when the 200 arrives: no waiting.
    (point,) = air(settings)
    assert before <= point["time"] <= after
    assert {k: point[k] for k in ("site", "pm10_ugm3", "pm25_ugm3", "temperature_c",
                                  "humidity_pct")} == {
        "site": "exchange", "pm10_ugm3": 12.3, "pm25_ugm3": 5.7, "temperature_c": 8.47,
        "humidity_pct": 87.1}
    # The same bytes again (a retry): the same receipt time, so the same point.
    assert post(port, raw("sensor-community.json")).status_code == 200
    assert air(settings) == [point]
    # The next cycle's body is a new reading.
    assert post(port, body(samples="5098211", SDS_P1="13.10")).status_code == 200
    assert [p["pm10_ugm3"] for p in air(settings)] == [12.3, 13.1]


def test_bad_bodies_get_4xx_and_bad_readings_dead_letters(
    settings: Settings, ingest_thread: Start, tmp_path: Path
) -> None:
    port = start(ingest_thread, tmp_path)
    answer = post(port, b"esp8266id=13017161")
    assert (answer.status_code, answer.json()["reason"]) == (400, "payload_not_json")
    answer = post(port, b'{"software_version": "NRZ-2020-133"}')
    assert (answer.status_code, answer.json()["reason"]) == (400, "field_missing")
    assert post(port, b"{}", path="/ingest/other").status_code == 404
    assert httpx.get(f"http://127.0.0.1:{port}/ingest/sensor-community").status_code == 405
    stranger = raw("sensor-community.json").replace(b"13017161", b"99999999")
    answer = post(port, stranger)
    assert (answer.status_code, answer.json()) == (200, {"stored": 0, "dead_letters": 1})
    answer = post(port, body(SDS_P1="nan"))
    assert (answer.status_code, answer.json()) == (200, {"stored": 0, "dead_letters": 1})
    letters = influx_rows(settings.influx_url, settings.influx_database,
                          "SELECT * FROM dead_letter GROUP BY *")
    assert sorted((r["reason"], r["domain"], r["topic"]) for r in letters) == [
        ("device_unknown", "", "/ingest/sensor-community"),
        ("value_not_finite", "air_quality", "/ingest/sensor-community")]
    counted = metrics(settings)
    assert counted["smartplace_ingest_http_requests_total{status=200}"] == 2
    assert counted["smartplace_ingest_http_requests_total{status=400}"] == 2


@pytest.mark.slow
def test_503_while_influxdb_is_down_and_nothing_stored_twice(
    settings: Settings, influx: InfluxServer, ingest_thread: Start, tmp_path: Path
) -> None:
    port = start(ingest_thread, tmp_path, ingest_http_wait_s=2.0, ingest_max_backoff_s=0.5)
    assert post(port, body(samples="1")).status_code == 200  # the database exists
    influx.stop()
    try:
        waited = post(port, body(samples="2"))  # queued; the store fails while it waits
        assert waited.status_code == 503
        assert waited.headers["Retry-After"] == "30"
        started = time.monotonic()
        refused = post(port, body(samples="3"))  # the store is known to be failing: at once
        assert refused.status_code == 503
        assert time.monotonic() - started < 1.5
    finally:
        influx.start()
    # The queued body is stored once InfluxDB is back; its retry stores the same point.
    eventually(lambda: len(air(settings)) == 2, message="the queued body stored")
    assert post(port, body(samples="2")).status_code == 200
    assert post(port, body(samples="3")).status_code == 200
    assert len(air(settings)) == 3

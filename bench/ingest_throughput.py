"""End-to-end ingest throughput against a counting-only paho subscriber, in one run.

Method: two persistent MQTT sessions subscribe to the same prefix (the baseline
counter and the ingestor) and go offline; 100,000 QoS 1 messages are published and
queued by the broker for both. Each consumer is then started alone and timed while it
drains its queue: the counter from first to last message, the ingestor from its first
received message until every reading is stored in InfluxDB. Both run as child
processes, so neither shares an interpreter with the benchmark itself.

The mixed drain (``mixed=True``) is the same with half of the messages in device formats
(contract section 7): a quarter TTN uplinks (air quality, with their full metadata, about
1.6 kB each) and a quarter Shelly Pro 3EM ``NotifyStatus`` messages (cumulative registers,
so each goes through the durable register history), from a devices file of 150 devices.
The baseline subscribes to the same topics, so both drain the same bytes.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families

from bench.count_subscriber import session_properties
from sensors.formats.devices import DEFAULT_TOPICS, Format
from sensors.readings import VehicleClass
from sensors.settings import Settings
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


FORMAT_TOPICS = [DEFAULT_TOPICS[Format.TTN_V3], DEFAULT_TOPICS[Format.SHELLY_GEN2]]
_TTN_TEMPLATE = (Path(__file__).resolve().parent.parent / "tests" / "sensors" / "fixtures"
                 / "ttn-v3-uplink.json")


def mixed_devices(sensors: int = 300) -> dict[str, object]:
    """The devices file of the mixed drain: sensors 0 mod 4 TTN, 1 mod 4 Shelly."""
    devices: list[dict[str, object]] = []
    for sensor in range(sensors):
        if sensor % 4 == 0:
            devices.append({"format": "ttn-v3", "device": f"aq-{sensor:04d}",
                            "domain": "air_quality", "site": f"site-{sensor % 9}",
                            "sensor": f"sensor-{sensor:04d}",
                            "fields": {"no2_ugm3": "no2", "pm25_ugm3": "pm2_5",
                                       "pm10_ugm3": "pm10"}})
        elif sensor % 4 == 1:
            devices.append({"format": "shelly-gen2", "device": f"shellypro3em-{sensor:012x}",
                            "domain": "energy", "site": f"site-{sensor % 9}",
                            "sensor": f"sensor-{sensor:04d}", "carrier": "electricity",
                            "fields": {"energy_kwh": {"path": "em1data:0.total_act_energy",
                                                      "scale": 0.001, "cumulative": True},
                                       "power_kw": {"path": "em1:0.act_power",
                                                    "scale": 0.001}}})
    return {"devices": devices}


def _format_message(sensor: int, k: int, ts: int, rng: random.Random,
                    ttn_template: bytes) -> tuple[str, bytes]:
    if sensor % 4 == 0:
        body = orjson.loads(ttn_template)
        device = f"aq-{sensor:04d}"
        body["end_device_ids"]["device_id"] = device
        uplink = body["uplink_message"]
        uplink["f_cnt"] = k
        uplink["received_at"] = datetime.fromtimestamp(ts / 1000, UTC).isoformat()
        uplink["decoded_payload"] = {"no2": round(rng.uniform(5, 90), 1),
                                     "pm2_5": round(rng.uniform(1, 40), 1),
                                     "pm10": round(rng.uniform(2, 60), 1), "battery_v": 3.6}
        return f"v3/bench@ttn/devices/{device}/up", orjson.dumps(body)
    device = f"shellypro3em-{sensor:012x}"
    power = round(rng.uniform(100, 2400), 1)
    body = {"src": device, "dst": f"{device}/events", "method": "NotifyStatus", "params": {
        "ts": ts / 1000,
        "em1:0": {"id": 0, "current": round(power / 239, 3), "voltage": 239.1,
                  "act_power": power, "aprt_power": round(power * 1.05, 1), "pf": 0.95,
                  "freq": 50.0, "calibration": "factory"},
        "em1data:0": {"id": 0, "total_act_energy": 1000.0 * sensor + 25.0 * k,
                      "total_act_ret_energy": 0.0}}}
    return f"{device}/events/rpc", orjson.dumps(body)



def payloads(count: int, sensors: int = 300, mixed: bool = False) -> list[tuple[str, bytes]]:
    """Contract-valid messages over the three domains, about 130-220 bytes each; with
    ``mixed``, half of the sensors in device formats instead (see the module docstring)."""
    rng = random.Random(42)
    start = 1_795_687_200_000
    out = []
    ttn_template = _TTN_TEMPLATE.read_bytes() if mixed else b""
    for k in range(count):
        sensor = k % sensors
        ts = start + (k // sensors) * 60_000 + sensor  # unique per sensor
        if mixed and sensor % 4 in (0, 1):
            out.append(_format_message(sensor, k // sensors, ts, rng, ttn_template))
            continue
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


def _publish(port: int, messages: list[tuple[str, bytes]]) -> float:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
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


def _register_baseline_session(port: int, receive_maximum: int, mixed: bool) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=BASELINE_ID, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port, clean_start=True,
                   properties=session_properties(receive_maximum))
    client.loop_start()
    topics = [f"{PREFIX}/#", *(FORMAT_TOPICS if mixed else [])]
    client.subscribe([(topic, 1) for topic in topics])
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
        "SMARTPLACE_INGEST_HTTP_PORT": "0",
        "PATH": "/usr/bin:/bin",
    }
    if settings.devices_file is not None:
        env["SMARTPLACE_DEVICES_FILE"] = str(settings.devices_file)
    with log.open("ab") as handle:
        return subprocess.Popen([sys.executable, "-m", "smartplace", "ingest"], env=env,
                                stdout=handle, stderr=subprocess.STDOUT)


def run(messages: int = 100_000, mixed: bool = False) -> ThroughputResult:
    """Run the benchmark once on fresh local servers and return the timings."""
    workdir = Path(tempfile.mkdtemp(prefix="smartplace-bench-"))
    broker, store = MosquittoServer(workdir), InfluxServer(workdir)
    broker.start()
    store.start()
    devices = None
    if mixed:
        devices = workdir / "devices.json"
        devices.write_bytes(orjson.dumps(mixed_devices()))
    settings = Settings(
        _env_file=None,
        mqtt_url=broker.url, influx_url=store.url, influx_database="bench",
        topic_prefix=PREFIX, ingest_client_id=INGEST_ID, metrics_port=free_port(),
        devices_file=devices,
    )
    port = settings.metrics_port
    try:
        # Register both persistent sessions, then take them offline.
        _register_baseline_session(broker.port, settings.ingest_receive_maximum, mixed)
        ingest = _ingest_process(settings, workdir / "ingest.log")
        _wait(lambda: _metric(port, "smartplace_ingest_mqtt_subscribed") == 1, 30, "subscribe")
        ingest.send_signal(signal.SIGTERM)
        ingest.wait(30)

        batch = payloads(messages, mixed=mixed)
        publish_s = _publish(broker.port, batch)
        print(f"published {messages:,} QoS 1 messages in {publish_s:.1f}s "
              f"({messages / publish_s:,.0f}/s); queued at the broker for both consumers")

        baseline_s = float(subprocess.run(
            [sys.executable, "-m", "bench.count_subscriber", "127.0.0.1", str(broker.port),
             BASELINE_ID, str(messages), str(settings.ingest_receive_maximum)],
            check=True, capture_output=True, text=True, timeout=600,
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
        # Every native point and TTN uplink has a seq; every Shelly point a register.
        counted = httpx.get(f"{store.url}/query", params={
            "db": "bench", "q": "SELECT count(seq) FROM energy, transport, air_quality; "
                                "SELECT count(register_kwh) FROM energy"
        }).json()["results"]
        stored = sum(series["values"][0][1] for result in counted
                     for series in result.get("series", []))
        if stored != messages:
            raise SystemExit(f"benchmark: {stored} of {messages} readings in InfluxDB")
        return ThroughputResult(messages, baseline_s, done - first)
    finally:
        broker.stop()
        store.stop()

"""A paced QoS 1 publisher for the live-rate benchmark (:mod:`bench.live_rate`), run as a child.

``python -m bench.live_publisher HOST PORT USER RATE SECONDS SENSORS INDEX COUNT EVERY``
(password in ``BENCH_MQTT_PASSWORD``) publishes contract payloads at a steady ``RATE`` for
``SECONDS``: publisher ``INDEX`` of ``COUNT`` takes every ``COUNT``-th of ``SENSORS``
sensors, so no two publishers share a series. Each payload's ``ts`` is its publish time
(wall clock, ms; one more than the sensor's last if the clock has not moved), so the time
a point became queryable minus its own timestamp is its publish-to-queryable latency.
Every ``EVERY``-th message is a probe: an air-quality reading of sensor ``probe-INDEX`` at
site :data:`PROBE_SITE`, which the parent polls for.

It publishes through :class:`bench.lean_mqtt.LeanPublisher` (not paho: see there), writing
what is due every millisecond in one ``sendall``.

It prints ``progress <sent> <acked>`` four times a second and, at the end, one JSON line:
what it sent, how long pacing took, its own CPU, and the totals a complete store holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from typing import IO, Any

import orjson

from bench.lean_mqtt import LeanPublisher
from bench.messages import PREFIX, PUBLISH_WINDOW, Totals, payloads
from smartplace.broker_auth import BrokerAccount

PROBE_SITE = "bench-probe"
PROBE_EVERY = 500
PROGRESS_S = 0.25
def _messages(sensors: int, index: int, count: int) -> list[tuple[bytes, dict[str, Any]]]:
    """This publisher's sensors: (topic, body template) each, bodies as ``payloads`` makes."""
    return [(topic.encode(), orjson.loads(body))
            for topic, body in payloads(sensors, sensors)[index::count]]


def _add(totals: Totals, topic: bytes, body: dict[str, Any]) -> None:
    measurement = topic.decode().split("/")[-3]
    totals.by_measurement[measurement] = totals.by_measurement.get(measurement, 0) + 1
    totals.energy_kwh += body.get("energy_kwh", 0.0)
    totals.vehicles += sum(body.get("counts", {}).values())
    totals.no2_ugm3 += body.get("no2_ugm3", 0.0)


def publish_paced(client: LeanPublisher, rate: float, seconds: float, sensors: int,
                  index: int, count: int, every: int) -> dict[str, Any]:
    """Publish ``rate`` x ``seconds`` messages on time; what was sent and the totals."""
    templates = _messages(sensors, index, count)
    templates.append((f"{PREFIX}/air_quality/{PROBE_SITE}/probe-{index}".encode(),
                      {"ts": 0, "seq": 0, "no2_ugm3": 20.5, "pm25_ugm3": 8.1,
                       "pm10_ugm3": 12.4}))
    probe = len(templates) - 1
    last_ts = [0] * len(templates)
    seqs = [0] * len(templates)
    totals = Totals()
    total = int(rate * seconds)
    sent = 0
    cpu_start = time.process_time()
    started = time.perf_counter()
    next_report = started + PROGRESS_S
    while sent < total:
        now = time.perf_counter()
        due = min(total, int((now - started) * rate) + 1)
        while sent < due and sent - client.acked < PUBLISH_WINDOW:
            slot = probe if sent % every == every - 1 else sent % probe
            topic, body = templates[slot]
            ts = max(time.time_ns() // 1_000_000, last_ts[slot] + 1)
            last_ts[slot] = ts
            body["ts"], body["seq"] = ts, seqs[slot]
            seqs[slot] += 1
            client.queue(topic, orjson.dumps(body))
            _add(totals, topic, body)
            sent += 1
        if now >= next_report:
            print(f"progress {sent} {client.acked}", flush=True)
            next_report += PROGRESS_S
        client.flush(0.001)
    paced_s = time.perf_counter() - started
    deadline = time.monotonic() + 120
    while client.acked < sent and time.monotonic() < deadline:
        client.flush(0.05)
    return {"sent": sent, "acked": client.acked, "paced_s": paced_s,
            "acked_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu_start, "totals": asdict(totals)}


class PublisherProcess:
    """This module run as a child of the benchmark: progress and outcome read from stdout."""

    def __init__(self, broker_port: int, account: BrokerAccount, rate: float, seconds: float,
                 sensors: int, index: int, count: int) -> None:
        self.sent = 0
        self.outcome: dict[str, Any] | None = None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.live_publisher", "127.0.0.1", str(broker_port),
             account.username, str(rate), str(seconds), str(sensors), str(index), str(count),
             str(PROBE_EVERY)],
            stdout=subprocess.PIPE, text=True,
            env={**os.environ, "BENCH_MQTT_PASSWORD": account.password})
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,),
                                        daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            if line.startswith("progress "):
                self.sent = int(line.split()[1])
            elif line.startswith("{"):
                self.outcome = orjson.loads(line)

    def finish(self) -> dict[str, Any]:
        if self.process.wait(300) != 0:
            raise SystemExit("benchmark: a live publisher failed")
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.outcome is None or self.outcome["acked"] != self.outcome["sent"]:
            raise SystemExit(f"benchmark: the broker did not acknowledge every publish "
                             f"({self.outcome})")
        return self.outcome


def main() -> None:
    host, port, user, rate, seconds, sensors, index, count, every = sys.argv[1:10]
    client = LeanPublisher(host, int(port), user, os.environ["BENCH_MQTT_PASSWORD"])
    try:
        outcome = publish_paced(client, float(rate), float(seconds), int(sensors), int(index),
                                int(count), int(every))
    finally:
        client.close()
    print(orjson.dumps(outcome).decode(), flush=True)


if __name__ == "__main__":
    main()

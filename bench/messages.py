"""The benchmark's messages: contract payloads over the three domains, and how to queue them.

Every drain benchmark publishes the same messages (seeded), so the content stored by each
consumer can be checked against totals computed here, not only counted.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import orjson

from bench.lean_mqtt import LeanPublisher
from sensors.readings import VehicleClass
from smartplace.broker_auth import BrokerAccount

PREFIX = "bench/town-centre"
START_MS = 1_795_687_200_000
# paho's packet ids wrap at 65,535, so no more than that may be outstanding at once.
PUBLISH_WINDOW = 20_000


@dataclass
class Totals:
    """What a consumer that stores everything must hold afterwards."""

    by_measurement: dict[str, int] = field(default_factory=dict)
    energy_kwh: float = 0.0
    vehicles: int = 0
    no2_ugm3: float = 0.0
    registers: int = 0  # meter readings, which carry a register and no seq (bench.mixed)


def payloads(count: int, sensors: int = 300) -> list[tuple[str, bytes]]:
    """Contract-valid messages over the three domains, about 130-220 bytes each.

    ``sensors`` distinct sensors take turns (a third per domain); timestamps are unique
    per sensor, so no reading overwrites another.
    """
    rng = random.Random(42)
    out = []
    for k in range(count):
        sensor = k % sensors
        ts = START_MS + (k // sensors) * 60_000 + sensor
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
        out.append((f"{PREFIX}/{domain}/site-{sensor % 9}/sensor-{sensor:05d}",
                    orjson.dumps(body)))
    return out


def totals(messages: list[tuple[str, bytes]]) -> Totals:
    """The counts and sums a complete store of ``messages`` holds."""
    result = Totals()
    for topic, payload in messages:
        measurement = topic.split("/")[2]
        result.by_measurement[measurement] = result.by_measurement.get(measurement, 0) + 1
        body = orjson.loads(payload)
        result.energy_kwh += body.get("energy_kwh", 0.0)
        result.vehicles += sum(body.get("counts", {}).values())
        result.no2_ugm3 += body.get("no2_ugm3", 0.0)
    return result


def publish(port: int, account: BrokerAccount, messages: list[tuple[str, bytes]]) -> float:
    """Publish at QoS 1 and wait for every PUBACK; the seconds it took.

    Through :class:`bench.lean_mqtt.LeanPublisher`: paho managed 1-2k msg/s here, which
    made the drain's preload of 100,000 messages take most of a minute per trial.
    """

    client = LeanPublisher("127.0.0.1", port, account.username, account.password)
    started = time.perf_counter()
    try:
        for offset in range(0, len(messages), PUBLISH_WINDOW):
            window = messages[offset:offset + PUBLISH_WINDOW]
            for topic, payload in window:
                client.queue(topic.encode(), payload)
            deadline = time.monotonic() + 120
            client.flush(0)
            # Every PUBACK of a window before the next: packet ids are reused after 65,535.
            while client.acked < offset + len(window):
                if time.monotonic() > deadline:
                    raise SystemExit("benchmark: the broker did not acknowledge every publish")
                client.flush(0.05)
        return time.perf_counter() - started
    finally:
        client.close()

"""The mixed-format drain's messages: half of the sensors in device formats (contract 7).

Sensors 0 mod 4 are TTN v3 uplinks (air quality, with the fixture's full metadata, about
1.6 kB each), sensors 1 mod 4 Shelly Pro 3EM ``NotifyStatus`` messages (a cumulative
register, so each goes through the durable register history), the rest native contract
payloads as in :mod:`bench.messages`; the devices file maps the 150 format devices.
Consumers subscribe to the two formats' default filters beside ``<prefix>/#``, so every
one drains the same bytes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench.messages import START_MS, Totals, payloads, totals
from sensors.formats.devices import DEFAULT_TOPICS, Format

FORMAT_TOPICS = (DEFAULT_TOPICS[Format.TTN_V3], DEFAULT_TOPICS[Format.SHELLY_GEN2])
_TTN_TEMPLATE = (Path(__file__).resolve().parent.parent / "tests" / "sensors" / "fixtures"
                 / "ttn-v3-uplink.json")
_SHELLY_STEP_WH = 25.0  # each Shelly reading's register is this much above the previous


def _ttn(sensor: int) -> str:
    return f"aq-{sensor:05d}"


def _shelly(sensor: int) -> str:
    return f"shellypro3em-{sensor:012x}"


def devices(sensors: int = 300) -> dict[str, object]:
    """The devices file of the format sensors."""
    found: list[dict[str, object]] = []
    for sensor in range(sensors):
        where = {"site": f"site-{sensor % 9}", "sensor": f"sensor-{sensor:05d}"}
        if sensor % 4 == 0:
            found.append({"format": "ttn-v3", "device": _ttn(sensor), "domain": "air_quality",
                          **where, "fields": {"no2_ugm3": "no2", "pm25_ugm3": "pm2_5",
                                              "pm10_ugm3": "pm10"}})
        elif sensor % 4 == 1:
            found.append({"format": "shelly-gen2", "device": _shelly(sensor),
                          "domain": "energy", **where, "carrier": "electricity",
                          "fields": {"energy_kwh": {"path": "em1data:0.total_act_energy",
                                                    "scale": 0.001, "cumulative": True},
                                     "power_kw": {"path": "em1:0.act_power", "scale": 0.001}}})
    return {"devices": found}


def _format_message(sensor: int, step: int, ts: int, rng: random.Random,
                    template: bytes) -> tuple[str, bytes]:
    if sensor % 4 == 0:
        body = orjson.loads(template)
        body["end_device_ids"]["device_id"] = _ttn(sensor)
        uplink = body["uplink_message"]
        uplink["f_cnt"] = step
        uplink["received_at"] = datetime.fromtimestamp(ts / 1000, UTC).isoformat()
        uplink["decoded_payload"] = {"no2": round(rng.uniform(5, 90), 1),
                                     "pm2_5": round(rng.uniform(1, 40), 1),
                                     "pm10": round(rng.uniform(2, 60), 1), "battery_v": 3.6}
        return f"v3/bench@ttn/devices/{_ttn(sensor)}/up", orjson.dumps(body)
    device = _shelly(sensor)
    power = round(rng.uniform(100, 2400), 1)
    body = {"src": device, "dst": f"{device}/events", "method": "NotifyStatus", "params": {
        "ts": ts / 1000,
        "em1:0": {"id": 0, "current": round(power / 239, 3), "voltage": 239.1,
                  "act_power": power, "aprt_power": round(power * 1.05, 1), "pf": 0.95,
                  "freq": 50.0, "calibration": "factory"},
        "em1data:0": {"id": 0, "total_act_energy": 1000.0 * sensor + _SHELLY_STEP_WH * step,
                      "total_act_ret_energy": 0.0}}}
    return f"{device}/events/rpc", orjson.dumps(body)


def mixed_payloads(count: int, sensors: int = 300) -> list[tuple[str, bytes]]:
    """:func:`bench.messages.payloads` with sensors 0 and 1 mod 4 in device formats."""
    rng = random.Random(7)
    template = _TTN_TEMPLATE.read_bytes()
    out = payloads(count, sensors)
    for k in range(count):
        sensor = k % sensors
        if sensor % 4 in (0, 1):
            ts = START_MS + (k // sensors) * 60_000 + sensor
            out[k] = _format_message(sensor, k // sensors, ts, rng, template)
    return out


def mixed_totals(messages: list[tuple[str, bytes]]) -> Totals:
    """What a complete store of the mixed messages holds (hand-derived from the layout:
    a TTN uplink is one air-quality reading with its ``seq``; a Shelly reading stores its
    register, and each but a device's first also the 25 Wh since the previous one)."""
    native = [one for one in messages if not one[0].startswith(("v3/", "shellypro3em-"))]
    result = totals(native)
    shelly_seen: set[str] = set()
    for topic, payload in messages:
        if topic.startswith("v3/"):
            result.by_measurement["air_quality"] = result.by_measurement.get("air_quality", 0) + 1
            result.no2_ugm3 += orjson.loads(payload)["uplink_message"]["decoded_payload"]["no2"]
        elif topic.startswith("shellypro3em-"):
            result.registers += 1
            if topic in shelly_seen:
                result.energy_kwh += _SHELLY_STEP_WH / 1000
            shelly_seen.add(topic)
    return result

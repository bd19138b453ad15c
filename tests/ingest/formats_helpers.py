"""Device-format messages for the ingest tests, built from the realistic fixtures."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tests.sensors.formats.helpers import EXAMPLE, message

T0 = 1_795_687_200_000  # 2026-11-26T10:00:00Z
SHELLY = "shellypro3em-0cb815fcaff4"
#: Topics the test devices file gives some devices, so that their formats' other
#: messages (TTN joins, Tasmota STATE and LWT) reach the ingestor and are counted.
TTN_TOPIC = "v3/+/devices/+/#"
TASMOTA_TOPIC = "tele/+/+"
SHELLY_TOPIC = "shellies/+/events/rpc"  # a Shelly with its MQTT topic prefix set


def write_devices(tmp_path: Path, *, wide_topics: bool = True,
                  extra: list[dict[str, Any]] | None = None) -> Path:
    """The example devices file (with the wide topics above) written to ``tmp_path``."""
    data = orjson.loads(EXAMPLE.read_bytes())
    for entry in data["devices"]:
        if not wide_topics:
            continue
        if entry["format"] == "ttn-v3":
            entry["topic"] = TTN_TOPIC
        elif entry["format"] == "tasmota":
            entry["topic"] = TASMOTA_TOPIC
        elif entry["format"] == "shelly-gen2":
            entry["topic"] = SHELLY_TOPIC
    data["devices"] += extra or []
    path = tmp_path / "devices.json"
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    return path


def rfc3339(ms: int) -> str:
    """``ms`` as RFC 3339 UTC with milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ttn_uplink(f_cnt: int, at_ms: int, device: str = "aq-mersey-01",
               **values: Any) -> tuple[str, bytes]:
    """The TTN fixture as uplink ``f_cnt`` of ``device``, received at ``at_ms``."""
    body = copy.deepcopy(message("ttn-v3-uplink.json"))
    body["end_device_ids"]["device_id"] = device
    body["uplink_message"]["f_cnt"] = f_cnt
    body["uplink_message"]["received_at"] = rfc3339(at_ms)
    body["uplink_message"]["decoded_payload"].update(values)
    return f"v3/stockport-air@ttn/devices/{device}/up", orjson.dumps(body)


def shelly_status(ts_ms: int, register_wh: float, power_w: float = 1534.6,
                  device: str = SHELLY) -> tuple[str, bytes]:
    """The Shelly fixture (several components) at ``ts_ms`` with this register and power."""
    body = copy.deepcopy(message("shelly-gen2-notifystatus.json"))
    body["src"] = device
    body["dst"] = f"{device}/events"
    body["params"]["ts"] = ts_ms / 1000
    body["params"]["em1data:0"]["total_act_energy"] = register_wh
    body["params"]["em1:0"]["act_power"] = power_w
    return f"shellies/{device}/events/rpc", orjson.dumps(body)


def tasmota_energy(local_time: str, total_kwh: float, power_w: int) -> tuple[str, bytes]:
    """The Tasmota plug's SENSOR message at a local (London) time."""
    body = copy.deepcopy(message("tasmota-sensor-energy.json"))
    body["Time"] = local_time
    body["ENERGY"]["Total"] = total_kwh
    body["ENERGY"]["Power"] = power_w
    return "tele/tasmota_8C4F2A/SENSOR", orjson.dumps(body)

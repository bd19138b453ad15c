"""Simulated readings as each device format's messages, metadata and all.

Each encoder turns a validated section 2 reading into the (topic, payload) a real device
of that format would publish: a TTN uplink with ``rx_metadata``, ``settings`` and
``correlation_ids``; a ChirpStack event with ``deviceInfo``, ``rxInfo`` and ``txInfo``; a
Shelly ``NotifyStatus`` with ``em1:0`` and ``em1data:0``; a Tasmota ``SENSOR`` in local
time; a SenML pack. Meters in cumulative formats (Shelly, Tasmota, SenML) report a
register: the running sum of the simulated interval energy, from zero at the start of the
run (to the ingestor, a restarted simulator is a meter reset: the increase over that
interval is the new value, never negative energy).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from base64 import b64encode
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from sensors.formats.devices import Format
from sensors.readings import AirQualityReading, EnergyReading, Reading, TransportReading
from sensors.registry import Registry, Sensor
from simulators.devices import LORAWAN_NAMES, SENML_UNITS, TTN_APPLICATION, device_id

LONDON = ZoneInfo("Europe/London")
Encoder = Callable[[Reading], tuple[str, bytes]]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _ulid(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(26))


def _values(reading: Reading, names: dict[str, str] | None = None) -> dict[str, Any]:
    """A reading's measured values under a decoder's names (contract names by default)."""
    if isinstance(reading, EnergyReading):
        return {"energy_kwh": reading.energy_kwh, "power_kw": reading.power_kw}
    if isinstance(reading, TransportReading):
        values: dict[str, Any] = {vc.value: n for vc, n in reading.counts.items()}
        if reading.avg_speed_kph is not None:
            values["speed_kmh"] = reading.avg_speed_kph
        return values
    assert isinstance(reading, AirQualityReading)
    mapping = names or {name: name for name in LORAWAN_NAMES}
    return {mapping[name]: value for name in LORAWAN_NAMES
            if (value := getattr(reading, name)) is not None}


class Encoders:
    """Per-sensor encoders (with each meter's register and each device's frame counter)."""

    def __init__(self, registry: Registry, seed: int, prefix: str) -> None:
        self._registry = registry
        self._prefix = prefix
        self._rng = random.Random(seed)
        self._registers: dict[str, float] = {}

    def for_sensor(self, sensor: Sensor, fmt: Format) -> Encoder:
        """The encoder of one sensor's messages in ``fmt``."""
        site = self._registry.site(sensor.site)
        lat, lon = (site.lat, site.lon) if site else (53.4084, -2.1493)
        device = device_id(fmt, sensor)
        if fmt is Format.TTN_V3:
            return lambda reading: self._ttn(device, reading, lat, lon)
        if fmt is Format.CHIRPSTACK_V4:
            return lambda reading: self._chirpstack(sensor, device, reading, lat, lon)
        if fmt is Format.SHELLY_GEN2:
            return lambda reading: self._shelly(device, reading)
        if fmt is Format.TASMOTA:
            return lambda reading: self._tasmota(device, reading)
        return lambda reading: self._senml(device, reading)

    def _register_wh(self, device: str, reading: Reading, decimals: int) -> float:
        assert isinstance(reading, EnergyReading)
        total = self._registers.get(device, 0.0) + reading.energy_kwh * 1000
        self._registers[device] = total
        return round(total, decimals)

    def _ttn(self, device: str, reading: Reading, lat: float, lon: float) -> tuple[str, bytes]:
        rng, at = self._rng, _iso(reading.ts)
        gateway = {"gateway_ids": {"gateway_id": "stockport-town-hall",
                                   "eui": "B827EBFFFE6C2A11"},
                   "time": at, "timestamp": rng.randrange(2**32), "rssi": -rng.randint(70, 118),
                   "channel_rssi": -rng.randint(70, 118), "snr": round(rng.uniform(-8, 10), 2),
                   "location": {"latitude": 53.4049, "longitude": -2.1582, "altitude": 62,
                                "source": "SOURCE_REGISTRY"},
                   "channel_index": rng.randrange(8), "received_at": at}
        body = {
            "end_device_ids": {"device_id": device,
                               "application_ids": {"application_id": TTN_APPLICATION},
                               "dev_eui": hashlib.blake2b(device.encode(), digest_size=8)
                               .hexdigest().upper(), "join_eui": "0000000000000000"},
            "correlation_ids": [f"as:up:{_ulid(rng)}", f"gs:uplink:{_ulid(rng)}",
                                f"ns:uplink:{_ulid(rng)}"],
            "received_at": at,
            "uplink_message": {
                "session_key_id": b64encode(rng.randbytes(16)).decode(), "f_port": 2,
                "f_cnt": reading.seq, "frm_payload": b64encode(rng.randbytes(11)).decode(),
                "decoded_payload": _values(reading, LORAWAN_NAMES), "rx_metadata": [gateway],
                "settings": {"data_rate": {"lora": {"bandwidth": 125000,
                                                    "spreading_factor": rng.choice((7, 9, 10)),
                                                    "coding_rate": "4/5"}},
                             "frequency": "867500000", "timestamp": gateway["timestamp"]},
                "received_at": at, "consumed_airtime": "0.185344s",
                "locations": {"user": {"latitude": lat, "longitude": lon, "source":
                                       "SOURCE_REGISTRY"}},
                "network_ids": {"net_id": "000013", "tenant_id": "ttn", "cluster_id": "eu1"},
            },
        }
        return (f"v3/{TTN_APPLICATION}@ttn/devices/{device}/up", orjson.dumps(body))

    def _chirpstack(self, sensor: Sensor, device: str, reading: Reading, lat: float,
                    lon: float) -> tuple[str, bytes]:
        rng = self._rng
        application = "17c82e96-be03-4f38-aef3-f83d48582d97"
        values = _values(reading, LORAWAN_NAMES)
        body = {
            "deduplicationId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "time": datetime.fromtimestamp(reading.ts / 1000, UTC).isoformat(),
            "deviceInfo": {"tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
                           "tenantName": "Stockport Council", "applicationId": application,
                           "applicationName": f"{sensor.domain.value}-sensors",
                           "deviceProfileName": "Simulated EU868", "deviceName": sensor.id,
                           "devEui": device, "deviceClassEnabled": "CLASS_A",
                           "tags": {"site": sensor.site}},
            "devAddr": device[:8], "adr": True, "dr": 5, "fCnt": reading.seq, "fPort": 10,
            "confirmed": False, "data": b64encode(rng.randbytes(12)).decode(), "object": values,
            "rxInfo": [{"gatewayId": "0016c001f153a14c", "uplinkId": rng.randrange(2**32),
                        "rssi": -rng.randint(60, 115), "snr": round(rng.uniform(-5, 12), 2),
                        "channel": rng.randrange(8), "location": {"latitude": lat,
                                                                 "longitude": lon},
                        "context": b64encode(rng.randbytes(4)).decode(),
                        "metadata": {"region_config_id": "eu868"}, "crcStatus": "CRC_OK"}],
            "txInfo": {"frequency": 867100000, "modulation": {"lora": {
                "bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}},
        }
        return (f"application/{application}/device/{device}/event/up", orjson.dumps(body))

    def _shelly(self, device: str, reading: Reading) -> tuple[str, bytes]:
        assert isinstance(reading, EnergyReading)
        power_w = round((reading.power_kw or 0.0) * 1000, 1)
        volts = round(self._rng.uniform(236, 242), 1)
        body = {"src": device, "dst": f"{device}/events", "method": "NotifyStatus", "params": {
            "ts": round(reading.ts / 1000, 2),
            "em1:0": {"id": 0, "current": round(power_w / volts, 3), "voltage": volts,
                      "act_power": power_w, "aprt_power": round(power_w * 1.06, 1),
                      "pf": 0.94, "freq": 50.0, "calibration": "factory"},
            "em1data:0": {"id": 0, "total_act_energy": self._register_wh(device, reading, 2),
                          "total_act_ret_energy": 0.0}}}
        return f"{device}/events/rpc", orjson.dumps(body)

    def _tasmota(self, device: str, reading: Reading) -> tuple[str, bytes]:
        local = datetime.fromtimestamp(reading.ts / 1000, LONDON).strftime("%Y-%m-%dT%H:%M:%S")
        if isinstance(reading, EnergyReading):
            # Tasmota keeps Total in kWh with 3 decimals, and Power in whole watts.
            total_kwh = round(self._register_wh(device, reading, 3) / 1000, 3)
            body: dict[str, Any] = {"Time": local, "ENERGY": {
                "TotalStartTime": "2025-03-14T09:12:41", "Total": total_kwh,
                "Power": round((reading.power_kw or 0.0) * 1000), "Voltage": 239,
                "Factor": 0.92}}
        else:
            assert isinstance(reading, AirQualityReading)
            body = {"Time": local,
                    "SDS0X1": {"PM2.5": reading.pm25_ugm3, "PM10": reading.pm10_ugm3},
                    "BME280": {"Temperature": reading.temperature_c,
                               "Humidity": reading.humidity_pct, "Pressure": 1013.2},
                    "PressureUnit": "hPa", "TempUnit": "C"}
        return f"tele/{device}/SENSOR", orjson.dumps(body)

    def _senml(self, device: str, reading: Reading) -> tuple[str, bytes]:
        records: list[dict[str, Any]] = []
        if isinstance(reading, EnergyReading):
            records = [{"n": "energy", "u": "Wh", "v": self._register_wh(device, reading, 1)},
                       {"n": "power", "u": "W", "v": round((reading.power_kw or 0) * 1000, 1)}]
        elif isinstance(reading, TransportReading):
            records = [{"n": vc.value, "u": "count", "v": n} for vc, n in reading.counts.items()]
            if reading.avg_speed_kph is not None:
                records.append({"n": "speed", "u": "km/h", "v": reading.avg_speed_kph})
        else:
            for name, unit in SENML_UNITS.items():
                value = getattr(reading, name)
                if value is not None:
                    records.append({"n": name.rsplit("_", 1)[0], "u": unit, "v": value})
        records[0] = {"bn": device, "bt": reading.ts / 1000, **records[0]}
        return f"{self._prefix}/senml/{device.split(':')[3]}", orjson.dumps(records)

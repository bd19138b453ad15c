"""``/api/v1/sensors`` against a real InfluxDB: last seen and status."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

import httpx
import orjson
import pytest

from api.main import create_app
from sensors.readings import (
    AirQualityReading,
    Carrier,
    EnergyReading,
    Reading,
    TransportReading,
    VehicleClass,
)
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.topics import Domain, Topic
from smartplace.servers import InfluxServer
from tests.api.helpers import api_client, create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def _energy(site: str, sensor: str, age_s: float, carrier: Carrier = Carrier.ELECTRICITY
            ) -> tuple[Topic, Reading, float | None]:
    ts = int((time.time() - age_s) * 1000)
    reading = EnergyReading(ts=ts, carrier=carrier, energy_kwh=1.0, interval_s=60)
    return Topic(Domain.ENERGY, site, sensor), reading, None


@pytest.fixture
def app_settings(settings: Settings, influx: InfluxServer) -> Settings:
    now_ms = int(time.time() * 1000)
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, [
        _energy("merseyway", "mw-elec-main", 1),  # reporting
        _energy("merseyway", "mw-gas-boiler", 150, Carrier.GAS),  # 2.5 intervals: late
        _energy("merseyway", "mw-solar-roof", 2 * 86_400, Carrier.SOLAR_PV),  # silent
        _energy("nowhere", "rogue-meter", 5),  # not in the registry
        _energy("old-yard", "old-meter", 40 * 86_400),  # unregistered, beyond the lookback
        (Topic(Domain.AIR_QUALITY, "station", "aq-station"),
         AirQualityReading(ts=now_ms - 200_000, no2_ugm3=20.0), None),
        # A later reading carrying a different field: last seen is the later one.
        (Topic(Domain.AIR_QUALITY, "station", "aq-station"),
         AirQualityReading(ts=now_ms - 3_000, pm25_ugm3=8.0), None),
        (Topic(Domain.TRANSPORT, "interchange", "tr-daw-bank"),
         TransportReading(ts=now_ms - 30_000, interval_s=60, counts={VehicleClass.BUS: 2}),
         0.35),
    ])
    return settings


async def _get(settings: Settings, path: str, **params: str) -> httpx.Response:
    async with api_client(create_app(settings)) as client:
        return await client.get(path, params=params)


async def test_statuses(app_settings: Settings) -> None:
    response = await _get(app_settings, "/api/v1/sensors")
    assert response.status_code == 200
    body = response.json()
    sensors = {sensor["id"]: sensor for sensor in body["sensors"]}
    assert set(sensors) >= {s.id for s in load_registry().sensors} | {"rogue-meter"}
    assert sensors["mw-elec-main"]["status"] == "reporting"
    assert sensors["mw-elec-main"]["last_seen"].endswith("Z")
    assert sensors["mw-elec-main"]["site_name"] == "Merseyway Shopping Centre"
    assert sensors["mw-gas-boiler"]["status"] == "late"
    assert sensors["mw-solar-roof"]["status"] == "silent"
    assert sensors["mw-solar-roof"]["last_seen"] is not None
    assert sensors["th-elec-main"]["status"] == "silent"  # never seen
    assert sensors["th-elec-main"]["last_seen"] is None
    assert sensors["aq-station"]["status"] == "reporting"
    assert 2 <= sensors["aq-station"]["age_s"] < 60
    assert sensors["tr-daw-bank"]["status"] == "reporting"
    assert sensors["tr-daw-bank"]["link_km"] == 0.35
    rogue = sensors["rogue-meter"]
    assert rogue["registered"] is False
    assert rogue["site"] == "nowhere"
    assert rogue["domain"] == "energy"
    assert rogue["carrier"] == "electricity"
    assert rogue["status"] == "reporting"
    assert rogue["interval_s"] == 60
    assert sum(body["counts"].values()) == len(body["sensors"])


async def test_filters_and_single_sensor(app_settings: Settings) -> None:
    energy = (await _get(app_settings, "/api/v1/sensors", domain="energy")).json()["sensors"]
    assert energy
    assert all(sensor["domain"] == "energy" for sensor in energy)
    merseyway = (await _get(app_settings, "/api/v1/sensors", site="merseyway")).json()
    assert {s["site"] for s in merseyway["sensors"]} == {"merseyway"}
    nowhere = (await _get(app_settings, "/api/v1/sensors", site="nowhere")).json()
    assert [s["id"] for s in nowhere["sensors"]] == ["rogue-meter"]
    assert (await _get(app_settings, "/api/v1/sensors", site="atlantis")).status_code == 404
    assert (await _get(app_settings, "/api/v1/sensors", domain="weather")).status_code == 422
    one = await _get(app_settings, "/api/v1/sensors/rogue-meter")
    assert one.status_code == 200
    assert one.json()["registered"] is False
    assert (await _get(app_settings, "/api/v1/sensors/mw-elec-main")).json()["status"] == (
        "reporting")
    # A sensor with readings is known however long ago they were (not only within the
    # 30-day lookback of the list): before the fix this was a 404.
    old = await _get(app_settings, "/api/v1/sensors/old-meter")
    assert old.status_code == 200, old.text
    assert (old.json()["registered"], old.json()["status"], old.json()["site"]) == (
        False, "silent", "old-yard")
    assert 39 * 86_400 < old.json()["age_s"] < 41 * 86_400
    yard = await _get(app_settings, "/api/v1/sensors", site="old-yard")
    assert yard.status_code == 200  # a site with readings is known, even with none recent
    assert yard.json()["sensors"] == []
    missing = await _get(app_settings, "/api/v1/sensors/no-such-sensor")
    assert missing.status_code == 404
    assert "no-such-sensor" in missing.json()["detail"]


HOSTILE = [
    "x' OR 1=1", "x' OR 1=1 --", '"; DROP DATABASE test; --', "$start", "/.*/",
    "merseyway\nDROP", "café ☕ 北京", "\u202etxet", "a" * 10_000, "%00", "..%2F..%2F",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_hostile_input_never_500(app_settings: Settings, influx: InfluxServer,
                                       value: str) -> None:
    async with api_client(create_app(app_settings)) as client:
        checks = [
            await client.get("/api/v1/sensors", params={"site": value}),
            await client.get("/api/v1/sensors", params={"domain": value}),
            await client.get(f"/api/v1/sensors/{quote(value, safe='')}"),
            await client.get("/api/v1/emissions", params={"start": value}),
            await client.get("/api/v1/emissions", params={"end": value}),
            await client.get("/api/v1/emissions", params={"group_by": value}),
            await client.get("/api/v1/emissions", params={"group_by": f"domain;{value}"}),
            await client.get("/api/v1/emissions", params={"interval": value}),
        ]
        for response in checks:
            assert response.status_code in (404, 422), (response.request.url, response.text)
            assert response.json()["detail"]
        # The database is still there and still answers.
        assert (await client.get("/api/v1/sensors/mw-elec-main")).json()["status"] == (
            "reporting")


async def test_sensors_say_what_they_send_from_the_devices_file(
    app_settings: Settings, tmp_path: Path
) -> None:
    devices = {"devices": [
        # A registry sensor now behind a Shelly meter.
        {"format": "shelly-gen2", "device": "shellypro3em-0cb815fcaff4", "domain": "energy",
         "site": "merseyway", "sensor": "mw-elec-main", "carrier": "electricity",
         "fields": {"energy_kwh": {"path": "em1data:0.total_act_energy", "scale": 0.001,
                                   "cumulative": True}}},
        # A new LoRaWAN monitor that has not reported yet: known, silent.
        {"format": "ttn-v3", "device": "aq-mersey-01", "domain": "air_quality",
         "site": "mersey-square", "sensor": "aq-ms-lora-01", "interval_s": 300,
         "fields": {"no2_ugm3": "no2"}},
        # One already in the database, at a site the registry does not know.
        {"format": "tasmota", "device": "tasmota_8C4F2A", "domain": "energy", "site": "nowhere",
         "sensor": "rogue-meter", "carrier": "electricity", "interval_s": 600,
         "fields": {"energy_kwh": {"path": "ENERGY.Total", "cumulative": True}}},
    ]}
    path = tmp_path / "devices.json"
    path.write_bytes(orjson.dumps(devices))
    settings = app_settings.model_copy(update={"devices_file": path})
    body = (await _get(settings, "/api/v1/sensors")).json()
    by_id = {sensor["id"]: sensor for sensor in body["sensors"]}
    assert (by_id["mw-elec-main"]["source_format"], by_id["mw-elec-main"]["device"],
            by_id["mw-elec-main"]["registered"]) == ("shelly-gen2", "shellypro3em-0cb815fcaff4",
                                                      True)
    assert by_id["mw-gas-boiler"]["source_format"] == "native"
    assert by_id["mw-gas-boiler"]["device"] is None
    new = by_id["aq-ms-lora-01"]
    assert {k: new[k] for k in ("source_format", "registered", "status", "interval_s",
                                "site_name", "last_seen")} == {
        "source_format": "ttn-v3", "registered": False, "status": "silent", "interval_s": 300,
        "site_name": "Mersey Square", "last_seen": None}
    rogue = by_id["rogue-meter"]
    # Its expected interval is the devices file's (600 s): 5 s old is reporting.
    assert {k: rogue[k] for k in ("source_format", "interval_s", "status", "site_name")} == {
        "source_format": "tasmota", "interval_s": 600, "status": "reporting", "site_name": None}
    ids = [sensor["id"] for sensor in body["sensors"]]
    assert ids.index("aq-ms-lora-01") < ids.index("rogue-meter")  # devices file, then data
    one = (await _get(settings, "/api/v1/sensors/aq-ms-lora-01")).json()
    assert one["source_format"] == "ttn-v3"

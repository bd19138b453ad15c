"""Every device format through the real mosquitto and influxd: the expected points exactly,
bad variants as dead letters with their reasons, events that are not readings counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.service import IngestService
from sensors.settings import Settings
from tests.helpers import eventually, influx_rows, publish
from tests.ingest.formats_helpers import (
    T0,
    shelly_status,
    tasmota_energy,
    ttn_uplink,
    write_devices,
)
from tests.ingest.helpers import metrics
from tests.sensors.formats.helpers import raw

pytestmark = pytest.mark.integration
Start = Callable[..., IngestService]


def rows(settings: Settings, measurement: str, sensor: str) -> list[dict[str, Any]]:
    return influx_rows(settings.influx_url, settings.influx_database,
                       f"SELECT * FROM {measurement} WHERE sensor = $sensor GROUP BY *",
                       sensor=sensor)


def wait_rows(settings: Settings, measurement: str, sensor: str, count: int
              ) -> list[dict[str, Any]]:
    def enough() -> list[dict[str, Any]]:
        found = rows(settings, measurement, sensor) if _has_db(settings) else []
        return found if len(found) >= count else []
    return eventually(enough, message=f"{count} {measurement} points of {sensor}")


def _has_db(settings: Settings) -> bool:
    try:
        influx_rows(settings.influx_url, settings.influx_database, "SHOW MEASUREMENTS")
    except Exception:
        return False
    return True


def dead_letters(settings: Settings, count: int) -> list[dict[str, Any]]:
    def enough() -> list[dict[str, Any]]:
        found = (influx_rows(settings.influx_url, settings.influx_database,
                             "SELECT * FROM dead_letter GROUP BY *") if _has_db(settings) else [])
        return found if len(found) >= count else []
    return eventually(enough, message=f"{count} dead letters")


def only(point: dict[str, Any], *names: str) -> dict[str, Any]:
    """The named columns (None: no value, or a field the measurement never had)."""
    return {name: point.get(name) for name in names}


def test_ttn_uplinks_are_stored_joins_ignored_and_bad_ones_dead_lettered(
    settings: Settings, ingest_thread: Start, tmp_path: Path
) -> None:
    service = ingest_thread(devices_file=write_devices(tmp_path))
    good = ttn_uplink(1834, T0 + 297)
    missing = ttn_uplink(1835, T0 + 300_297, pm2_5=None)
    stranger = ttn_uplink(7, T0 + 301_000, device="aq-elsewhere")
    join = ("v3/stockport-air@ttn/devices/aq-mersey-01/join", raw("ttn-v3-join.json"))
    publish(settings, [join, good, missing, stranger])
    (point,) = wait_rows(settings, "air_quality", "aq-ms-lora-01", 1)
    assert point == {"time": T0 + 297, "site": "mersey-square", "sensor": "aq-ms-lora-01",
                     "seq": 1834, "no2_ugm3": 38.4, "pm25_ugm3": 9.7, "pm10_ugm3": 17.2,
                     "temperature_c": 7.9, "humidity_pct": 88.5}
    letters = dead_letters(settings, 2)
    assert Counter((r["reason"], r["domain"]) for r in letters) == Counter({
        ("field_missing", "air_quality"): 1, ("device_unknown", ""): 1})
    assert all(r["topic"].startswith("v3/stockport-air@ttn/devices/") for r in letters)
    assert eventually(lambda: service.stats.ignored == Counter({"ttn-v3:join_accept": 1}))
    assert metrics(settings)["smartplace_ingest_ignored_total{kind=ttn-v3:join_accept}"] == 1


def test_chirpstack_uplink_is_a_traffic_count(
    settings: Settings, ingest_thread: Start, tmp_path: Path
) -> None:
    ingest_thread(devices_file=write_devices(tmp_path))
    topic = "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/a84041000181c2d3/event/up"
    publish(settings, [(topic, raw("chirpstack-v4-up.json"))])
    (point,) = wait_rows(settings, "transport", "tc-wellington-rd-n", 1)
    assert point["time"] == T0 + 418
    assert point["site"] == "interchange"
    assert only(point, "count_car", "count_van", "count_hgv", "count_bus", "count_bicycle",
                "count_motorcycle", "count_pedestrian", "interval_s", "avg_speed_kph",
                "seq") == {
        "count_car": 99, "count_van": 29, "count_hgv": 4, "count_bus": 2, "count_bicycle": 14,
        "count_motorcycle": 0, "count_pedestrian": 0, "interval_s": 300,
        "avg_speed_kph": 27.5, "seq": 4211}
    assert "link_km" not in point  # neither the device nor the registry knows its length


def test_senml_pack_with_two_devices_and_two_times(
    settings: Settings, ingest_thread: Start, tmp_path: Path
) -> None:
    ingest_thread(devices_file=write_devices(tmp_path))
    publish(settings, [(f"{settings.topic_prefix}/senml/market-gateway",
                                     raw("senml-pack.json"))])
    air = wait_rows(settings, "air_quality", "aq-market-hall", 2)
    assert [only(p, "time", "temperature_c", "humidity_pct", "co2_ppm") for p in air] == [
        {"time": T0, "temperature_c": 7.5, "humidity_pct": 87.25, "co2_ppm": 412.0},
        {"time": T0 + 60_000, "temperature_c": 7.25, "humidity_pct": 87.5, "co2_ppm": 415.0}]
    # The meter's first register reading: only the starting point, in kWh.
    (meter,) = wait_rows(settings, "energy", "market-hall-meter", 1)
    assert only(meter, "time", "carrier", "register_kwh", "energy_kwh", "power_kw") == {
        "time": T0, "carrier": "electricity", "register_kwh": 52.1135, "energy_kwh": None,
        "power_kw": None}


def test_shelly_register_increase_and_partial_status(
    settings: Settings, ingest_thread: Start, tmp_path: Path
) -> None:
    service = ingest_thread(devices_file=write_devices(tmp_path))
    first = shelly_status(T0 + 60_470, 4210773.42)
    power_only = ("shellies/x/events/rpc", raw("shelly-gen2-notifystatus-power-only.json"))
    event = ("shellies/x/events/rpc", raw("shelly-gen2-notifyevent.json"))
    second = shelly_status(T0 + 120_470, 4211273.42, power_w=1480.2)
    publish(settings, [first, power_only, event, second])
    points = wait_rows(settings, "energy", "lib-main-3em", 2)
    # 4,211,273.42 Wh - 4,210,773.42 Wh = 500 Wh = 0.5 kWh over 60 s.
    assert [only(p, "time", "energy_kwh", "interval_s", "power_kw", "register_kwh", "site",
                 "carrier") for p in points] == [
        {"time": T0 + 60_470, "energy_kwh": None, "interval_s": None, "power_kw": None,
         "register_kwh": 4210.77342, "site": "central-library",
         "carrier": "electricity"},
        {"time": T0 + 120_470, "energy_kwh": 0.5, "interval_s": 60, "power_kw": 1.4802,
         "register_kwh": 4211.27342, "site": "central-library",
         "carrier": "electricity"}]
    assert eventually(lambda: service.stats.ignored == Counter(
        {"shelly-gen2:unchanged": 1, "shelly-gen2:NotifyEvent": 1}))


def test_tasmota_readings_in_local_time_and_other_telemetry_ignored(
    settings: Settings, ingest_thread: Start, tmp_path: Path
) -> None:
    service = ingest_thread(devices_file=write_devices(tmp_path))
    publish(settings, [
        ("tele/tasmota_8C4F2A/LWT", b"Online"),
        ("tele/tasmota_8C4F2A/STATE", raw("tasmota-state.json")),
        tasmota_energy("2026-11-26T10:00:00", 1843.217, 148),
        tasmota_energy("2026-11-26T10:05:00", 1843.342, 1620),
        ("tele/tasmota_5E21B0/SENSOR", raw("tasmota-sensor-sds011.json")),
    ])
    plug = wait_rows(settings, "energy", "redrock-ev-plug", 2)
    assert [only(p, "time", "energy_kwh", "interval_s", "power_kw", "carrier") for p in plug] == [
        {"time": T0, "energy_kwh": None, "interval_s": None, "power_kw": None,
         "carrier": "ev_charging"},
        {"time": T0 + 300_000, "energy_kwh": 0.125, "interval_s": 300, "power_kw": 1.62,
         "carrier": "ev_charging"}]
    (air,) = wait_rows(settings, "air_quality", "aq-station-sds", 1)
    assert only(air, "time", "pm25_ugm3", "pm10_ugm3", "temperature_c", "humidity_pct") == {
        "time": 1_782_900_000_000, "pm25_ugm3": 6.4, "pm10_ugm3": 11.9,
        "temperature_c": 21.4, "humidity_pct": 55.2}
    assert eventually(lambda: service.stats.ignored == Counter(
        {"tasmota:LWT": 1, "tasmota:STATE": 1}))


def test_zigbee2mqtt_json_and_its_bad_variants(
    settings: Settings, ingest_thread: Start, tmp_path: Path
) -> None:
    ingest_thread(devices_file=write_devices(tmp_path))
    body = orjson.loads(raw("zigbee2mqtt-climate.json"))
    no_time = orjson.dumps({k: v for k, v in body.items() if k != "last_seen"})
    hot = orjson.dumps({**body, "temperature": 85.0, "last_seen": "2026-11-26T10:05:00Z"})
    topic = "zigbee2mqtt/town-hall-foyer"
    publish(settings, [(topic, raw("zigbee2mqtt-climate.json")), (topic, no_time),
                                    (topic, hot), (topic, b"offline")])
    (point,) = wait_rows(settings, "air_quality", "th-foyer-climate", 1)
    assert only(point, "time", "site", "temperature_c", "humidity_pct") == {
        "time": T0, "site": "town-hall", "temperature_c": 19.6, "humidity_pct": 61.4}
    letters = dead_letters(settings, 3)
    assert Counter((r["reason"], r["domain"]) for r in letters) == Counter({
        ("field_missing", "air_quality"): 1, ("value_out_of_range", "air_quality"): 1,
        ("payload_not_json", ""): 1})


def test_a_native_network_beside_formats_is_unchanged(
    settings: Settings, ingest_thread: Start, tmp_path: Path
) -> None:
    ingest_thread(devices_file=write_devices(tmp_path))
    native = orjson.dumps({"ts": T0, "carrier": "gas", "energy_kwh": 2.5, "interval_s": 900})
    publish(settings, [
        (f"{settings.topic_prefix}/energy/town-hall/th-gas", native),
        (f"{settings.topic_prefix}/energy/town-hall/th-gas", b"{}")])
    (point,) = wait_rows(settings, "energy", "th-gas", 1)
    assert only(point, "time", "energy_kwh", "interval_s") == {
        "time": T0, "energy_kwh": 2.5, "interval_s": 900}
    (letter,) = dead_letters(settings, 1)
    assert (letter["reason"], letter["domain"]) == ("field_missing", "energy")

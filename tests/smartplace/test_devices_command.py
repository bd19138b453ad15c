"""``smartplace devices check`` and ``devices try``: no broker, no database."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from typer.testing import CliRunner

from smartplace.cli import app
from tests.sensors.formats.helpers import EXAMPLE, FIXTURES

ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("SMARTPLACE_")},
       "SMARTPLACE_TOPIC_PREFIX": "stockport/town-centre"}


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["devices", *args], env=ENV, input=stdin)
    return result.exit_code, result.output


def test_check_lists_formats_subscriptions_and_warnings(tmp_path: Path) -> None:
    code, out = run("check", str(EXAMPLE))
    assert code == 0, out
    assert f"{EXAMPLE}: 9 devices, valid" in out
    assert "  shelly-gen2         1  +/events/rpc" in out
    assert "  sensor-community    1  HTTP POST /ingest/sensor-community" in out
    assert "subscriptions besides stockport/town-centre/#: " in out
    assert "warning" not in out
    data = orjson.loads(EXAMPLE.read_bytes())
    data["devices"][0]["site"] = "hillgate"
    unknown_site = tmp_path / "devices.json"
    unknown_site.write_bytes(orjson.dumps(data))
    code, out = run("check", str(unknown_site))
    assert code == 0
    assert ("warning: site 'hillgate' is not in the registry (entry 0 (ttn-v3 device "
            "'aq-mersey-01')): its readings are stored with that site id") in out
    data["devices"][1]["fields"]["counts.car"] = {"path": "cars", "scale": 0}
    unknown_site.write_bytes(orjson.dumps(data))
    code, out = run("check", str(unknown_site))
    assert code == 1
    assert "entry 1 (chirpstack-v4 device 'A84041000181C2D3'): fields.counts.car.scale" in out


def test_try_prints_the_readings_a_message_becomes() -> None:
    code, out = run("try", str(EXAMPLE), "--format", "ttn-v3", "--message",
                    str(FIXTURES / "ttn-v3-uplink.json"))
    assert code == 0, out
    assert out.strip() == (
        "stockport/town-centre/air_quality/mersey-square/aq-ms-lora-01  "
        '{"ts":1795687200297,"seq":1834,"no2_ugm3":38.4,"pm25_ugm3":9.7,"pm10_ugm3":17.2,'
        '"temperature_c":7.9,"humidity_pct":88.5}')
    code, out = run("try", str(EXAMPLE), "--format", "shelly-gen2", "--message",
                    str(FIXTURES / "shelly-gen2-notifystatus.json"))
    assert code == 0, out
    assert "cumulative: register 4210.77342 kWh at 2026-11-26T10:01:00.470000+00:00" in out
    code, out = run("try", str(EXAMPLE), "--format", "sensor-community", "--received-at",
                    "2026-11-26T10:00:00Z", "--message", str(FIXTURES / "sensor-community.json"))
    assert code == 0, out
    assert '"ts":1795687200000,"pm25_ugm3":5.7,"pm10_ugm3":12.3' in out


def test_try_says_why_a_message_is_a_dead_letter_or_no_reading() -> None:
    body = orjson.loads((FIXTURES / "ttn-v3-uplink.json").read_bytes())
    body["uplink_message"]["decoded_payload"]["pm10"] = 10_001
    code, out = run("try", str(EXAMPLE), "--format", "ttn-v3", "--message", "-",
                    stdin=orjson.dumps(body))
    assert code == 1
    assert "dead letter value_out_of_range: ttn-v3 device 'aq-mersey-01'" in out
    code, out = run("try", str(EXAMPLE), "--format", "shelly-gen2", "--message",
                    str(FIXTURES / "shelly-gen2-notifyevent.json"))
    assert (code, out.strip()) == (
        0, "not a reading (shelly-gen2:NotifyEvent): the ingestor counts it and stores nothing")
    code, out = run("try", str(EXAMPLE), "--format", "senml", "--message", "-", stdin=b"{}")
    assert code == 1
    assert "dead letter payload_not_object" in out
    code, out = run("try", str(EXAMPLE), "--format", "tasmota", "--message",
                    str(FIXTURES / "tasmota-sensor-sds011.json"))
    assert code == 2
    assert "give --topic" in out


def test_a_bad_devices_file_stops_the_ingestor_and_the_api_naming_the_entry(
    tmp_path: Path,
) -> None:
    data = orjson.loads(EXAMPLE.read_bytes())
    data["devices"][4]["fields"]["power_kw"]["scale"] = 0
    path = tmp_path / "devices.json"
    path.write_bytes(orjson.dumps(data))
    env = {**ENV, "SMARTPLACE_DEVICES_FILE": str(path), "SMARTPLACE_METRICS_PORT": "0",
           "SMARTPLACE_INGEST_HTTP_PORT": "0", "SMARTPLACE_SPOOL_DIR": str(tmp_path)}
    for command in ("ingest", "api"):
        result = CliRunner().invoke(app, [command], env=env)
        assert result.exit_code == 2, result.output
        assert (f"{path}:\nentry 4 (shelly-gen2 device 'shellypro3em-0cb815fcaff4'): "
                "fields.power_kw.scale: scale must not be 0") in result.output


def test_cumulative_devices_refuse_ingestors_that_share_the_subscription(tmp_path: Path) -> None:
    env = {**ENV, "SMARTPLACE_DEVICES_FILE": str(EXAMPLE), "SMARTPLACE_METRICS_PORT": "0",
           "SMARTPLACE_INGEST_HTTP_PORT": "0", "SMARTPLACE_SPOOL_DIR": str(tmp_path)}
    # The example's first cumulative device is the SenML market-hall meter.
    for args, extra in ((["ingest", "--workers", "2"], {}),
                        (["ingest"], {"SMARTPLACE_INGEST_SHARE_GROUP": "north"})):
        result = CliRunner().invoke(app, args, env={**env, **extra})
        assert result.exit_code == 2, result.output
        assert ("senml device 'urn:dev:mac:0024befffe80a2c4:' has a cumulative register, "
                "which needs a single ingestor") in result.output


def test_broker_accounts_open_the_devices_files_topics_to_ingestor_and_gateway(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(app, [
        "broker", "accounts", "--out", str(tmp_path), "--ingest-password", "i",
        "--simulator-password", "s", "--devices-file", str(EXAMPLE)], env=ENV)
    assert result.exit_code == 0, result.output
    sections = (tmp_path / "acl").read_text().split("\n\n")
    formats = ["zigbee2mqtt/town-hall-foyer", "application/+/device/+/event/up",
               "+/events/rpc", "tele/+/SENSOR", "v3/+/devices/+/up"]
    assert sections[1].splitlines() == [
        "user smartplace-ingest", "topic read stockport/town-centre/#",
        *(f"topic read {one}" for one in formats),
        "topic write stockport/town-centre/grid/#"]
    assert sections[2].splitlines() == [
        "user smartplace-simulator", "topic write stockport/town-centre/#",
        *(f"topic write {one}" for one in formats)]

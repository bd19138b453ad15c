"""The devices file: the documented example loads; each mistake is named by its entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from sensors.errors import DevicesFileError
from sensors.formats.checks import registry_warnings
from sensors.formats.devices import Format
from sensors.formats.devices_loader import load_devices, parse_devices
from sensors.registry import load_registry
from tests.sensors.formats.helpers import EXAMPLE, example_devices


def test_the_example_has_every_format_and_only_known_sites() -> None:
    devices = example_devices()
    assert devices.formats() == set(Format)
    assert registry_warnings(devices, load_registry()) == []
    shelly = next(d for d in devices.devices if d.format is Format.SHELLY_GEN2)
    energy = next(one for one in shelly.field_maps if one.target == "energy_kwh")
    assert (energy.path, energy.scale, energy.cumulative) == (
        ("em1data:0", "total_act_energy"), 0.001, True)
    sds = next(d for d in devices.devices if d.sensor == "aq-station-sds")
    assert sds.field_maps[0].path == ("SDS0X1", "PM2.5")
    chirpstack = next(d for d in devices.devices if d.format is Format.CHIRPSTACK_V4)
    assert chirpstack.key == "a84041000181c2d3"  # DevEUIs match without regard to case


def entry(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"format": "ttn-v3", "device": "dev-1", "domain": "air_quality",
                            "site": "mersey-square", "sensor": "aq-1",
                            "fields": {"no2_ugm3": "no2"}}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def energy(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"domain": "energy", "carrier": "electricity", "sensor": "meter-1",
                            "fields": {"energy_kwh": {"path": "total", "cumulative": True}}}
    return entry(**{**base, **fields})


@pytest.mark.parametrize(("entries", "message"), [
    ([entry(format="lorawan")], "entry 0 (lorawan device 'dev-1'): format: Input should be"),
    ([entry(site="Mersey Square")], "entry 0 (ttn-v3 device 'dev-1'): site: String should match"),
    ([entry(fields={"no2": "no2"})], "fields.no2: not a field of air_quality readings"),
    ([entry(fields={})], "fields: Dictionary should have at least 1 item"),
    ([entry(fields={"no2_ugm3": ""})], "fields.no2_ugm3: path '' has an empty key"),
    ([entry(fields={"no2_ugm3": {"path": "no2", "scale": 0}})], "scale must not be 0"),
    ([entry(fields={"no2_ugm3": {"path": "no2", "cumulative": True}})],
     "only energy_kwh can be cumulative"),
    ([entry(timezone="Europe/Stockport")], "unknown IANA time zone 'Europe/Stockport'"),
    ([entry(carrier="gas")], "energy devices, and only they, need a carrier"),
    ([energy(carrier=None)], "energy devices, and only they, need a carrier"),
    ([energy(fields={"power_kw": "p"}, interval_s=60)], "an energy device needs fields.energy_kwh"),
    ([energy(fields={"energy_kwh": {"path": "kwh", "optional": True}}, interval_s=60)],
     "fields.energy_kwh: every reading needs it: it cannot be optional"),
    ([energy(fields={"energy_kwh": "kwh"})], "give interval_s (the reporting interval)"),
    ([energy(fields={"energy_kwh": {"path": "t", "cumulative": True}, "interval_s": "i"})],
     "do not map fields.interval_s"),
    ([entry(domain="transport", fields={"link_km": "l"}, interval_s=60)],
     "a transport device needs at least one fields.counts.<class>"),
    ([entry(domain="transport", fields={"counts.tram": "t"}, interval_s=60)],
     "fields.counts.tram: not a field of transport readings"),
    ([entry(format="json")], "a json device needs its topic"),
    ([entry(format="json", topic="z2m/a")], "a json device needs fields.ts"),
    ([entry(format="json", topic="z2m/a/#/b", fields={"ts": "t", "no2_ugm3": "n"})],
     "'#' must be a whole last level"),
    ([entry(format="senml", fields={"no2_ugm3": ["a", "b"]})], "senml names are one key"),
    ([entry(format="sensor-community", device="13017161")], "esp8266-<esp8266id>"),
    ([entry(format="sensor-community", device="esp8266-1", topic="x")], "post over HTTP"),
    ([entry(fields={"no2_ugm3": "no2"}, colour="red")], "colour: Extra inputs are not permitted"),
    ([entry(), entry(sensor="aq-2")], "entry 1: ttn-v3 device 'dev-1' is also entry 0"),
    ([entry(), entry(device="dev-2")], "entry 1: sensor 'aq-1' is also the sensor of entry 0"),
    ([entry(format="json", topic="z/a", fields={"ts": "t", "no2_ugm3": "n"}),
      entry(format="json", topic="z/a", device="b", sensor="aq-2",
            fields={"ts": "t", "no2_ugm3": "n"})], "topic 'z/a' is also the topic of entry 0"),
])
def test_mistakes_name_their_entry(entries: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(DevicesFileError) as caught:
        parse_devices(orjson.dumps({"devices": entries}), "devices.json")
    assert message in str(caught.value)
    assert str(caught.value).startswith("devices.json")


def test_files_that_are_not_devices_files(tmp_path: Path) -> None:
    with pytest.raises(DevicesFileError, match="not valid JSON"):
        parse_devices(b"{devices: []}")
    with pytest.raises(DevicesFileError, match="devices: Field required"):
        parse_devices(b"{}")
    with pytest.raises(DevicesFileError, match="cannot be read"):
        load_devices(tmp_path / "missing.json")
    assert load_devices(EXAMPLE).devices


def test_registry_disagreements_are_warnings() -> None:
    devices = parse_devices(orjson.dumps({"devices": [
        entry(site="hillgate"), entry(device="dev-2", sensor="mw-elec-main")]}))
    warnings = registry_warnings(devices, load_registry())
    assert len(warnings) == 2
    assert "site 'hillgate' is not in the registry" in warnings[0]
    assert "the registry has sensor 'mw-elec-main' as energy at 'merseyway'" in warnings[1]

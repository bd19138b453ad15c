"""Topic filters, routes and subscriptions of a devices file."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from sensors.errors import DevicesFileError
from sensors.formats.devices_loader import parse_devices
from sensors.formats.paths import MISSING, format_path, parse_path, resolve
from sensors.formats.topicfilter import TopicFilter
from sensors.formats.translator import Translator
from tests.sensors.formats.helpers import translator


@pytest.mark.parametrize(("text", "topic", "wild"), [
    ("v3/+/devices/+/up", "v3/app@ttn/devices/dev-1/up", ("app@ttn", "dev-1")),
    ("v3/+/devices/+/up", "v3/app@ttn/devices/dev-1/join", None),
    ("v3/+/devices/+/up", "v3/app@ttn/devices/up", None),
    ("tele/+/SENSOR", "tele/plug/SENSOR", ("plug",)),
    ("a/#", "a", ()),
    ("a/#", "a/b/c", ()),
    ("+/events/rpc", "$SYS/events/rpc", None),
    ("z2m/kitchen", "z2m/kitchen", ()),
])
def test_matching(text: str, topic: str, wild: tuple[str, ...] | None) -> None:
    assert TopicFilter.parse(text).match(topic) == wild


@pytest.mark.parametrize(("one", "other", "overlap", "covers"), [
    ("a/+/c", "a/b/+", True, False),
    ("a/#", "a/b/c", True, True),
    ("a/#", "a", True, True),
    ("+/events/rpc", "tele/+/SENSOR", False, False),
    ("v3/+/devices/+/up", "v3/app/devices/+/up", True, True),
    ("x/y", "x/y/z", False, False),
])
def test_overlap_and_cover(one: str, other: str, overlap: bool, covers: bool) -> None:
    a, b = TopicFilter.parse(one), TopicFilter.parse(other)
    assert a.overlaps(b) is overlap
    assert b.overlaps(a) is overlap
    assert a.covers(b) is covers


@pytest.mark.parametrize(("text", "message"), [
    ("", "cannot be empty"), ("a/b#", "'#' must be a whole last level"),
    ("a/#/b", "'#' must be a whole last level"), ("a+/b", "'+' must be a whole level")])
def test_bad_filters(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        TopicFilter.parse(text)


def test_paths() -> None:
    assert parse_path("em1data:0.total_act_energy") == ("em1data:0", "total_act_energy")
    assert parse_path(["SDS0X1", "PM2.5"]) == ("SDS0X1", "PM2.5")
    assert parse_path("PM2.5", split=False) == ("PM2.5",)
    assert format_path(("SDS0X1", "PM2.5")) == '["SDS0X1", "PM2.5"]'
    values = {"a": {"b": [10, {"c": 3}], "n": None}}
    assert resolve(values, ("a", "b", "1", "c")) == 3
    assert resolve(values, ("a", "b", "0")) == 10
    assert resolve(values, ("a", "n")) is MISSING
    assert resolve(values, ("a", "b", "5")) is MISSING
    assert resolve(values, ("a", "x")) is MISSING


def test_subscriptions_are_the_formats_in_use_outside_the_prefix() -> None:
    # SenML's default lies under the prefix (covered by <prefix>/#); sensor-community is HTTP.
    assert sorted(translator().subscriptions()) == sorted([
        "zigbee2mqtt/town-hall-foyer", "application/+/device/+/event/up", "+/events/rpc",
        "tele/+/SENSOR", "v3/+/devices/+/up"])


def _json(topic: str, sensor: str) -> dict[str, Any]:
    return {"format": "json", "device": sensor, "topic": topic, "domain": "air_quality",
            "site": "town-hall", "sensor": sensor, "fields": {"ts": "t", "no2_ugm3": "n"}}


@pytest.mark.parametrize(("entries", "message"), [
    ([_json("p/energy/site/x", "a")], "overlaps the native topics 'p/energy/+/+'"),
    ([_json("p/grid/carbon", "a")], "overlaps the native topics 'p/grid/#'"),
    ([_json("z/+", "a"), _json("z/kitchen", "b")], "can match the same topic"),
    ([_json("x/events/rpc", "a"), {"format": "shelly-gen2", "device": "s", "domain": "energy",
      "site": "s", "sensor": "b", "carrier": "gas", "interval_s": 60,
      "fields": {"energy_kwh": "e"}}], "shelly-gen2 (topic filter '+/events/rpc')"),
])
def test_ambiguous_topics_are_refused(entries: list[dict[str, Any]], message: str) -> None:
    devices = parse_devices(orjson.dumps({"devices": entries}))
    with pytest.raises(DevicesFileError) as caught:
        Translator(devices, "p")
    assert message in str(caught.value)


def test_a_device_topic_replaces_its_formats_default() -> None:
    devices = parse_devices(orjson.dumps({"devices": [
        {"format": "tasmota", "device": "plug", "topic": "office/tele/+/SENSOR",
         "domain": "energy", "site": "s", "sensor": "p", "carrier": "electricity",
         "interval_s": 300, "fields": {"energy_kwh": {"path": "ENERGY.Total",
                                                       "cumulative": True}}}]}))
    routes = Translator(devices, "p")
    assert routes.subscriptions() == ["office/tele/+/SENSOR"]
    assert routes.translate("tele/plug/SENSOR", b"{}") is None
    found = routes.route("office/tele/plug/SENSOR")
    assert found is not None
    assert found[1] == ("plug",)


def test_routed_topics_are_remembered_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sensors.formats.translator.ROUTE_CACHE_SIZE", 2)
    routes = translator()
    topics = [f"v3/app@ttn/devices/dev-{n}/up" for n in range(3)]

    first = [routes.route(topic) for topic in topics]
    again = [routes.route(topic) for topic in reversed(topics)]

    assert [found[1] if found else None for found in first] == [
        ("app@ttn", f"dev-{n}") for n in range(3)]
    assert again == list(reversed(first))
    assert len(routes._routed) <= 2
    assert routes.route("v3/app@ttn/devices/dev-1/down") is None  # not routed: not kept
    assert "v3/app@ttn/devices/dev-1/down" not in routes._routed

"""The decoder's way to the device formats: a topic outside the prefix goes straight to
them, with the same results as through the native attempt (no servers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.decode import Decoded, Ignored, MessageDecoder, Rejection
from ingest.formats import FormatDecoder
from ingest.registers import RegisterHistory
from sensors.registry import load_registry
from tests.sensors.formats.helpers import PREFIX, TOPICS, raw, translator


@pytest.fixture
def formats(tmp_path: Path) -> Iterator[FormatDecoder]:
    decoder = FormatDecoder(translator(), RegisterHistory(tmp_path), {})
    yield decoder
    decoder.close()


def test_a_format_topic_decodes_as_the_format_decoder_does(formats: FormatDecoder) -> None:
    topic = TOPICS["ttn-v3-uplink.json"]
    decoder = MessageDecoder(PREFIX, load_registry(), formats)

    found = decoder.decode(topic, raw("ttn-v3-uplink.json"))

    assert isinstance(found, Decoded)
    assert found == formats.decode(topic, raw("ttn-v3-uplink.json"))
    assert found.measurement == "air_quality"
    assert isinstance(decoder.decode(topic, b'{"end_device_ids": {}, "join_accept": {}}'),
                      Ignored)


def test_a_topic_outside_the_prefix_no_format_claims_is_refused_as_before(
        formats: FormatDecoder) -> None:
    with_formats = MessageDecoder(PREFIX, load_registry(), formats)
    without = MessageDecoder(PREFIX, load_registry())

    for topic in ("somewhere/else", "v3/app/devices/dev/down/push", f"{PREFIX}x/energy/a/b"):
        found = with_formats.decode(topic, b'{"ts": 1}')
        assert found == without.decode(topic, b'{"ts": 1}')
        assert found == Rejection("topic_invalid", None,
                                  f"topic {topic!r} is not under prefix {PREFIX!r}")


def test_formats_under_the_prefix_and_native_readings_are_unchanged(
        formats: FormatDecoder) -> None:
    decoder = MessageDecoder(PREFIX, load_registry(), formats)

    senml = decoder.decode(TOPICS["senml-pack.json"], raw("senml-pack.json"))
    native = decoder.decode(f"{PREFIX}/energy/town-hall/th-main",
                            b'{"ts": 1795687200000, "carrier": "gas", "energy_kwh": 1.5, '
                            b'"interval_s": 60}')
    unknown = decoder.decode(f"{PREFIX}/weather/a/b", b"{}")

    assert isinstance(senml, Decoded)
    assert senml.line
    assert isinstance(native, Decoded)
    assert native.line.startswith("energy,site=town-hall,sensor=th-main,carrier=gas ")
    assert isinstance(unknown, Rejection)
    assert unknown.reason == "domain_unknown"

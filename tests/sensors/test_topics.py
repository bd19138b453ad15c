"""The topic scheme ``<prefix>/<domain>/<site>/<sensor>``."""

from __future__ import annotations

import pytest

from sensors.errors import InvalidReadingError
from sensors.reasons import DeadLetterReason as R
from sensors.topics import Domain, Topic, build_topic, domain_of, normalise_prefix, parse_topic

P = "stockport/town-centre"


def test_build_and_parse_round_trip() -> None:
    topic = build_topic(P, Domain.TRANSPORT, "mersey-square", "tr_a6-01")
    assert topic == "stockport/town-centre/transport/mersey-square/tr_a6-01"
    assert parse_topic(P, topic) == Topic(Domain.TRANSPORT, "mersey-square", "tr_a6-01")


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("other/energy/a/b", R.TOPIC_INVALID),
        ("stockport/town-centre-x/energy/a/b", R.TOPIC_INVALID),
        ("stockport/town-centre/energy/a", R.TOPIC_INVALID),
        ("stockport/town-centre/energy/a/b/c", R.TOPIC_INVALID),
        ("stockport/town-centre/energy/A/b", R.TOPIC_INVALID),
        ("stockport/town-centre/energy/-a/b", R.TOPIC_INVALID),
        ("stockport/town-centre/energy/a/b c", R.TOPIC_INVALID),
        ("stockport/town-centre/energy/a/" + "x" * 64, R.TOPIC_INVALID),
        ("stockport/town-centre/energy//b", R.TOPIC_INVALID),
        ("stockport/town-centre/energy/a,b=c/d", R.TOPIC_INVALID),
        ("stockport/town-centre/weather/a/b", R.DOMAIN_UNKNOWN),
        ("stockport/town-centre/Energy/a/b", R.DOMAIN_UNKNOWN),
    ],
)
def test_bad_topics_are_rejected(topic: str, reason: R) -> None:
    with pytest.raises(InvalidReadingError) as caught:
        parse_topic(P, topic)
    assert caught.value.reason is reason


def test_longest_valid_slug_is_accepted() -> None:
    sensor = "a" + "b" * 62
    assert parse_topic(P, f"{P}/energy/site/{sensor}").sensor == sensor


def test_domain_of_names_only_valid_domains() -> None:
    assert domain_of(P, f"{P}/air_quality/x/y/z") is Domain.AIR_QUALITY
    assert domain_of(P, f"{P}/weather/x/y") is None
    assert domain_of(P, "elsewhere/energy/x/y") is None


@pytest.mark.parametrize("prefix", ["", "/", "a/+/b", "a/#"])
def test_wildcards_and_empty_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        normalise_prefix(prefix)


def test_build_topic_refuses_non_slugs() -> None:
    with pytest.raises(ValueError, match="slugs"):
        build_topic(P, Domain.ENERGY, "Site A", "m1")

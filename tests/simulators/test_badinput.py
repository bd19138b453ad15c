"""Malformed messages: each kind earns exactly its dead-letter reason from the shared validators."""

from __future__ import annotations

import random
from collections import Counter

import orjson
import pytest

from sensors.errors import InvalidReadingError
from sensors.readings import MAX_PAYLOAD_BYTES, to_payload
from sensors.reasons import DeadLetterReason
from sensors.registry import Sensor, load_registry
from sensors.topics import Domain, normalise_prefix, parse_topic
from sensors.validation import validate_payload
from simulators.badinput import (
    BAD_REASONS,
    BadMessage,
    make_bad_message,
    random_bad_message,
    reasons_for,
)
from simulators.profiles import generate_reading, synthetic_sensors

PREFIX = normalise_prefix("test/bad-input")
SENSORS = (*load_registry().sensors, *synthetic_sensors(15))


def reason_of(message: BadMessage) -> DeadLetterReason | None:
    """What the ingestor's validators make of a message (None: a valid reading)."""
    try:
        topic = parse_topic(PREFIX, message.topic)
        validate_payload(topic.domain, message.payload)
    except InvalidReadingError as exc:
        return exc.reason
    return None


def base_payload(sensor: Sensor, k: int) -> dict[str, object]:
    return to_payload(generate_reading(1, sensor, k, 1_780_000_000_000 + k * 60_000))


def test_every_reason_but_store_rejected_has_a_kind() -> None:
    # device_unknown is earned by device-format messages (tests/sensors/formats).
    assert set(BAD_REASONS) == set(DeadLetterReason) - {DeadLetterReason.STORE_REJECTED,
                                                         DeadLetterReason.DEVICE_UNKNOWN}
    assert set().union(*(reasons_for(d) for d in Domain)) == set(BAD_REASONS)
    assert DeadLetterReason.CARRIER_UNKNOWN in reasons_for(Domain.ENERGY)
    assert DeadLetterReason.CARRIER_UNKNOWN not in reasons_for(Domain.TRANSPORT)
    assert DeadLetterReason.VEHICLE_CLASS_UNKNOWN in reasons_for(Domain.TRANSPORT)
    assert DeadLetterReason.NO_MEASUREMENTS in reasons_for(Domain.AIR_QUALITY)
    assert DeadLetterReason.NO_MEASUREMENTS not in reasons_for(Domain.ENERGY)


@pytest.mark.parametrize("reason", BAD_REASONS, ids=str)
def test_each_kind_earns_exactly_its_reason(reason: DeadLetterReason) -> None:
    sensors = [s for s in SENSORS if reason in reasons_for(s.domain)]
    assert sensors
    rng = random.Random(reason.value)
    for sensor in sensors:
        # Several draws per sensor so that every variant of the kind is exercised.
        for k in range(12):
            message = make_bad_message(reason, rng, PREFIX, sensor, base_payload(sensor, k))
            assert message.reason is reason
            assert message.topic.startswith(PREFIX + "/"), "the ingestor must receive it"
            assert reason_of(message) is reason, message


def test_a_too_large_payload_is_otherwise_a_json_reading() -> None:
    sensor = SENSORS[0]
    base = base_payload(sensor, 0)
    message = make_bad_message(DeadLetterReason.PAYLOAD_TOO_LARGE, random.Random(1), PREFIX,
                               sensor, base)
    assert len(message.payload) > MAX_PAYLOAD_BYTES
    assert orjson.loads(message.payload).items() >= base.items()


def test_a_kind_from_another_domain_is_refused() -> None:
    energy = next(s for s in SENSORS if s.domain is Domain.ENERGY)
    with pytest.raises(ValueError, match="vehicle_class_unknown"):
        make_bad_message(DeadLetterReason.VEHICLE_CLASS_UNKNOWN, random.Random(1), PREFIX,
                         energy, base_payload(energy, 0))


def test_random_kinds_are_deterministic_and_cover_the_domain() -> None:
    for domain in Domain:
        sensor = next(s for s in SENSORS if s.domain is domain)

        def draw(seed: int, sensor: Sensor = sensor) -> list[BadMessage]:
            rng = random.Random(seed)
            return [random_bad_message(rng, PREFIX, sensor, base_payload(sensor, k))
                    for k in range(300)]

        messages = draw(4)
        assert messages == draw(4)
        assert messages != draw(5)
        assert set(Counter(m.reason for m in messages)) == set(reasons_for(domain))
        assert all(reason_of(m) is m.reason for m in messages)

"""Malformed messages, one kind for every dead-letter reason the ingestor can find by itself.

Each generator takes the valid payload the sensor would have sent and spoils it the way
a misconfigured or faulty device does, so the ingestor's dead-letter path is exercised
with realistic input. ``store_rejected`` is left out: only the database can cause it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any, NamedTuple

from sensors.reasons import DeadLetterReason as R
from sensors.registry import Sensor
from sensors.topics import Domain, build_topic

Payload = dict[str, Any]


class BadMessage(NamedTuple):
    """A malformed message and the dead-letter reason the ingestor must give it."""

    topic: str
    payload: bytes
    reason: R


BAD_REASONS: tuple[R, ...] = tuple(
    reason for reason in R if reason not in (R.STORE_REJECTED, R.DEVICE_UNKNOWN))
"""Every reason a native message alone can earn (all but ``store_rejected``, and
``device_unknown``, which only a device format's message can earn)."""

# Reasons that only a payload of one domain can earn.
_ONLY_IN = {R.CARRIER_UNKNOWN: Domain.ENERGY, R.VEHICLE_CLASS_UNKNOWN: Domain.TRANSPORT,
            R.NO_MEASUREMENTS: Domain.AIR_QUALITY}

_REQUIRED = {Domain.ENERGY: ("ts", "carrier", "energy_kwh", "interval_s"),
             Domain.TRANSPORT: ("ts", "interval_s", "counts"),
             Domain.AIR_QUALITY: ("ts",)}
_OUT_OF_RANGE: dict[Domain, tuple[tuple[str, object], ...]] = {
    Domain.ENERGY: (("energy_kwh", -1.5), ("energy_kwh", 2_000_000.0), ("interval_s", 0),
                    ("interval_s", 86_401), ("power_kw", 250_000.0), ("seq", -1)),
    Domain.TRANSPORT: (("counts", {"car": -3}), ("counts", {"bus": 100_001}), ("link_km", 0.0),
                       ("link_km", 51.0), ("avg_speed_kph", 250.0), ("interval_s", 0)),
    Domain.AIR_QUALITY: (("humidity_pct", 104.0), ("temperature_c", -75.0), ("no2_ugm3", -2.0),
                         ("pm10_ugm3", 12_000.0), ("co2_ppm", 60_000.0), ("seq", -1)),
}
_NUMBERS = {Domain.ENERGY: ("energy_kwh", "power_kw"),
            Domain.TRANSPORT: ("avg_speed_kph", "link_km"),
            Domain.AIR_QUALITY: ("no2_ugm3", "pm25_ugm3", "o3_ugm3", "temperature_c")}
_INTEGERS = {Domain.ENERGY: ("interval_s", "seq"), Domain.TRANSPORT: ("interval_s", "seq"),
             Domain.AIR_QUALITY: ("seq",)}


def reasons_for(domain: Domain) -> tuple[R, ...]:
    """The reasons a message of a sensor of ``domain`` can be spoiled to earn."""
    return tuple(r for r in BAD_REASONS if _ONLY_IN.get(r, domain) is domain)


def _json(payload: object) -> bytes:
    # The standard library writes NaN and Infinity literals, which orjson refuses to.
    return json.dumps(payload, separators=(",", ":")).encode()


def _topic(prefix: str, sensor: Sensor) -> str:
    return build_topic(prefix, sensor.domain, sensor.site, sensor.id)


def _topic_invalid(rng: random.Random, prefix: str, sensor: Sensor, base: Payload) -> BadMessage:
    head = f"{prefix}/{sensor.domain.value}"
    topic = rng.choice((f"{head}/{sensor.site}/{sensor.id}/raw", f"{head}/{sensor.id}",
                        f"{head}/{sensor.site}/Sensor {sensor.id}", f"{head}//{sensor.id}"))
    return BadMessage(topic, _json(base), R.TOPIC_INVALID)


def _domain_unknown(rng: random.Random, prefix: str, sensor: Sensor, base: Payload) -> BadMessage:
    domain = rng.choice(("water", "noise", "parking", "Energy", "air-quality"))
    return BadMessage(f"{prefix}/{domain}/{sensor.site}/{sensor.id}", _json(base),
                      R.DOMAIN_UNKNOWN)


def _payload_too_large(rng: random.Random, base: Payload) -> bytes:
    return _json({**base, "firmware_dump": "0123456789abcdef" * rng.randint(1030, 1500)})


def _payload_not_utf8(rng: random.Random, base: Payload) -> bytes:
    if rng.random() < 0.5:
        return json.dumps({**base, "note": "café"}, ensure_ascii=False).encode("latin-1")
    return json.dumps(base).encode("utf-16")


def _payload_not_json(rng: random.Random, base: Payload) -> bytes:
    text = _json(base)
    return rng.choice((text[: len(text) // 2], b"", repr(base).encode(),
                       ",".join(f"{k}={v}" for k, v in base.items()).encode()))


def _payload_not_object(rng: random.Random, base: Payload) -> bytes:
    return _json(rng.choice((list(base.values()), [base], base["ts"], "reading", None)))


def _field_missing(rng: random.Random, domain: Domain, base: Payload) -> Payload:
    drop = rng.choice(_REQUIRED[domain])
    return {k: v for k, v in base.items() if k != drop}


def _field_type(rng: random.Random, domain: Domain, base: Payload) -> Payload:
    kind = rng.randrange(3)
    if kind == 2:
        name = rng.choice(_INTEGERS[domain])
        return {**base, name: float(base.get(name, 1)) + 0.5}
    name = rng.choice(_NUMBERS[domain])
    value = base.get(name, 1.5)
    return {**base, name: str(value) if kind == 0 else rng.random() < 0.5}


def _value_not_finite(rng: random.Random, domain: Domain, base: Payload) -> Payload:
    return {**base, rng.choice(_NUMBERS[domain]): rng.choice((float("nan"), float("inf")))}


def _value_out_of_range(rng: random.Random, domain: Domain, base: Payload) -> Payload:
    name, value = rng.choice(_OUT_OF_RANGE[domain])
    return {**base, name: value}


def _timestamp_invalid(rng: random.Random, domain: Domain, base: Payload) -> Payload:
    # The first is the commonest device bug: local time written without an offset.
    ts = rng.choice(("2026-11-26T10:00:00", "26/11/2026 10:00:00", "yesterday",
                     -60_000, 9_000_000_000_000, base["ts"] / 1000 + 0.5))
    return {**base, "ts": ts}


def _carrier_unknown(rng: random.Random, domain: Domain, base: Payload) -> Payload:
    return {**base, "carrier": rng.choice(("diesel", "hydrogen", "district_heat", "Electricity"))}


def _vehicle_class_unknown(rng: random.Random, domain: Domain, base: Payload) -> Payload:
    extra = rng.choice(("tram", "e-scooter", "taxi", "Car"))
    return {**base, "counts": {**base["counts"], extra: rng.randint(1, 9)}}


def _no_measurements(rng: random.Random, domain: Domain, base: Payload) -> Payload:
    if rng.random() < 0.5:
        return {"ts": base["ts"], "no2_ugm3": None}
    return {"ts": base["ts"], "status": rng.choice(("warming_up", "calibrating", "filter_change"))}


_PAYLOAD_SPOILERS: dict[R, Callable[[random.Random, Payload], bytes]] = {
    R.PAYLOAD_TOO_LARGE: _payload_too_large, R.PAYLOAD_NOT_UTF8: _payload_not_utf8,
    R.PAYLOAD_NOT_JSON: _payload_not_json, R.PAYLOAD_NOT_OBJECT: _payload_not_object,
}
_FIELD_SPOILERS: dict[R, Callable[[random.Random, Domain, Payload], Payload]] = {
    R.FIELD_MISSING: _field_missing, R.FIELD_TYPE: _field_type,
    R.VALUE_NOT_FINITE: _value_not_finite, R.VALUE_OUT_OF_RANGE: _value_out_of_range,
    R.TIMESTAMP_INVALID: _timestamp_invalid, R.CARRIER_UNKNOWN: _carrier_unknown,
    R.VEHICLE_CLASS_UNKNOWN: _vehicle_class_unknown, R.NO_MEASUREMENTS: _no_measurements,
}


def make_bad_message(reason: R, rng: random.Random, prefix: str, sensor: Sensor,
                     base: Payload) -> BadMessage:
    """Spoil a sensor's valid payload so that the ingestor must dead-letter it for ``reason``.

    Args:
        reason: any reason of :data:`BAD_REASONS` that :func:`reasons_for` allows for the
            sensor's domain.
        rng: the source of the variant chosen (deterministic for a seeded generator).
        prefix: the normalised topic prefix.
        sensor: the sensor the message pretends to come from.
        base: the valid JSON-ready payload the sensor would have sent.

    Returns:
        The topic, the payload bytes and ``reason``.

    Raises:
        ValueError: if ``reason`` cannot be produced for the sensor's domain.
    """
    if reason not in reasons_for(sensor.domain):
        raise ValueError(f"{reason.value} cannot be produced for a {sensor.domain.value} sensor")
    if reason is R.TOPIC_INVALID:
        return _topic_invalid(rng, prefix, sensor, base)
    if reason is R.DOMAIN_UNKNOWN:
        return _domain_unknown(rng, prefix, sensor, base)
    if reason in _PAYLOAD_SPOILERS:
        return BadMessage(_topic(prefix, sensor), _PAYLOAD_SPOILERS[reason](rng, base), reason)
    payload = _FIELD_SPOILERS[reason](rng, sensor.domain, base)
    return BadMessage(_topic(prefix, sensor), _json(payload), reason)


def random_bad_message(rng: random.Random, prefix: str, sensor: Sensor,
                       base: Payload) -> BadMessage:
    """A malformed message of a kind drawn uniformly from those the sensor's domain allows.

    Args:
        rng: the source of the kind and its variant.
        prefix: the normalised topic prefix.
        sensor: the sensor the message pretends to come from.
        base: the valid JSON-ready payload the sensor would have sent.

    Returns:
        The topic, the payload bytes and the reason the ingestor must give.
    """
    return make_bad_message(rng.choice(reasons_for(sensor.domain)), rng, prefix, sensor, base)

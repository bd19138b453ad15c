"""Topic -> format -> observations -> candidate readings, for a whole devices file. Pure.

The :class:`Translator` knows which topic filters belong to which format (the defaults of
contract 7.2, a device's own ``topic`` replacing its format's default), the subscriptions
the ingestor needs beyond ``<prefix>/#``, and every device by the id its messages carry.
It refuses, at start-up, filters that would make a topic ambiguous: two formats that can
match one topic, json devices whose topics overlap, or a format filter that reaches into
the native topics (``<prefix>/<domain>/<site>/<sensor>``) or the grid feed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sensors.errors import DevicesFileError, InvalidReadingError
from sensors.formats.chirpstack import parse_chirpstack
from sensors.formats.devices import DEFAULT_TOPICS, Device, DevicesFile, Format, device_key
from sensors.formats.generic import parse_generic
from sensors.formats.mapping import Candidate, map_observation
from sensors.formats.observation import NotReading, Observation
from sensors.formats.senml import parse_senml
from sensors.formats.sensorcommunity import parse_sensor_community
from sensors.formats.shelly import parse_shelly
from sensors.formats.tasmota import parse_tasmota
from sensors.formats.topicfilter import TopicFilter
from sensors.formats.ttn import parse_ttn
from sensors.readings import Reading
from sensors.reasons import DeadLetterReason
from sensors.topics import GRID_SEGMENT, Domain
from sensors.validation import validate_object

Parser = Callable[[str, tuple[str, ...], bytes], "list[Observation] | NotReading"]
PARSERS: dict[Format, Parser] = {
    Format.TTN_V3: parse_ttn,
    Format.CHIRPSTACK_V4: parse_chirpstack,
    Format.SENML: parse_senml,
    Format.SHELLY_GEN2: parse_shelly,
    Format.TASMOTA: parse_tasmota,
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """One reading of a message that is bad input (its dead letter's reason and detail)."""

    reason: DeadLetterReason
    detail: str
    domain: Domain | None


Translation = NotReading | list[Candidate | Refusal]

#: Routed topics remembered (a device publishes on one topic, so after its first message
#: routing is a dict lookup instead of matching every filter: 113 -> 101 us per TTN uplink
#: in bench/format_decode.py). Bounded, as topics come from the broker: when full it
#: is emptied and fills again, a cost paid only with more live topics than this.
ROUTE_CACHE_SIZE = 20_000


@dataclass(frozen=True, slots=True)
class _Route:
    format: Format
    filter: TopicFilter
    device: Device | None  # json: the device is the topic's


def default_filter(fmt: Format, prefix: str) -> str:
    """A format's default topic filter under ``prefix`` (normalised)."""
    return DEFAULT_TOPICS[fmt].replace("{prefix}", prefix)


def reading_of(candidate: Candidate, energy_kwh: float | None = None,
               interval_s: int | None = None) -> Reading:
    """Validate a candidate as the section 2 reading it is; a cumulative one with the
    ``energy_kwh`` and ``interval_s`` its register's history gives it.

    Raises:
        InvalidReadingError: as for a native payload.
    """
    payload = candidate.payload
    if energy_kwh is not None:
        payload = {**payload, "energy_kwh": energy_kwh, "interval_s": interval_s}
    return validate_object(candidate.device.domain, payload)


class Translator:
    """Routes and translates the messages of every device in a devices file."""

    def __init__(self, devices: DevicesFile, prefix: str) -> None:
        self.devices = devices
        self.prefix = prefix
        self._by_key: dict[Format, dict[str, Device]] = {}
        routes: list[_Route] = []
        defaults: set[Format] = set()
        for device in devices.devices:
            self._by_key.setdefault(device.format, {})[device.key] = device
            if device.format is Format.SENSOR_COMMUNITY:
                continue
            if device.topic is not None:
                routes.append(_Route(device.format, TopicFilter.parse(device.topic),
                                     device if device.format is Format.JSON else None))
            else:
                defaults.add(device.format)
        for fmt in sorted(defaults):
            routes.append(_Route(fmt, TopicFilter.parse(default_filter(fmt, prefix)), None))
        _check_routes(routes, prefix)
        self._exact_json = {route.filter.text: route for route in routes
                            if route.device is not None and route.filter.exact}
        self._routes = [route for route in routes if route.filter.text not in self._exact_json]
        self._routed: dict[str, tuple[_Route, tuple[str, ...]]] = {}

    @property
    def formats(self) -> set[Format]:
        """The formats in use."""
        return set(self._by_key)

    def subscriptions(self) -> list[str]:
        """The topic filters to subscribe to besides ``<prefix>/#`` (none covered by it or
        by another one in the list)."""
        own = TopicFilter.parse(f"{self.prefix}/#")
        filters = [route.filter for route in (*self._exact_json.values(), *self._routes)]
        kept: list[str] = []
        for one in filters:
            # Two different filters never cover each other, so "covered by another" is safe.
            if own.covers(one) or any(other.text != one.text and other.covers(one)
                                      for other in filters):
                continue
            if one.text not in kept:
                kept.append(one.text)
        return kept

    def device(self, fmt: Format, device_id: str) -> Device | None:
        """The device of ``fmt`` whose messages carry ``device_id``."""
        return self._by_key.get(fmt, {}).get(device_key(fmt, device_id))

    def route(self, topic: str) -> tuple[_Route, tuple[str, ...]] | None:
        """The route of ``topic`` and the levels its filter's ``+`` matched."""
        exact = self._exact_json.get(topic)
        if exact is not None:
            return exact, ()
        found = self._routed.get(topic)
        if found is not None:
            return found
        parts = topic.split("/")
        for route in self._routes:
            wild = route.filter.match_levels(parts)
            if wild is not None:
                # Only routed topics: the others are bad input, never worth remembering.
                if len(self._routed) >= ROUTE_CACHE_SIZE:
                    self._routed.clear()
                self._routed[topic] = route, wild
                return route, wild
        return None

    def translate(self, topic: str, payload: bytes) -> Translation | None:
        """The candidates and refusals of one message, NotReading, or None when ``topic``
        belongs to no format.

        Raises:
            InvalidReadingError: the message as a whole is bad input (not JSON, ...).
        """
        found = self.route(topic)
        if found is None:
            return None
        route, wild = found
        if route.device is not None:
            return self._candidates(Format.JSON, [parse_generic(route.device, payload)])
        parsed = PARSERS[route.format](topic, wild, payload)
        if isinstance(parsed, NotReading):
            return parsed
        return self._candidates(route.format, parsed)

    def translate_sensor_community(self, payload: bytes, received_ms: int) -> Translation:
        """The candidates of one Sensor.Community body received at ``received_ms``.

        Raises:
            InvalidReadingError: not the firmware's body (the receiver answers 4xx).
        """
        return self._candidates(Format.SENSOR_COMMUNITY,
                                [parse_sensor_community(payload, received_ms)])

    def _candidates(self, fmt: Format, observations: list[Observation]) -> Translation:
        out: list[Candidate | Refusal] = []
        ignored: NotReading | None = None
        for observation in observations:
            device = self.device(fmt, observation.device_id)
            if device is None:
                out.append(Refusal(DeadLetterReason.DEVICE_UNKNOWN,
                                   f"{fmt.value} device {observation.device_id!r} is not in "
                                   "the devices file", None))
                continue
            try:
                mapped = map_observation(device, observation)
            except InvalidReadingError as exc:
                out.append(Refusal(exc.reason, f"{device.label()}: {exc.detail}", device.domain))
                continue
            if isinstance(mapped, NotReading):
                ignored = ignored or mapped
            else:
                out.append(mapped)
        if not out and ignored is not None:
            return ignored
        return out


def _native_filters(prefix: str) -> list[TopicFilter]:
    return [TopicFilter.parse(f"{prefix}/{domain.value}/+/+") for domain in Domain] + [
        TopicFilter.parse(f"{prefix}/{GRID_SEGMENT}/#")]


def _describe(route: _Route) -> str:
    if route.device is not None:
        return f"json device {route.device.device!r} (topic {route.filter.text!r})"
    return f"{route.format.value} (topic filter {route.filter.text!r})"


def _check_routes(routes: list[_Route], prefix: str) -> None:
    """Refuse filters that make a topic ambiguous.

    Raises:
        DevicesFileError: naming both sides.
    """
    for route in routes:
        for native in _native_filters(prefix):
            if route.filter.overlaps(native):
                raise DevicesFileError(
                    f"devices file: {_describe(route)} overlaps the native topics "
                    f"{native.text!r}: choose a topic outside them")
    for index, route in enumerate(routes):
        for other in routes[index + 1:]:
            same_format = route.format is other.format and route.device is None
            if same_format or not route.filter.overlaps(other.filter):
                continue
            raise DevicesFileError(
                f"devices file: {_describe(route)} and {_describe(other)} can match the same "
                "topic: give one of them a topic of its own")

"""Device formats in the ingestor: a translation becomes what the batcher stores.

:class:`sensors.formats.translator.Translator` gives each message's candidate readings
and refusals; here each candidate is validated as its section 2 reading and written by
the one line-protocol serialiser, and a cumulative device's register goes through its
durable history (:mod:`ingest.registers`). A message becomes one
:class:`ingest.decode.Decoded` whose ``line`` holds all its points (joined by ``\\n``, as a
grid feed's), with the refusals of the same message as ``rejections``; a message that is
not a reading becomes :class:`ingest.decode.Ignored`.

A late cumulative reading (one that lands between two known ones) also rewrites its
successor's point: same series and timestamp, so InfluxDB overwrites those fields in place
(and keeps the successor's others, such as ``power_kw`` and ``seq``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ingest.decode import Decoded, Ignored, Rejection
from ingest.registers import RegisterHistory
from sensors.errors import DevicesFileError, InvalidReadingError
from sensors.formats.checks import registry_warnings
from sensors.formats.cumulative import RegisterReading, increase
from sensors.formats.devices import DevicesFile
from sensors.formats.devices_loader import load_devices
from sensors.formats.mapping import Candidate
from sensors.formats.observation import NotReading
from sensors.formats.translator import Refusal, Translation, Translator, reading_of
from sensors.lineprotocol import reading_line, register_line, with_register
from sensors.registry import Registry
from sensors.settings import Settings
from sensors.timestamps import NS_PER_MS
from sensors.topics import Domain, Topic
from sensors.validation import validate_object

log = logging.getLogger(__name__)


class FormatDecoder:
    """Decodes the messages of the devices in one devices file."""

    def __init__(self, translator: Translator, history: RegisterHistory | None,
                 link_km: Mapping[str, float]) -> None:
        self.translator = translator
        self.history = history
        self._link_km = link_km

    def commit(self) -> None:
        """Make the register history of everything decoded so far durable.

        Raises:
            StateStoreError: it cannot be committed.
        """
        if self.history is not None:
            self.history.commit()

    def close(self) -> None:
        """Close the register history."""
        if self.history is not None:
            self.history.close()

    def subscriptions(self) -> list[str]:
        """Topic filters beyond ``<prefix>/#`` that the formats in use need."""
        return self.translator.subscriptions()

    def decode(self, topic: str, payload: bytes) -> Decoded | Rejection | Ignored | None:
        """The result of a message on a format's topic; None when no format claims it.

        Raises:
            StateStoreError: the register history cannot be written.
        """
        try:
            translation = self.translator.translate(topic, payload)
        except InvalidReadingError as exc:
            return Rejection(exc.reason.value, None, exc.detail)
        return None if translation is None else self.result(translation)

    def decode_sensor_community(self, payload: bytes, received_ms: int
                                ) -> Decoded | Rejection | Ignored:
        """The result of one Sensor.Community body.

        Raises:
            InvalidReadingError: not the firmware's body (the receiver answers 4xx).
            StateStoreError: the register history cannot be written.
        """
        return self.result(self.translator.translate_sensor_community(payload, received_ms))

    def result(self, translation: Translation) -> Decoded | Rejection | Ignored:
        """What the batcher stores for a translation."""
        if isinstance(translation, NotReading):
            return Ignored(translation.kind)
        lines: list[str] = []
        rejections: list[Rejection] = []
        newest_ms = 0
        domain = ""
        for item in translation:
            if isinstance(item, Refusal):
                rejections.append(Rejection(item.reason.value,
                                            item.domain.value if item.domain else None,
                                            item.detail))
                continue
            before = len(lines)
            self._encode(item, lines, rejections)
            if len(lines) > before:
                newest_ms = max(newest_ms, item.ts_ms)
                domain = domain or item.device.domain.value
        if not lines and len(rejections) == 1:
            return rejections[0]
        return Decoded("\n".join(lines), domain, newest_ms * NS_PER_MS, 0, tuple(rejections))

    def _encode(self, candidate: Candidate, lines: list[str], rejections: list[Rejection]) -> None:
        device = candidate.device
        topic = Topic(device.domain, device.site, device.sensor)
        if candidate.register_kwh is not None:
            self._cumulative(candidate, topic, lines, rejections)
            return
        try:
            reading = reading_of(candidate)
        except InvalidReadingError as exc:
            rejections.append(_refused(candidate, exc))
            return
        lines.append(reading_line(topic, reading, self._link_km.get(device.sensor)))

    def _cumulative(self, candidate: Candidate, topic: Topic, lines: list[str],
                    rejections: list[Rejection]) -> None:
        device = candidate.device
        assert self.history is not None
        assert candidate.register_kwh is not None
        assert device.carrier is not None
        current = RegisterReading(candidate.ts_ms, candidate.register_kwh)
        before, after = self.history.record(f"{device.format.value}:{device.key}", current)
        if before is None:
            lines.append(register_line(topic, device.carrier.value, current.value_kwh,
                                       current.ts_ms * NS_PER_MS))
        else:
            energy_kwh, interval_s = increase(before, current)
            try:
                reading = reading_of(candidate, energy_kwh, interval_s)
                lines.append(with_register(reading_line(topic, reading), current.value_kwh))
            except InvalidReadingError as exc:
                rejections.append(_refused(candidate, exc))
                lines.append(register_line(topic, device.carrier.value, current.value_kwh,
                                           current.ts_ms * NS_PER_MS))
        if after is not None:
            energy_kwh, interval_s = increase(current, after)
            try:
                successor = validate_object(Domain.ENERGY, {
                    "ts": after.ts_ms, "carrier": device.carrier,
                    "energy_kwh": energy_kwh, "interval_s": interval_s})
            except InvalidReadingError as exc:
                log.warning("a late register reading leaves its successor's point as it was",
                            extra={"device": device.device, "ts_ms": after.ts_ms,
                                   "error": exc.detail})
                return
            lines.append(with_register(reading_line(topic, successor), after.value_kwh))


def _refused(candidate: Candidate, exc: InvalidReadingError) -> Rejection:
    device = candidate.device
    return Rejection(exc.reason.value, device.domain.value, f"{device.label()}: {exc.detail}")


def check_single_ingestor(devices: DevicesFile, settings: Settings) -> None:
    """Refuse cumulative devices when ingestors share the subscription.

    A register's energy is its increase since the device's previous reading, computed from
    one history that sees every reading of the device; the members of a share group (or
    ``--workers N``) each get some of a device's messages, keep their own spool dir and
    write their batches in no common order, so a late rewrite could be overwritten.

    Raises:
        DevicesFileError: naming the first cumulative device.
    """
    if not settings.ingest_share_group and settings.ingest_workers < 2:
        return
    for device in devices.devices:
        if device.cumulative:
            raise DevicesFileError(
                f"{settings.devices_file}: {device.label()} has a cumulative register, which "
                "needs a single ingestor (its energy is the increase since the device's "
                "previous reading); run one ingestor without SMARTPLACE_INGEST_SHARE_GROUP "
                "and --workers, or map the device's interval energy instead")


def load_formats(settings: Settings, registry: Registry, *, always: bool = False
                 ) -> FormatDecoder | None:
    """The format decoder of ``SMARTPLACE_DEVICES_FILE`` (an empty one when only the HTTP
    receiver is on, so that unknown senders are dead-lettered, or with ``always``); None
    when neither.

    Unknown sites and registry disagreements are logged as warnings.

    Raises:
        DevicesFileError: the file is unusable (the message names the entry), or it has
            cumulative devices and ingestors share the subscription.
        StateStoreError: a cumulative device's register history cannot be opened.
    """
    if settings.devices_file is None:
        if not settings.ingest_http_port and not always:
            return None
        devices = DevicesFile(devices=())
    else:
        devices = load_devices(settings.devices_file)
        check_single_ingestor(devices, settings)
    for warning in registry_warnings(devices, registry):
        log.warning("devices file: %s", warning)
    translator = Translator(devices, settings.topic_prefix)
    history = (RegisterHistory(settings.spool_dir)
               if any(device.cumulative for device in devices.devices) else None)
    link_km = {sensor.id: sensor.link_km for sensor in registry.sensors
               if sensor.link_km is not None}
    log.info("device formats loaded", extra={
        "devices": len(devices.devices), "formats": sorted(translator.formats),
        "subscriptions": translator.subscriptions()})
    return FormatDecoder(translator, history, link_km)

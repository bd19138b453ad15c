"""``smartplace devices check FILE`` and ``smartplace devices try FILE --format F --message M``.

``check`` validates a devices file as the ingestor would at start-up (entries, topic
filters, registry) and lists what the ingestor would subscribe to. ``try`` is a dry run:
the section 2 readings a captured message becomes (as a native sensor would publish them),
or the dead-letter reason, with no broker and no database. A cumulative device's energy
depends on its previous reading, which a dry run does not know: its register is shown.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer

from sensors.errors import DevicesFileError, InvalidReadingError
from sensors.formats.checks import registry_warnings
from sensors.formats.devices import DevicesFile, Format
from sensors.formats.devices_loader import load_devices
from sensors.formats.mapping import Candidate
from sensors.formats.observation import NotReading
from sensors.formats.translator import (
    Refusal,
    Translation,
    Translator,
    default_filter,
    reading_of,
)
from sensors.readings import parse_timestamp_ms, to_payload
from sensors.registry import load_registry
from sensors.timestamps import now_ms
from sensors.topics import build_topic
from smartplace.errors import DevicesCommandError
from smartplace.help import PlainFlagsCommand, PlainFlagsGroup

devices_app = typer.Typer(cls=PlainFlagsGroup,
                          help="Check a devices file, or try a captured message against it.",
                          no_args_is_help=True)


def _load(path: Path, prefix: str) -> tuple[DevicesFile, Translator]:
    try:
        devices = load_devices(path)
        return devices, Translator(devices, prefix)
    except DevicesFileError as exc:
        typer.echo(f"invalid: {exc}", err=True)
        raise typer.Exit(1) from None


def _prefix() -> str:
    from smartplace.options import load_settings

    return load_settings().topic_prefix


@devices_app.command("check", cls=PlainFlagsCommand)
def check(path: Annotated[Path, typer.Argument(metavar="FILE", help="The devices file.")]
          ) -> None:
    """Validate a devices file as the ingestor does at start-up.

    Exit status: 0 valid (warnings are printed), 1 invalid (the message names the entry).
    """
    prefix = _prefix()
    devices, translator = _load(path, prefix)
    by_format: dict[Format, int] = {}
    for device in devices.devices:
        by_format[device.format] = by_format.get(device.format, 0) + 1
    typer.echo(f"{path}: {len(devices.devices)} devices, valid")
    for fmt, count in sorted(by_format.items()):
        where = ("HTTP POST /ingest/sensor-community" if fmt is Format.SENSOR_COMMUNITY
                 else ", ".join(sorted({d.topic or default_filter(fmt, prefix)
                                        for d in devices.devices if d.format is fmt})))
        typer.echo(f"  {fmt.value:<17} {count:>3}  {where}")
    extra = translator.subscriptions()
    typer.echo(f"subscriptions besides {prefix}/#: {', '.join(extra) if extra else 'none'}")
    for warning in registry_warnings(devices, load_registry()):
        typer.echo(f"warning: {warning}")


def topic_for(translator: Translator, fmt: Format, message: bytes) -> str:
    """A topic of ``fmt``'s routes for a captured message (the device's own for tasmota and
    json when the file has one device of that format).

    Raises:
        DevicesCommandError: the format needs a topic that cannot be guessed.
    """
    devices = [d for d in translator.devices.devices if d.format is fmt]
    if fmt in (Format.TASMOTA, Format.JSON):
        if len(devices) != 1:
            raise DevicesCommandError(
                f"a {fmt.value} message's device comes from its topic: give --topic")
        device = devices[0]
        if fmt is Format.JSON:
            assert device.topic is not None
            return device.topic.replace("+", "x").replace("#", "x")
        pattern = device.topic or default_filter(fmt, translator.prefix)
        return pattern.replace("+", device.device, 1).replace("+", "x").replace("#", "x")
    own = [d.topic for d in devices if d.topic is not None]
    pattern = own[0] if own and len(own) == len(devices) else default_filter(
        fmt, translator.prefix)
    return pattern.replace("+", "x").replace("#", "up")


def _show(translator: Translator, candidate: Candidate) -> tuple[str, str | None]:
    """The line for one candidate, and its dead-letter reason if it has one."""
    device = candidate.device
    topic = build_topic(translator.prefix, device.domain, device.site, device.sensor)
    try:
        if candidate.register_kwh is None:
            payload = to_payload(reading_of(candidate))
        else:
            reading_of(candidate, 0.0, 60)  # every other field as it will be checked
            payload = candidate.payload
    except InvalidReadingError as exc:
        return f"  dead letter {exc.reason.value}: {device.label()}: {exc.detail}", exc.reason
    text = f"  {topic}  {orjson.dumps(payload).decode()}"
    if candidate.register_kwh is not None:
        when = datetime.fromtimestamp(candidate.ts_ms / 1000, UTC).isoformat()
        text += (f"\n    cumulative: register {candidate.register_kwh!r} kWh at {when}; stored "
                 "energy_kwh and interval_s are its increase since the device's previous "
                 "reading (unknown in a dry run; the first reading only sets the start)")
    return text, None


@devices_app.command("try", cls=PlainFlagsCommand)
def try_message(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="The devices file.")],
    fmt: Annotated[Format, typer.Option("--format", help="The message's format.")],
    message: Annotated[Path, typer.Option("--message", metavar="MSG.json",
                                          help="A captured message ('-' reads stdin).")],
    topic: Annotated[str | None, typer.Option(
        "--topic", help="The topic it arrived on (needed for tasmota and json when the "
                        "file has several devices of that format).")] = None,
    received_at: Annotated[str | None, typer.Option(
        "--received-at", metavar="RFC3339",
        help="sensor-community: the receipt time (default: now).")] = None,
) -> None:
    """Print the readings a captured message becomes, or why it is a dead letter (dry run:
    no broker, no database).

    Exit status: 0 readings (or not a reading), 1 a dead letter or an invalid devices
    file, 2 bad options.
    """
    _, translator = _load(path, _prefix())
    body = sys.stdin.buffer.read() if str(message) == "-" else message.read_bytes()
    result: Translation | None
    try:
        if fmt is Format.SENSOR_COMMUNITY:
            at = now_ms() if received_at is None else parse_timestamp_ms(received_at)
            result = translator.translate_sensor_community(body, at)
        else:
            where = topic or topic_for(translator, fmt, body)
            routed = translator.route(where)
            if routed is None or routed[0].format is not fmt:
                raise DevicesCommandError(f"topic {where!r} is not a {fmt.value} topic of "
                                          "this devices file")
            result = translator.translate(where, body)
    except DevicesCommandError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--topic'") from None
    except InvalidReadingError as exc:
        typer.echo(f"dead letter {exc.reason.value}: {exc.detail}")
        raise typer.Exit(1) from None
    except ValueError as exc:  # --received-at
        raise typer.BadParameter(str(exc), param_hint="'--received-at'") from None
    if isinstance(result, NotReading) or result is None:
        kind = result.kind if result else "no route"
        typer.echo(f"not a reading ({kind}): the ingestor counts it and stores nothing")
        return
    failed = False
    for item in result:
        if isinstance(item, Refusal):
            typer.echo(f"  dead letter {item.reason.value}: {item.detail}")
            failed = True
            continue
        text, reason = _show(translator, item)
        typer.echo(text)
        failed = failed or reason is not None
    if failed:
        raise typer.Exit(1)

"""``smartplace simulate``: the command line over :mod:`simulators.engine`.

It checks the options, runs the engine with a progress bar, stops on Ctrl-C / SIGTERM
and prints the summary (a table, or one JSON object with ``--json``).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError
from pydantic_core import PydanticCustomError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sensors.readings import parse_timestamp_ms
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.settings_errors import settings_error_message
from sensors.timestamps import now_ms
from simulators.devices import NATIVE, devices_file, plan
from simulators.engine import SimulationOptions, SimulationReport, run_simulation
from simulators.errors import BrokerUnavailableError, OptionError, RegistrationError
from simulators.profiles import synthetic_sensors
from simulators.registration import register_simulated


def _summary(report: SimulationReport, prefix: str) -> str:
    lines = [f"published {report.total} messages from {report.sensors} sensors under {prefix}/ "
             f"in {report.elapsed_s:.1f} s ({report.messages_per_s} msg/s)"]
    rows = [*report.by_domain.items(), *((f"malformed: {r}", n) for r, n in report.bad.items()),
            ("failed", report.failed)]
    if report.grid_messages:
        rows.insert(-1, ("grid feed messages", report.grid_messages))
    lines += [f"  {label:<34}{n:>8}" for label, n in rows]
    if set(report.formats) != {"native"}:
        lines.append("  sensors by format: " + ", ".join(
            f"{name} {n}" for name, n in sorted(report.formats.items())))
    return "\n".join(lines)


def _stop_on_signals(stop: threading.Event) -> dict[int, Any]:
    """Set ``stop`` on SIGINT/SIGTERM (a second one aborts); return the previous handlers."""
    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def simulate(
    sensors: Annotated[int | None, typer.Option(
        "--sensors", metavar="N", min=1,
        help="Simulate N generated sensors (sim-energy-0001, ...) instead of the registry's. "
             "They are registered as simulated in InfluxDB first, so the API leaves them out "
             "of its figures (nothing is published when that fails).",
    )] = None,
    rate: Annotated[float | None, typer.Option(
        "--rate", metavar="HZ",
        help="Total messages per second across all sensors. Default: real time, each sensor "
             "once per its interval (0.55/s for the registry); with --start, as fast as the "
             "broker acknowledges.",
    )] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", metavar="S", help="Stop after S seconds (exclusive with --count).",
    )] = None,
    count: Annotated[int | None, typer.Option(
        "--count", metavar="M", min=1, help="Stop after M messages (exclusive with --duration).",
    )] = None,
    seed: Annotated[int, typer.Option(
        "--seed", metavar="K", help="Random seed: the same seed gives the same series.",
    )] = 1,
    bad_ratio: Annotated[float, typer.Option(
        "--bad-ratio", metavar="R", min=0.0, max=1.0,
        help="Share of messages replaced by malformed ones (one kind per dead-letter reason).",
    )] = 0.0,
    start: Annotated[str | None, typer.Option(
        "--start", metavar="RFC3339",
        help="Backfill: timestamps start here and advance by each sensor's interval. Without "
             "--count or --duration it stops on catching up with the present.",
    )] = None,
    grid: Annotated[bool, typer.Option(
        "--grid",
        help="Also publish a simulated North West England grid carbon-intensity feed: one "
             "message per half-hour (live: the next 48 slots; backfill: the slots passed).",
    )] = False,
    device_format: Annotated[str, typer.Option(
        "--format", metavar="FORMAT",
        help="What the sensors send: native (section 2 payloads), ttn-v3, chirpstack-v4, "
             "shelly-gen2, tasmota, senml (sensors the format cannot carry stay native), or "
             "mixed (the demo's town). Give the ingestor the devices file of --devices-out.",
    )] = NATIVE,
    devices_out: Annotated[Path | None, typer.Option(
        "--devices-out", metavar="PATH",
        help="Write the devices file that matches --format here (for SMARTPLACE_DEVICES_FILE).",
    )] = None,
    json_output: Annotated[bool, typer.Option(
        "--json", help="Print the summary as one JSON object on stdout.",
    )] = False,
) -> None:
    """Publish simulated readings for the town centre over MQTT (QoS 1).

    Stops at --count or --duration, or on Ctrl-C / SIGTERM, once outstanding PUBACKs are in.

    Live timestamps are the wall clock; seq starts at 0 per sensor on every run.

    Exit status: 0 all acknowledged, 1 some were not (or no broker, or the generated sensors
    could not be registered), 2 bad options or settings.
    """
    try:
        start_ms = None if start is None else parse_timestamp_ms(start)
    except PydanticCustomError as exc:
        raise typer.BadParameter(str(exc).removeprefix("ts "), param_hint="'--start'") from None
    if start_ms is not None and start_ms > now_ms() and count is None and duration is None:
        raise typer.BadParameter("is in the future: give --count or --duration too",
                                 param_hint="'--start'")
    try:
        options = SimulationOptions(
            sensors=synthetic_sensors(sensors) if sensors else (), rate=rate,
            duration_s=duration, count=count, seed=seed, bad_ratio=bad_ratio, start_ms=start_ms,
            grid=grid, device_format=device_format,
        )
    except OptionError as exc:
        raise typer.BadParameter(exc.message, param_hint=f"'{exc.option}'") from None
    if devices_out is not None:
        chosen = options.sensors or load_registry().sensors
        devices_out.parent.mkdir(parents=True, exist_ok=True)
        devices_out.write_bytes(orjson.dumps(devices_file(chosen, plan(chosen, device_format)),
                                             option=orjson.OPT_INDENT_2))
    elif device_format != NATIVE:
        typer.echo(f"note: the ingestor needs the devices file of --format {device_format} "
                   "(write it with --devices-out PATH, then set SMARTPLACE_DEVICES_FILE)",
                   err=True)
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo(settings_error_message(exc), err=True)
        raise typer.Exit(2) from None
    if options.sensors:
        try:
            register_simulated(settings, options.sensors)
        except RegistrationError as exc:
            typer.echo(f"error: could not register the {len(options.sensors)} generated "
                       f"sensors as simulated, so nothing was published: {exc}", err=True)
            raise typer.Exit(1) from None
    console = Console(stderr=True)
    stop = threading.Event()
    previous_handlers = _stop_on_signals(stop)
    columns = [TextColumn("publishing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console, disable=not console.is_terminal,
                      transient=True) as bar:
            task = bar.add_task("publish", total=count)
            report = run_simulation(settings, options, stop=stop,
                                    progress=lambda sent: bar.update(task, completed=sent))
    except BrokerUnavailableError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("aborted before every acknowledgement arrived", err=True)
        raise typer.Exit(130) from None
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    if json_output:
        typer.echo(orjson.dumps(report.to_dict()).decode())
    else:
        typer.echo(_summary(report, settings.topic_prefix))
    if report.failed:
        raise typer.Exit(1)

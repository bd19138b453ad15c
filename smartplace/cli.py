"""The ``smartplace`` command: ingest, api, simulate, demo, broker (contract section 5),
and devices and import (device formats, contract section 7).

``api`` and ``ingest`` take ``--host``, ``--port`` and ``--log-level``, which win over the
environment and ``.env`` (:mod:`smartplace.options`).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from sensors.errors import DevicesFileError
from sensors.version import smartplace_version
from simulators.command import simulate
from smartplace.broker_cli import broker_app
from smartplace.devices import devices_app
from smartplace.help import PlainFlagsCommand, PlainFlagsGroup
from smartplace.import_command import import_file
from smartplace.ingest_cli import ingest_app
from smartplace.logs import configure_logging
from smartplace.options import LogLevelOption, listen_settings, load_settings
from smartplace.reconcile import app as reconcile_app
from smartplace.report import report_command

app = typer.Typer(
    cls=PlainFlagsGroup,
    help="smartplace: town-centre carbon and air-quality telemetry.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"smartplace {smartplace_version()}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.",
    )] = False,
) -> None:
    """smartplace: town-centre carbon and air-quality telemetry."""


@app.command(cls=PlainFlagsCommand)
def api(
    host: Annotated[str | None, typer.Option(
        "--host", metavar="ADDRESS", show_default=False,
        help="Address to listen on (overrides SMARTPLACE_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(
        "--port", metavar="PORT", show_default=False,
        help="Port to listen on (overrides SMARTPLACE_API_PORT).")] = None,
    log_level: LogLevelOption = None,
) -> None:
    """Serve the HTTP API and the dashboard."""
    settings = listen_settings(host, port, log_level, "api_host", "api_port")
    configure_logging(settings.log_level, settings.log_format)
    from api.server import serve
    from sensors.errors import FactorFileError

    try:
        serve(settings)
    except (DevicesFileError, FactorFileError) as exc:
        typer.echo(f"cannot start the API: {exc}", err=True)
        raise typer.Exit(2) from None


app.command(cls=PlainFlagsCommand)(simulate)
app.add_typer(devices_app, name="devices")
app.command("import", cls=PlainFlagsCommand)(import_file)
app.add_typer(broker_app, name="broker")
app.add_typer(ingest_app, name="ingest")
app.command("report", cls=PlainFlagsCommand)(report_command)
app.add_typer(reconcile_app, name="reconcile")


@app.command(cls=PlainFlagsCommand)
def demo() -> None:
    """Start (or reuse) mosquitto and influxd, then the ingestor, the API and the simulator."""
    settings = load_settings()
    from smartplace.demo import run_demo

    sys.exit(run_demo(settings))

"""The ``smartplace`` command: ingest, api, simulate, demo (contract section 5), and devices
and import (device formats, contract section 7)."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from sensors.errors import DevicesFileError
from sensors.settings import Settings
from simulators.command import simulate
from smartplace.broker_cli import broker_app
from smartplace.devices import devices_app
from smartplace.import_command import import_file
from smartplace.ingest_cli import ingest_app
from smartplace.logs import configure_logging
from smartplace.reconcile import app as reconcile_app
from smartplace.report import report_command

app = typer.Typer(
    help="smartplace: town-centre carbon and air-quality telemetry.",
    no_args_is_help=True,
    add_completion=False,
)


def load_settings() -> Settings:
    """Settings from the environment and .env; a bad value stops here with a clear message."""
    try:
        return Settings()
    except ValidationError as exc:
        typer.echo(f"invalid configuration:\n{exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def api() -> None:
    """Serve the HTTP API and the dashboard."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    from api.server import serve
    from sensors.errors import FactorFileError

    try:
        serve(settings)
    except (DevicesFileError, FactorFileError) as exc:
        typer.echo(f"cannot start the API: {exc}", err=True)
        raise typer.Exit(2) from None


app.command()(simulate)
app.add_typer(devices_app, name="devices")
app.command("import")(import_file)
app.add_typer(broker_app, name="broker")
app.add_typer(ingest_app, name="ingest")
app.command("report")(report_command)
app.add_typer(reconcile_app, name="reconcile")


@app.command()
def demo() -> None:
    """Start (or reuse) mosquitto and influxd, then the ingestor, the API and the simulator."""
    settings = load_settings()
    from smartplace.demo import run_demo

    sys.exit(run_demo(settings))

"""The ``smartplace`` command: ingest, api, simulate, demo (contract section 5).

``api`` and ``ingest`` take ``--host``, ``--port`` and ``--log-level``, which win over the
environment and ``.env``; a bad setting stops the command with a message naming its
environment variable (or the option it came from).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError

from sensors.settings import Settings, settings_error_message
from sensors.version import smartplace_version
from simulators.command import simulate
from smartplace.broker_cli import broker_app
from smartplace.help import PlainFlagsCommand, PlainFlagsGroup
from smartplace.logs import configure_logging

app = typer.Typer(
    cls=PlainFlagsGroup,
    help="smartplace: town-centre carbon and air-quality telemetry.",
    no_args_is_help=True,
    add_completion=False,
)

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def load_settings(overrides: dict[str, Any] | None = None,
                  options: dict[str, str] | None = None) -> Settings:
    """Settings from the environment and .env, with command-line ``overrides`` on top.

    A bad value stops here with a message naming the environment variable, or the
    option (``options``: setting -> option) when it came from the command line.
    """
    given = {name: value for name, value in (overrides or {}).items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        named = {name: option for name, option in (options or {}).items() if name in given}
        typer.echo(settings_error_message(exc, named), err=True)
        raise typer.Exit(2) from None


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


LogLevelOption = Annotated[LogLevel | None, typer.Option(
    "--log-level", case_sensitive=False, show_default=False,
    help="DEBUG, INFO, WARNING or ERROR (overrides SMARTPLACE_LOG_LEVEL).")]


@app.command(cls=PlainFlagsCommand)
def ingest(
    host: Annotated[str | None, typer.Option(
        "--host", metavar="ADDRESS", show_default=False,
        help="Address of the metrics and readiness endpoint (overrides "
             "SMARTPLACE_METRICS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(
        "--port", metavar="PORT", show_default=False,
        help="Port of the metrics and readiness endpoint, 0 = off (overrides "
             "SMARTPLACE_METRICS_PORT).")] = None,
    log_level: LogLevelOption = None,
) -> None:
    """Run the ingestor until SIGINT/SIGTERM, then flush, acknowledge and exit 0."""
    settings = load_settings(
        {"metrics_host": host, "metrics_port": port,
         "log_level": log_level.upper() if log_level else None},
        {"metrics_host": "--host", "metrics_port": "--port", "log_level": "--log-level"})
    configure_logging(settings.log_level, settings.log_format)
    from ingest.service import IngestService

    sys.exit(IngestService(settings).run())


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
    settings = load_settings(
        {"api_host": host, "api_port": port,
         "log_level": log_level.upper() if log_level else None},
        {"api_host": "--host", "api_port": "--port", "log_level": "--log-level"})
    configure_logging(settings.log_level, settings.log_format)
    from api.server import serve

    serve(settings)


app.command(cls=PlainFlagsCommand)(simulate)
app.add_typer(broker_app, name="broker")


@app.command(cls=PlainFlagsCommand)
def demo() -> None:
    """Start (or reuse) mosquitto and influxd, then the ingestor, the API and the simulator."""
    settings = load_settings()
    from smartplace.demo import run_demo

    sys.exit(run_demo(settings))

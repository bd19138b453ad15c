"""What the commands share: settings with command-line overrides, and the common options.

``api`` and ``ingest`` take ``--host``, ``--port`` and ``--log-level``, which win over the
environment and ``.env``; a bad setting stops the command with a message naming its
environment variable (or the option it came from).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError

from sensors.settings import Settings
from sensors.settings_errors import settings_error_message

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

LogLevelOption = Annotated[LogLevel | None, typer.Option(
    "--log-level", case_sensitive=False, show_default=False,
    help="DEBUG, INFO, WARNING or ERROR (overrides SMARTPLACE_LOG_LEVEL).")]


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


def listen_settings(host: str | None, port: int | None, log_level: str | None,
                    host_setting: str, port_setting: str) -> Settings:
    """The settings with ``--host``, ``--port`` and ``--log-level`` applied."""
    return load_settings(
        {host_setting: host, port_setting: port,
         "log_level": log_level.upper() if log_level else None},
        {host_setting: "--host", port_setting: "--port", "log_level": "--log-level"})

"""Exceptions of the command line and the demo.

    SmartplaceError
    ├── ServerError   a local mosquitto or influxd could not be found or did not become ready
    ├── DemoError     the demo cannot run (a port taken, a child that died, a server missing)
    ├── DevicesCommandError  ``smartplace devices try`` cannot tell where a message belongs
    └── ImportFileError      ``smartplace import``: the file cannot be read, the store stays down
"""

from __future__ import annotations


class SmartplaceError(Exception):
    """Base class of the ``smartplace`` package's errors."""


class ServerError(SmartplaceError):
    """A local server could not be found or did not become ready."""


class DemoError(SmartplaceError):
    """The demo cannot start or keep running; the message says what to do."""


class DevicesCommandError(SmartplaceError):
    """``smartplace devices try`` needs an option it was not given (the message says which)."""


class ImportFileError(SmartplaceError):
    """``smartplace import`` cannot go on: the file is unreadable, or InfluxDB or the register
    history stays unavailable (what was stored is recorded; running it again resumes)."""

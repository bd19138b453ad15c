"""Exceptions of the command line and the demo.

    SmartplaceError
    ├── ServerError   a local mosquitto or influxd could not be found or did not become ready
    └── DemoError     the demo cannot run (a port taken, a child that died, a server missing)
"""

from __future__ import annotations


class SmartplaceError(Exception):
    """Base class of the ``smartplace`` package's errors."""


class ServerError(SmartplaceError):
    """A local server could not be found or did not become ready."""


class DemoError(SmartplaceError):
    """The demo cannot start or keep running; the message says what to do."""

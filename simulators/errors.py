"""Exceptions of the simulators.

    SimulatorError
    ├── OptionError               a simulation option is invalid (names the option)
    ├── BrokerUnavailableError    cannot connect, or the broker refused the connection
    └── RegistrationError         generated sensors could not be registered as simulated
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Base class of the simulators' errors."""


class OptionError(SimulatorError):
    """A simulation option is invalid; ``option`` names it as the command line spells it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


class BrokerUnavailableError(SimulatorError):
    """The broker cannot be reached or refused the connection."""


class RegistrationError(SimulatorError):
    """The generated sensors could not be registered as simulated in InfluxDB."""

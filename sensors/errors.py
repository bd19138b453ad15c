"""Exceptions of the shared domain.

    SensorsError
    ├── InvalidReadingError   a message that is bad input; carries its dead-letter reason
    ├── FactorFileError       the operator's emission-factor override file is unusable
    └── DevicesFileError      the devices file (contract 7.1) is unusable; names the entry
"""

from __future__ import annotations

from sensors.reasons import DeadLetterReason


class SensorsError(Exception):
    """Base class of the errors raised by the ``sensors`` package."""


class InvalidReadingError(SensorsError):
    """A message is bad input.

    Attributes:
        reason: the dead-letter reason code stored with the message.
        detail: a human-readable explanation (field and constraint).
    """

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class FactorFileError(SensorsError):
    """The factor override file (``SMARTPLACE_FACTORS_FILE``) is missing, unreadable or
    invalid; the message names the file and the problem."""


class DevicesFileError(SensorsError):
    """The devices file (``SMARTPLACE_DEVICES_FILE``) is unreadable or invalid; the message
    names the file, the entry (position, device id, format) and the problem."""

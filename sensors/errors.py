"""Exceptions of the shared domain.

    SensorsError
    ├── InvalidReadingError   a message that is bad input; carries its dead-letter reason
    └── FactorFileError       the operator's emission-factor override file is unusable
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

"""Exceptions of the ingestor.

    IngestError
    ├── StoreError
    │   ├── StoreUnavailableError   network error, timeout, 5xx, 429, auth: retry later
    │   └── StoreRejectedError      the store refused the data itself (400): do not retry
    ├── ShutdownTimeoutError        the store stayed unavailable through the shutdown grace
    ├── StateStoreError             the durable state (register history, receipts) fails
    └── ReceiverError               the HTTP receiver cannot listen on its address

Broker trouble raises nothing: paho's network thread reconnects with backoff by itself.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class of the ingestor's errors."""


class StoreError(IngestError):
    """Writing to InfluxDB failed."""


class StoreUnavailableError(StoreError):
    """InfluxDB cannot take writes right now; the batch is kept and retried."""


class StoreRejectedError(StoreError):
    """InfluxDB refused some lines as bad data (HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ShutdownTimeoutError(IngestError):
    """The store stayed unavailable through the shutdown grace period; what is not
    acknowledged stays with the broker."""


class StateStoreError(IngestError):
    """The ingestor's durable state in the spool dir (the cumulative registers' history,
    the HTTP receipts) cannot be read or written; the message is neither stored nor
    acknowledged."""


class ReceiverError(IngestError):
    """The Sensor.Community HTTP receiver cannot listen on its host and port."""

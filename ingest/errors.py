"""Exceptions of the ingestor.

    IngestError
    ├── StoreError
    │   ├── StoreUnavailableError   network error, timeout, 5xx, 429: retry later
    │   │   └── StoreAuthError      401/403: the credentials are wrong (retried, logged as errors)
    │   └── StoreRejectedError      the store refused the data itself (400): do not retry
    ├── ShutdownTimeoutError        the store stayed unavailable through the shutdown grace
    ├── StateStoreError             the durable state (register history, receipts) fails
    ├── ReceiverError               the HTTP receiver cannot listen on its address
    ├── DrainError                  a retired member's session could not be resumed
    └── WorkerError                 a worker process cannot be started or keeps failing

Broker trouble raises nothing: paho's network thread reconnects with backoff by itself.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class of the ingestor's errors."""


class StoreError(IngestError):
    """Writing to InfluxDB failed."""


class StoreUnavailableError(StoreError):
    """InfluxDB cannot take writes right now; the batch is kept and retried."""


class StoreAuthError(StoreUnavailableError):
    """InfluxDB refused the ingestor's credentials. Retried like an outage (nothing is
    acknowledged, so nothing is lost), but an operator has to fix the setting."""


class StoreRejectedError(StoreError):
    """InfluxDB refused some lines as bad data (HTTP 400, 422 on 2.x).

    ``line_errors``: the refused lines by number (1-based, in the posted body) with their
    errors, when the server names them (InfluxDB 3 does); None otherwise.
    """

    def __init__(self, message: str, line_errors: dict[int, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line_errors = line_errors


class ShutdownTimeoutError(IngestError):
    """The store stayed unavailable through the shutdown grace period; what is not
    acknowledged stays with the broker."""


class StateStoreError(IngestError):
    """The ingestor's durable state in the spool dir (the cumulative registers' history,
    the HTTP receipts) cannot be read or written; the message is neither stored nor
    acknowledged."""


class ReceiverError(IngestError):
    """The Sensor.Community HTTP receiver cannot listen on its host and port."""


class DrainError(IngestError):
    """``smartplace ingest drain`` could not resume the session it was asked to empty."""


class WorkerError(IngestError):
    """A worker of ``smartplace ingest --workers N`` could not be started, or kept dying."""

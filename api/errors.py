"""The API's exceptions, mapped from third-party ones at the adapter boundary.

    ApiError
    └── StoreError                   any failure to get an answer from InfluxDB (HTTP 503)
        ├── StoreUnavailableError    network error, timeout, 5xx, refused credentials
        └── StoreQueryError          InfluxDB answered, but with an error for a statement
"""

from __future__ import annotations


class ApiError(Exception):
    """Base of every exception the API raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StoreError(ApiError):
    """InfluxDB could not answer a query; clients see 503."""


class StoreUnavailableError(StoreError):
    """InfluxDB is unreachable, timed out, failed (5xx) or refused our credentials."""


class StoreQueryError(StoreError):
    """InfluxDB reported an error for a statement (often with HTTP 200)."""

"""The API's exceptions, mapped from third-party ones at the adapter boundary.

    ApiError
    ├── StoreError                   any failure to get an answer from InfluxDB (HTTP 503)
    │   ├── StoreUnavailableError    network error, timeout, 5xx
    │   │   └── StoreAuthError       InfluxDB refused the API's credentials (401/403)
    │   └── StoreQueryError          InfluxDB answered, but with an error for a statement
    ├── ParamError                   a query parameter is invalid (HTTP 422)
    ├── InventoryFileError           a DESNZ local-authority CSV that cannot be read
    ├── BudgetFileError              SMARTPLACE_CARBON_BUDGET_FILE is not a valid budget
    └── ReportError                  a report cannot be rendered (e.g. no Chromium for PDF)
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


class StoreAuthError(StoreUnavailableError):
    """InfluxDB refused the API's credentials: the message names the setting to check."""


class StoreQueryError(StoreError):
    """InfluxDB reported an error for a statement (often with HTTP 200)."""


class StoreTruncatedError(StoreQueryError):
    """InfluxDB cut its answer short (its row limit): a narrower query may pass."""


class ParamError(ApiError):
    """A query parameter is invalid: its name, what is wrong, and the value sent."""

    def __init__(self, name: str, message: str, value: object) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.value = value


class InventoryFileError(ApiError):
    """A DESNZ local-authority greenhouse gas CSV that is not in the published layout."""


class BudgetFileError(ApiError):
    """The carbon budget file cannot be read or is not a valid budget."""


class ReportError(ApiError):
    """A report cannot be rendered in the format asked for (the message says why)."""

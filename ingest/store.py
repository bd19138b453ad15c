"""Post line-protocol batches to InfluxDB's v1-compatible HTTP API and classify the answers.

Classification follows Telegraf's influxdb output: 2xx stored; 400 (422 on 2.x) some
lines are bad (the good ones are stored where the server does so: docs/storage.md); 404
database missing (create it, retry); 413 batch too large (split); 401/403 the credentials
are refused (retried, and reported as an error naming the setting); anything else, a
timeout or a network error means the store is unavailable and the caller retries the
whole batch later. The outcome of the latest request is kept for the readiness check.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable, Sequence

import httpx

from ingest.errors import StoreAuthError, StoreRejectedError, StoreUnavailableError
from sensors.settings import Settings
from sensors.storage import quote_identifier

WRITE_TIMEOUT_S = 10.0
MIN_TIMEOUT_S = 0.5
REPORTED_LINES_CAP = 100
_TYPE_CONFLICT = re.compile(r'input field \\?"([^"\\]+)\\?" on measurement \\?"([^"\\]+)\\?"')


class InfluxStore:
    """A blocking writer for one database: the ingestor's one InfluxDB client.

    ``transport`` is for tests of the classification (``httpx.MockTransport``).
    """

    def __init__(self, settings: Settings, timeout_s: float = WRITE_TIMEOUT_S,
                 transport: httpx.BaseTransport | None = None,
                 deadline: Callable[[], float] | None = None) -> None:
        headers, self._auth_params = settings.influx_auth()
        self.database = settings.influx_database
        self.credential_settings = settings.influx_credential_settings()
        self._timeout_s = timeout_s
        self._deadline = deadline
        # The latest request's outcome: None before any, else (reached and accepted, error).
        self.last_outcome: tuple[bool, str | None] | None = None
        self._client = httpx.Client(
            base_url=settings.influx_url, headers=headers, timeout=timeout_s, transport=transport,
            verify=settings.influx_verify(),
        )

    def _timeout(self) -> float:
        # During the shutdown grace a request gets at most what remains of it.
        if self._deadline is None:
            return self._timeout_s
        remaining = self._deadline() - time.monotonic()
        return max(MIN_TIMEOUT_S, min(self._timeout_s, remaining))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def create_database(self) -> bool:
        """Create the database (InfluxDB 1.x). Returns False where the server refuses.

        InfluxDB 2.x/3.x do not create databases through the v1 API; there the bucket is
        provisioned beforehand, so a refusal is reported, not raised.

        Raises:
            StoreUnavailableError: the server could not be reached.
        """
        query = f"CREATE DATABASE {quote_identifier(self.database)}"
        try:
            response = self._client.post("/query", data={"q": query}, params=self._auth_params)
        except httpx.HTTPError as exc:
            error = _unreachable(exc)
            self.last_outcome = (False, str(error))
            raise error from exc
        # 403 is a write-only account not allowed to create databases: reached, and fine.
        if response.status_code == 401:
            self.last_outcome = (False, "InfluxDB refused the ingestor's credentials (HTTP "
                                 f"401); check {self.credential_settings}")
        elif response.status_code < 500:
            self.last_outcome = (True, None)
        return response.status_code == 200 and "error" not in response.text

    def apply_retention(self, duration: str) -> bool:
        """Keep raw readings for ``duration`` (InfluxDB 1.x: the ``autogen`` policy's
        duration, so existing points stay where queries look). False where the server
        refuses (2.x/3.x set a bucket's retention themselves; a write-only account).

        Raises:
            StoreUnavailableError: the server could not be reached.
        """
        query = (f"ALTER RETENTION POLICY \"autogen\" ON {quote_identifier(self.database)} "
                 f"DURATION {duration}")
        try:
            response = self._client.post("/query", data={"q": query}, params=self._auth_params)
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        return response.status_code == 200 and "error" not in response.text

    def write(self, lines: Sequence[str]) -> None:
        """Write lines once.

        Raises:
            StoreRejectedError: HTTP 400 (InfluxDB stored the lines it could parse).
            StoreAuthError: HTTP 401/403.
            StoreUnavailableError: anything that is worth retrying later.
        """
        try:
            self._write(lines)
        except StoreUnavailableError as exc:
            self.last_outcome = (False, str(exc))
            raise
        except StoreRejectedError:
            self.last_outcome = (True, None)  # reached: it refused some data, not us
            raise
        self.last_outcome = (True, None)

    def _write(self, lines: Sequence[str]) -> None:
        body = "\n".join(lines).encode("utf-8")
        params = {"db": self.database, "precision": "ns", **self._auth_params}
        try:
            response = self._client.post("/write", params=params, content=body,
                                         timeout=self._timeout())
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        status = response.status_code
        if status < 300:
            return
        message = _error_message(response)
        # 400: bad lines (1.x and 3.x store the good ones); 422: InfluxDB 2.x's answer to a
        # partial write (a field type conflict, points outside the retention period).
        if status in (400, 422):
            raise StoreRejectedError(message, _line_errors(response))
        if status in (401, 403):
            raise StoreAuthError(
                f"InfluxDB refused the ingestor's credentials (HTTP {status}: {message}); "
                f"check {self.credential_settings}")
        if status == 404 and "database not found" in message:
            if not self.create_database():
                raise StoreUnavailableError(f"database {self.database!r} missing: {message}")
            return self._write(lines)
        if status == 413 and len(lines) > 1:
            half = len(lines) // 2
            self._write(lines[:half])
            self._write(lines[half:])
            return None
        raise StoreUnavailableError(f"InfluxDB answered {status}: {message}")

    def write_keeping_good(self, lines: Sequence[str]) -> dict[int, str]:
        """Write lines; return the index and error of every line InfluxDB refuses.

        A refused batch is narrowed down without losing the good lines: where the error
        names a field type conflict, the conflicting lines are set aside at once; otherwise
        the batch is split in halves. Re-sending a good line is harmless, since the same
        series and timestamp overwrite in place.

        Raises:
            StoreUnavailableError: the store went away part-way; retry the whole batch.
        """
        rejected: dict[int, str] = {}
        if lines:
            self._narrow(list(enumerate(lines)), rejected)
        return rejected

    def _narrow(self, indexed: list[tuple[int, str]], rejected: dict[int, str]) -> None:
        try:
            self.write([line for _, line in indexed])
            return
        except StoreRejectedError as exc:
            message = exc.message
            if exc.line_errors and len(exc.line_errors) < REPORTED_LINES_CAP:
                # InfluxDB 3 names the refused lines and has stored the others: done. (It
                # names at most 100: at the cap some may be unnamed, so narrow as usual.)
                _reject_numbered(indexed, exc.line_errors, rejected)
                return
        if len(indexed) == 1:
            rejected[indexed[0][0]] = message
            return
        conflict = _TYPE_CONFLICT.search(message)
        if conflict:
            field, measurement = conflict.groups()
            bad = [(i, line) for i, line in indexed if _has_field(line, measurement, field)]
            # The ingestor writes each field with one type, so every line carrying the
            # named field conflicts alike: set them aside without a request per line.
            if bad:
                for i, _ in bad:
                    rejected[i] = message
                rest = [(i, line) for i, line in indexed if i not in rejected]
                if rest:
                    self._narrow(rest, rejected)
                return
        half = len(indexed) // 2
        self._narrow(indexed[:half], rejected)
        self._narrow(indexed[half:], rejected)


def _unreachable(exc: httpx.HTTPError) -> StoreUnavailableError:
    if _tls_failure(exc):
        return StoreUnavailableError(
            f"TLS verification of InfluxDB failed ({exc}): set SMARTPLACE_INFLUX_CA_FILE to "
            "the CA that signed its certificate (and SMARTPLACE_INFLUX_CLIENT_CERT/_KEY for "
            "mutual TLS)")
    return StoreUnavailableError(f"InfluxDB unreachable: {exc}")


def _tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _line_errors(response: httpx.Response) -> dict[int, str] | None:
    """InfluxDB 3's ``{"error": "partial write...", "data": [{"line_number", ...}]}``."""
    try:
        payload = response.json()
    except ValueError:
        return None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return None
    found = {int(item["line_number"]): str(item.get("error_message", ""))
             for item in data if isinstance(item, dict)
             and isinstance(item.get("line_number"), int)}
    return found or None


def _reject_numbered(indexed: list[tuple[int, str]], line_errors: dict[int, str],
                     rejected: dict[int, str]) -> None:
    """Mark the items holding the numbered body lines (an item may hold several lines)."""
    number = 0
    for index, item in indexed:
        first, number = number + 1, number + item.count("\n") + 1
        errors = [line_errors[n] for n in range(first, number + 1) if n in line_errors]
        if errors:
            rejected[index] = "; ".join(errors)


def _has_field(line: str, measurement: str, field: str) -> bool:
    head = measurement + ","
    if not (line.startswith(head) or line.startswith(measurement + " ")):
        return False
    return f" {field}=" in line or f",{field}=" in line


def _error_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:500]
    # 1.x and 3.x say {"error": ...}; 2.x says {"code": ..., "message": ...}.
    for key in ("error", "message"):
        if isinstance(payload, dict) and isinstance(payload.get(key), str):
            return str(payload[key])[:500]
    return response.text[:500]

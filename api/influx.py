"""The API's one InfluxDB client: InfluxQL ``/query`` and ``/write`` of the v1-compatible API.

User input reaches InfluxDB only as bound parameters (``params`` JSON, ``$name`` in the
query text); measurement, field and tag names come from :mod:`sensors.storage`. The only
writes are the API's own rollups. Every failure maps to :class:`api.errors.StoreError`,
which the app answers with 503.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from api.errors import (
    StoreAuthError,
    StoreError,
    StoreQueryError,
    StoreTruncatedError,
    StoreUnavailableError,
)
from sensors.settings import Settings
from sensors.storage import quote_identifier

logger = logging.getLogger(__name__)

QUERY_TIMEOUT_S = 30.0
PING_TIMEOUT_S = 2.0
WRITE_BATCH_LINES = 5000

QueryParam = str | int | float


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a statement's answer (``epoch=ms``: times are integer milliseconds)."""

    name: str
    tags: Mapping[str, str]
    columns: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    def rows(self) -> Iterator[dict[str, Any]]:
        """Each value row as a column -> value mapping."""
        for values in self.values:
            yield dict(zip(self.columns, values, strict=False))


@dataclass(frozen=True, slots=True)
class Ping:
    """The outcome of ``GET /ping``."""

    reachable: bool
    version: str | None = None
    latency_ms: float | None = None
    error: str | None = None
    authenticated: bool | None = None
    """Whether an authenticated query was accepted (None: not tried, InfluxDB unreachable)."""


class InfluxStore:
    """Queries against one database, and writes of the API's rollup points.

    Built by the app's lifespan, which closes it (:meth:`aclose`). ``transport`` is for
    tests of the answer classification (``httpx.MockTransport``).
    """

    def __init__(self, settings: Settings,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        headers, self._auth_params = settings.influx_auth()
        self._client = httpx.AsyncClient(base_url=settings.influx_url, headers=headers,
                                         timeout=QUERY_TIMEOUT_S, transport=transport,
                                         verify=settings.influx_verify())
        self.database = settings.influx_database
        # The API's own database: rollups and its records (docs/storage.md).
        self.own_database = settings.api_database()
        self._credential_settings = settings.influx_credential_settings()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def query(
        self, statements: Sequence[str], params: Mapping[str, QueryParam] | None = None,
        *, own: bool = False, timeout_s: float = QUERY_TIMEOUT_S,
    ) -> list[list[Series]]:
        """Run statements in one request; return the series of each, in order.

        ``own``: in the API's own database (rollups and its records), not the readings'.
        ``timeout_s``: for the rare query known to be long (the last-seen seed).

        A missing database answers as if it were empty: the ingestor creates it on its
        first write, and until then there is simply no data.

        Raises:
            StoreUnavailableError: network error, timeout, 5xx, refused credentials.
            StoreQueryError: InfluxDB reported an error for a statement.
        """
        try:
            try:
                return _parse(await self._post(statements, params, own, timeout_s),
                              len(statements), self._credential_settings)
            except _NotExecutedError:
                # InfluxDB 1.6.7 answers a multi-statement query on a missing database with
                # a bare "not executed"; the first statement alone names the real error.
                _parse(await self._post(statements[:1], params, own, timeout_s), 1,
                       self._credential_settings)
                raise StoreQueryError("InfluxDB did not execute the query") from None
        except _DatabaseMissingError:
            logger.warning("database %r does not exist yet; answering as empty", self.database)
            return [[] for _ in statements]

    async def _post(
        self, statements: Sequence[str], params: Mapping[str, QueryParam] | None,
        own: bool = False, timeout_s: float = QUERY_TIMEOUT_S,
    ) -> httpx.Response:
        database = self.own_database if own else self.database
        form = {"q": ";\n".join(statements), "db": database, "epoch": "ms"}
        if params:
            form["params"] = orjson.dumps(dict(params)).decode()
        try:
            return await self._client.post("/query", params=self._auth_params, data=form,
                                           timeout=timeout_s)
        except httpx.TimeoutException as exc:
            raise StoreUnavailableError(
                f"InfluxDB did not answer within {timeout_s:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc

    async def write(self, lines: Sequence[str], precision: str = "ms") -> None:
        """Write lines to the API's own database, at most :data:`WRITE_BATCH_LINES` per
        request (the API never writes readings).

        Raises:
            StoreUnavailableError: InfluxDB unreachable or 5xx.
            StoreQueryError: InfluxDB refused the write.
        """
        params = {**self._auth_params, "db": self.own_database, "precision": precision}
        for first in range(0, len(lines), WRITE_BATCH_LINES):
            body = "\n".join(lines[first:first + WRITE_BATCH_LINES]).encode()
            try:
                response = await self._client.post("/write", params=params, content=body)
            except httpx.HTTPError as exc:
                raise _unreachable(exc) from exc
            if response.status_code in (401, 403):
                raise StoreAuthError(f"InfluxDB refused the API's credentials (HTTP "
                                     f"{response.status_code}): check {self._credential_settings}")
            if response.status_code >= 500:
                raise StoreUnavailableError(f"InfluxDB answered HTTP {response.status_code}")
            if response.status_code == 404 and "database not found" in response.text \
                    and await self._create_own_database():
                await self.write(lines[first:], precision)
                return
            if response.status_code != 204:
                raise StoreQueryError(
                    f"InfluxDB refused a write (HTTP {response.status_code}): "
                    f"{response.text[:300]}")

    async def _create_own_database(self) -> bool:
        # InfluxDB 1.x, with the right to create one (no auth, or an admin); elsewhere the
        # database or bucket is made beforehand (docs/storage.md).
        query = f"CREATE DATABASE {quote_identifier(self.own_database)}"
        try:
            response = await self._client.post("/query", params=self._auth_params,
                                                data={"q": query})
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and "error" not in response.text

    async def ping(self) -> Ping:
        """Check that InfluxDB answers; never raises."""
        started = time.perf_counter()
        try:
            response = await self._client.get("/ping", timeout=PING_TIMEOUT_S)
        except httpx.HTTPError as exc:
            return Ping(reachable=False, error=_unreachable(exc).message)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        if response.status_code not in (200, 204):
            return Ping(
                reachable=False, latency_ms=latency_ms,
                error=f"/ping answered HTTP {response.status_code}",
            )
        # /ping needs no credentials: a query shows whether the API's are accepted.
        try:
            await self.query(["SHOW MEASUREMENTS LIMIT 1"])
        except StoreAuthError as exc:
            return Ping(reachable=True, version=response.headers.get("X-Influxdb-Version"),
                        latency_ms=latency_ms, error=exc.message, authenticated=False)
        except StoreError:
            pass  # reachable and authenticated; a failing query is not health's business
        return Ping(
            reachable=True, version=response.headers.get("X-Influxdb-Version"),
            latency_ms=latency_ms, authenticated=True,
        )


def _unreachable(exc: httpx.HTTPError) -> StoreUnavailableError:
    # The class name only: messages can carry URLs, and URLs can carry credentials.
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return StoreUnavailableError(
                "TLS verification of InfluxDB failed: set SMARTPLACE_INFLUX_CA_FILE to the CA "
                "that signed its certificate")
        cause = cause.__cause__ or cause.__context__
    return StoreUnavailableError(f"InfluxDB is unreachable ({type(exc).__name__})")


class _NotExecutedError(Exception):
    """A statement was skipped because an earlier one failed, without saying why."""


class _DatabaseMissingError(Exception):
    """The database does not exist (yet)."""


def _parse(response: httpx.Response, expected: int,
           credential_settings: str = "the InfluxDB credentials") -> list[list[Series]]:
    status = response.status_code
    if status in (401, 403):
        raise StoreAuthError(f"InfluxDB refused the API's credentials (HTTP {status}): check "
                             f"{credential_settings}")
    if status >= 500:
        raise StoreUnavailableError(f"InfluxDB answered HTTP {status}")
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise StoreUnavailableError(f"InfluxDB sent an unreadable answer (HTTP {status})") from exc
    if not isinstance(payload, dict):
        raise StoreUnavailableError("InfluxDB sent an unexpected answer")
    if status != 200:
        raise StoreQueryError(f"InfluxDB rejected the query (HTTP {status}): {_error(payload)}")
    results = payload.get("results")
    if not isinstance(results, list):
        raise StoreQueryError(f"InfluxDB answered without results: {_error(payload)}")
    answers: list[list[Series]] = []
    for result in results[:expected]:
        error = result.get("error") if isinstance(result, dict) else "malformed result"
        if isinstance(error, str) and error.startswith("database not found"):
            raise _DatabaseMissingError
        if error == "not executed" and expected > 1:
            raise _NotExecutedError
        if error:
            # Errors inside a query arrive with HTTP 200 (InfluxDB 1.x); never ignore them.
            raise StoreQueryError(f"InfluxDB query failed: {str(error)[:300]}")
        answers.append([_series(raw) for raw in result.get("series", [])])
        if result.get("partial") or any(raw.get("partial") for raw in result.get("series", [])):
            raise StoreTruncatedError(
                "InfluxDB truncated its answer (row limit); narrow the query")
    answers.extend([] for _ in range(expected - len(answers)))
    return answers


def _series(raw: dict[str, Any]) -> Series:
    return Series(
        name=str(raw.get("name", "")),
        tags={str(key): str(value) for key, value in (raw.get("tags") or {}).items()},
        columns=tuple(str(column) for column in raw.get("columns", ())),
        values=tuple(tuple(row) for row in raw.get("values", ())),
    )


def _error(payload: dict[str, Any]) -> str:
    # 1.x and 3.x say {"error": ...}; 2.x says {"code": ..., "message": ...}.
    error = payload.get("error") or payload.get("message")
    return str(error)[:300] if error else "no error message"

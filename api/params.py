"""Parse and check query parameters (times, windows, intervals, group_by, format) and JSON
bodies.

Checks raise :class:`api.errors.ParamError`; :func:`as_validation_error` turns one into
FastAPI's own 422 shape (``{"detail": [{"type", "loc", "msg", "input"}]}``), so that every
bad parameter answers alike. Every route's window goes through :func:`parse_window`, and
every time parameter through :func:`parse_time`: RFC 3339 with an offset (the contract),
or, an extension, a plain date meaning 00:00 Europe/London (:func:`time_query` documents
both in OpenAPI).

A JSON body is read by :func:`json_body`, a dependency that runs after the key check:
FastAPI parses a declared body before any dependency, so a wrong key with a malformed
body would get a 422 (or a 400 for bytes that are not UTF-8) instead of its 401.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from api.carbon.pricing import GROUP_KEYS
from api.clock import INTERVALS, Interval, Period, TimeWindow, format_ns, london_midnight_ns
from api.errors import ParamError
from sensors.timestamps import MAX_TIME_NS, NS_PER_S, parse_rfc3339_ns

DAY_S = 86_400
DEFAULT_RANGE_S = DAY_S
MAX_RANGE_S = 366 * DAY_S
MAX_BUCKETS = 10_000

_SPACED_OFFSET = re.compile(r"\d \d{2}:\d{2}$")
_PLAIN_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_PERIOD = re.compile(r"^(?:fy(?P<fy>\d{4})|(?P<year>\d{4})(?:-(?P<month>\d{2}))?)$")
FIRST_YEAR, LAST_YEAR = 2000, 2100

PeriodQuery = Annotated[str | None, Query(
    max_length=16, description="fy2025 (1 April 2025 to 31 March 2026, London), 2025 or "
    "2025-11; instead of start/end; priced with one DESNZ factor set by DESNZ's rule")]
TIME_FORMS = ("; RFC 3339 with an offset (2026-11-26T10:00:00Z), or a date meaning 00:00 "
              "Europe/London (2026-11-30)")
FormatQuery = Annotated[Literal["json", "csv"] | None, Query(
    alias="format", description="json or csv; without it, `Accept: text/csv` (without "
    "application/json) gives CSV, anything else JSON")]
FactorYearQuery = Annotated[int | None, Query(
    ge=FIRST_YEAR, le=LAST_YEAR, description="price every activity with this year's DESNZ "
    "factor set (default: the period's set by DESNZ's rule, else each activity's own "
    "year)")]


def time_query(description: str) -> Any:
    """A time query parameter: typed in OpenAPI as a date-time or a date (London midnight).

    The value stays a string here: :func:`parse_time` reads it, so that an unencoded ``+``
    and the out-of-range answers are the same for every route.
    """
    return Query(max_length=64, description=description + TIME_FORMS, json_schema_extra={
        "anyOf": [{"type": "string", "format": "date-time", "maxLength": 64},
                  {"type": "string", "format": "date"}],
        "examples": ["2026-11-26T10:00:00Z", "2026-11-26T10:00:00+00:00", "2026-11-30"]})


Body = TypeVar("Body", bound=BaseModel)


def as_validation_error(exc: ParamError, where: str = "query") -> RequestValidationError:
    """The FastAPI 422 error for a bad query parameter (or body field: ``where="body"``)."""
    return RequestValidationError(
        [{"type": "value_error", "loc": (where, exc.name), "msg": exc.message,
          "input": exc.value}]
    )


def json_body(model: type[Body]) -> Callable[[Request], Awaitable[Body | None]]:
    """A dependency: the request's JSON body as ``model``, None when there is none.

    Raises (from the dependency):
        RequestValidationError: the body is not JSON, or not a valid ``model`` (422).
    """
    async def parse(request: Request) -> Body | None:
        raw = await request.body()
        if not raw.strip():
            return None
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            errors = [{**error, "loc": ("body", *error["loc"]), "input": _printable(error)}
                      for error in exc.errors(include_url=False, include_context=False)]
            raise RequestValidationError(errors) from None

    return parse


def _printable(error: Any) -> Any:
    # The bytes of a body that is not JSON (or not UTF-8) cannot go into a JSON answer.
    value = error.get("input")
    return value.decode("utf-8", "replace")[:200] if isinstance(value, bytes) else value


def body_docs(model: type[BaseModel], required: bool) -> dict[str, Any]:
    """``openapi_extra`` describing a body read with :func:`json_body`."""
    return {"requestBody": {"required": required, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}


def parse_time(name: str, text: str) -> int:
    """An RFC 3339 timestamp with offset, or a plain date (00:00 London), as epoch ns.

    A space where the offset's ``+`` belongs is read as ``+``: an unencoded ``+`` in a
    query string arrives as a space, and nothing else could be meant. A plain date
    (``2026-11-30``) is the London midnight starting it (``+00:00`` in winter, ``+01:00``
    in summer), so ``end=2026-12-01`` includes all of 30 November.

    Raises:
        ParamError: neither form, not a real date, or outside 1970..2200.
    """
    date = _PLAIN_DATE.fullmatch(text)
    if date is not None:
        try:
            ns = london_midnight_ns(*(int(part) for part in date.groups()))
        except (ValueError, OverflowError) as exc:
            raise ParamError(name, f"is not a real date ({exc})", text) from None
        if not 0 <= ns < MAX_TIME_NS:
            raise ParamError(name, "is outside 1970-01-01 .. 2200-01-01", text)
        return ns
    # Only the offset's sign can be a space: "2026-11-26T10:00:00 01:00".
    candidate = text[:-6] + "+" + text[-5:] if _SPACED_OFFSET.search(text) else text
    try:
        return parse_rfc3339_ns(candidate)
    except ValueError as exc:
        raise ParamError(
            name, f"must be an RFC 3339 timestamp with an offset, e.g. 2026-11-26T10:00:00Z "
            f"(encode '+' as %2B in URLs), or a date (London midnight), e.g. 2026-11-30: "
            f"{exc}", text,
        ) from None


def parse_window(start: str | None, end: str | None, now_ns: int, *,
                 default_s: int = DEFAULT_RANGE_S, max_s: int = MAX_RANGE_S) -> TimeWindow:
    """The window [start, end): end defaults to now, start to ``default_s`` before end.

    Raises:
        ParamError: a bad timestamp, end not after start, or longer than ``max_s``.
    """
    # An empty value (start=) is not a time: 422, as the schema (date-time or date) says.
    end_ns = parse_time("end", end) if end is not None else now_ns
    start_ns = (parse_time("start", start) if start is not None
                else max(0, end_ns - default_s * NS_PER_S))
    if end_ns <= start_ns:
        raise ParamError("end", "must be after start", end or format_ns(end_ns))
    if end_ns - start_ns > max_s * NS_PER_S:
        raise ParamError(
            "start", f"the window [start, end) may span at most {max_s // DAY_S} days", start)
    return TimeWindow(start_ns, end_ns)


def parse_interval(text: str | None, window: TimeWindow) -> Interval | None:
    """The bucket rule, or None for one bucket over the whole window.

    Raises:
        ParamError: not one of ``<n>m`` (n divides 60), ``<n>h`` (n divides 24, n < 24),
            ``1d`` or ``1mo``; or too many buckets over the window.
    """
    if not text:
        return None
    interval = INTERVALS.get(text)
    if interval is None:
        raise ParamError(
            "interval", "must be one of 1m, 2m, 3m, 4m, 5m, 6m, 10m, 12m, 15m, 20m, 30m, 1h, "
            "2h, 3h, 4h, 6h, 8h, 12h, 1d (a London calendar day) or 1mo (a London calendar "
            "month)", text,
        )
    buckets = -(-(window.end_ns - window.start_ns) // (interval.seconds * NS_PER_S)) + 1
    if buckets > MAX_BUCKETS:
        raise ParamError(
            "interval", f"makes {buckets} buckets over the window; at most {MAX_BUCKETS}: "
            "use a longer interval or a shorter window", text,
        )
    return interval


def parse_group_by(text: str | None) -> tuple[str, ...]:
    """Comma-separated grouping keys (empty: one row per bucket).

    Raises:
        ParamError: an unknown key.
    """
    keys = [key.strip() for key in (text or "").split(",") if key.strip()]
    unknown = [key for key in keys if key not in GROUP_KEYS]
    if unknown:
        raise ParamError(
            "group_by", f"unknown key(s) {unknown}; allowed: {', '.join(GROUP_KEYS)}", text
        )
    return tuple(dict.fromkeys(keys))




def parse_period(text: str, name: str = "period") -> Period:
    """``fy2025`` (1 April 2025 to 31 March 2026), ``2025`` or ``2025-11``, London time.

    Raises:
        ParamError: any other text, or a year outside 2000..2100.
    """
    found = _PERIOD.match(text.strip().lower())
    if found is None:
        raise ParamError(name, "must be fy<year> (a UK financial year, April to March), "
                         "<year> or <year>-<month>, e.g. fy2025, 2025, 2025-11", text)
    year = int(found["fy"] or found["year"])
    month = int(found["month"] or 1)
    if not FIRST_YEAR <= year <= LAST_YEAR or not 1 <= month <= 12:
        raise ParamError(name, f"year must be {FIRST_YEAR} to {LAST_YEAR}, month 01 to 12",
                         text)
    if found["fy"]:
        return Period("financial_year", year)
    return Period("month", year, month) if found["month"] else Period("year", year)


def parse_period_window(period: str | None, start: str | None, end: str | None,
                        now_ns: int, *, default_s: int = DEFAULT_RANGE_S
                        ) -> tuple[TimeWindow, Period | None]:
    """The window of ``period``, or of ``start``/``end`` (never both).

    Raises:
        ParamError: both a period and start/end, or either is invalid.
    """
    if period is None:
        return parse_window(start, end, now_ns, default_s=default_s), None
    if start is not None or end is not None:
        raise ParamError("period", "give either period or start/end, not both", period)
    named = parse_period(period)
    return named.window, named

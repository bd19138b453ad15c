"""What each endpoint answers in: JSON and CSV (the tabular answers), or its own form only.

Tabular routes take ``format=json|csv`` (:data:`api.params.FormatQuery`) and honour
``Accept: text/csv``. Every other route gets :func:`no_csv` when it is included (see
:mod:`api.main`): ``format=csv`` there is a 422 that says where CSV is offered, and an
``Accept`` that asks for CSV and nothing the route answers in is a 406. Nothing asked for
is silently ignored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Query, Request, status

from api.errors import ParamError
from api.params import as_validation_error
from api.render import CSV_MEDIA_TYPE

# Where CSV is offered (the message of a refused format=csv says so).
CSV_ENDPOINTS = ("/api/v1/emissions", "/api/v1/indicators", "/api/v1/factors",
                 "/api/v1/sensors", "/api/v1/sensors/{sensor_id}",
                 "/api/v1/sensors/{sensor_id}/readings",
                 "/api/v1/air-quality/daqi", "/api/v1/air-quality/daqi/history",
                 "/api/v1/air-quality/daqi/daily", "/api/v1/reconciliation",
                 "/api/v1/budget", "/api/v1/reports/{period}")
# Accept ranges that a JSON (or event-stream) route satisfies.
_SATISFIED_BY_US = {"*/*", "application/*", "application/json", "text/event-stream"}


def _media_ranges(accept: str) -> set[str]:
    return {part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()}


async def no_csv(
    request: Request,
    output: Annotated[str | None, Query(
        alias="format", max_length=16,
        description="only `json` (this endpoint's own form): it has no CSV form. CSV is "
        "offered by: " + ", ".join(CSV_ENDPOINTS),
        json_schema_extra={"anyOf": [{"type": "string", "enum": ["json"]}]})] = None,
) -> None:
    """Refuse CSV where none is offered: 422 for ``format``, 406 for ``Accept`` (when no
    ``format`` says otherwise)."""
    if output is not None and output != "json":
        raise as_validation_error(ParamError(
            "format", f"{request.url.path} offers no {output!r}: it is not a table and "
            "answers JSON only (its own form); CSV is offered by " + ", ".join(CSV_ENDPOINTS),
            output))
    ranges = _media_ranges(request.headers.get("accept", ""))
    if output is None and CSV_MEDIA_TYPE in ranges and not ranges & _SATISFIED_BY_US:
        raise HTTPException(status.HTTP_406_NOT_ACCEPTABLE, detail=(
            f"{request.url.path} has no CSV form (Accept: {request.headers['accept'][:100]}); "
            "ask for application/json, or use an endpoint that offers CSV: "
            + ", ".join(CSV_ENDPOINTS)))

"""The error bodies every route answers with, and their OpenAPI declarations.

Every error but 422 is ``{"detail": "<what went wrong, in words>"}`` (:class:`ErrorOut`);
422 is FastAPI's own list of the parameters at fault (:class:`ValidationErrorOut`), which
:func:`api.params.as_validation_error` also produces. Routes declare the codes they can
answer with :func:`error_responses`; 401 and 422 are declared for every ``/api/v1`` route.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorOut(BaseModel):
    """An error (401, 403, 404, 406, 503): what went wrong and, where it helps, what to do."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"detail": "unknown site 'town-hal'"}]})

    detail: str = Field(description="what went wrong, in words a person can act on")


class ValidationIssueOut(BaseModel):
    """One parameter at fault."""

    type: str = Field(description="the kind of error, e.g. value_error, missing, "
                      "string_too_long")
    loc: list[str | int] = Field(description="where: e.g. [\"query\", \"start\"]")
    msg: str = Field(description="what is wrong with it and what is accepted")
    input: Any = Field(None, description="the value sent")
    ctx: dict[str, Any] | None = Field(None, description="details of the constraint broken")


class ValidationErrorOut(BaseModel):
    """422: the request's parameters that are invalid."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": [{
        "type": "value_error", "loc": ["query", "start"],
        "msg": "must be an RFC 3339 timestamp with an offset, e.g. 2026-11-26T10:00:00Z, "
        "or a date (London midnight), e.g. 2026-11-30",
        "input": "yesterday"}]}]})

    detail: list[ValidationIssueOut] = Field(description="one entry per parameter at fault")


_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    401: (ErrorOut, "API keys are configured and the request has none, or a wrong one "
          "(`WWW-Authenticate: Bearer`)"),
    403: (ErrorOut, "the key's role does not allow this; the answer names the role needed "
          "and the key's role"),
    404: (ErrorOut, "unknown site or sensor, or nothing of that kind exists"),
    406: (ErrorOut, "`Accept` asks only for a media type this endpoint does not answer in "
          "(e.g. `text/csv` where no CSV is offered)"),
    422: (ValidationErrorOut, "a parameter is invalid, or parameters do not fit together; "
          "each entry says which and why"),
    503: (ErrorOut, "InfluxDB is unavailable (with `Retry-After`), or a report format's "
          "renderer is missing"),
}


def error_responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error codes, with their body schema.

    ``descriptions`` (``e404="..."``) replace the standard wording for a code.
    """
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model, description = _ERRORS[code]
        out[code] = {"model": model,
                     "description": descriptions.get(f"e{code}", description)}
    return out

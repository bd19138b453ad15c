"""How answers are rendered: JSON with orjson, and CSV for tabular answers.

A tabular route takes ``format`` (:data:`api.params.FormatQuery`), asks
:func:`wants_csv`, and answers :func:`csv_response` of its feature's table; other routes
refuse CSV (:mod:`api.routes.formats`). Numbers are already rounded by the answers
(:mod:`api.precision`), so ``repr`` writes them short.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse, Response

CSV_MEDIA_TYPE = "text/csv"


class FastJSONResponse(JSONResponse):
    """JSON rendered with orjson: emissions answers can hold many thousands of rows."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def table_responses(csv_description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``200`` of a tabular route: its JSON model (from the route) and CSV."""
    return {200: {"description": "JSON (the schema below) or, with format=csv or Accept: "
                  f"text/csv, CSV: {csv_description}",
                  "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}}


def wants_csv(request: Request, output: str | None,
              also_not: str = "application/json") -> bool:
    """True for ``format=csv``, or, without ``format``, an ``Accept`` naming CSV and not
    the route's default type (``also_not``)."""
    if output is not None:
        return output == "csv"
    accept = request.headers.get("accept", "")
    return CSV_MEDIA_TYPE in accept and also_not not in accept


def _cell(value: Any) -> Any:
    # A text cell starting with = + - @ is a formula to Excel: quote it (numbers stay numbers).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV with CRLF line ends; floats as repr() (the shortest text that reads back)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str,
                 headers: Mapping[str, str] | None = None) -> Response:
    """A CSV attachment (``filename`` without characters a file system may refuse)."""
    name = filename.replace(":", "")
    return Response(csv_text(header, rows), media_type=CSV_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}"', **(headers or {})})

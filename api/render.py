"""How answers are rendered: JSON with orjson, and CSV for tabular answers."""

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


def wants_csv(request: Request, output: str | None) -> bool:
    """True for ``format=csv``, or, without ``format``, an ``Accept`` asking for CSV only."""
    if output is not None:
        return output == "csv"
    accept = request.headers.get("accept", "")
    return CSV_MEDIA_TYPE in accept and "application/json" not in accept


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

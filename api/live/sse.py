"""The wire format of ``GET /api/v1/live``: server-sent event frames and time strings.

A frame is ``retry`` (optional), ``id``, ``event`` and ``data`` lines and a blank line
(https://html.spec.whatwg.org/multipage/server-sent-events.html). ``data`` is compact
JSON, which never contains a newline; a payload that somehow did would still be framed
correctly, one ``data:`` line per line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

RETRY_MS = 3000
"""Asks browsers to reconnect 3 s after the stream drops."""


def frame(event: str, data: Any, event_id: int | None = None,
          retry_ms: int | None = None) -> bytes:
    """One server-sent event.

    Args:
        event: the event type (``hello``, ``now``, ``heartbeat`` ...).
        data: a JSON-serialisable payload (NaN and infinities become ``null``).
        event_id: the ``id`` line, omitted when None.
        retry_ms: the ``retry`` line, omitted when None.

    Raises:
        ValueError: ``event`` contains a line break (it would forge extra fields).
    """
    if "\n" in event or "\r" in event:
        raise ValueError("an event type cannot contain a line break")
    lines: list[bytes] = []
    if retry_ms is not None:
        lines.append(b"retry: %d" % retry_ms)
    if event_id is not None:
        lines.append(b"id: %d" % event_id)
    lines.append(b"event: " + event.encode())
    body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    lines.extend(b"data: " + line for line in body.splitlines() or [b""])
    return b"\n".join(lines) + b"\n\n"


# Every tick formats each sensor's last reading, mostly the same as the tick before.
@lru_cache(maxsize=1 << 17)
def rfc3339_ms(ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC with exactly three fraction digits."""
    seconds, millis = divmod(ms, 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"

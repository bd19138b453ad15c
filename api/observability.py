"""The API's access log and request metrics: one plain ASGI middleware around the app.

Each answered request is one ``smartplace.access`` record with its fields as structured
data (method, path, route template, status, duration, bytes, client, the name of the key
that acted), and one observation of ``smartplace_api_request_duration_seconds``. The query
string is not logged (it is the client's business, and long); keys never are. Probes
(``/health``, ``/metrics``) are logged at DEBUG, so that a health check every few seconds
does not bury the rest. Plain ASGI, not ``BaseHTTPMiddleware``, which would sit between
the live event stream and its client.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import ApiMetrics

access = logging.getLogger("smartplace.access")

PROBES = frozenset({"/health", "/metrics"})
STREAMS = frozenset({"/api/v1/live"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PATH = 300


def loggable_path(path: str) -> str:
    """The path as a log field: control characters escaped (a decoded ``%0A`` must not
    start a forged log line), at most :data:`MAX_PATH` characters."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", path[:MAX_PATH])


def route_template(scope: Scope) -> str | None:
    """The path template of the route that answered (``/api/v1/sensors/{sensor_id}``), or
    None when no route matched.

    The route in the scope may be an included router's, whose path lacks the router's
    prefix: the prefix is the part of the request path before the part the route matched.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    pattern = getattr(route, "path_regex", None)
    if template is None or pattern is None:
        return None
    segments = str(scope["path"]).split("/")
    for cut in range(1, len(segments)):
        if pattern.fullmatch("/" + "/".join(segments[cut:])):
            return "/".join(segments[:cut]) + str(template)
    return str(template)


class AccessLog:
    """Logs and measures every HTTP request of the wrapped app."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer: dict[str, int] = {"status": 500, "bytes": 0}

        async def send_and_count(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = int(message["status"])
            elif message["type"] == "http.response.body":
                answer["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_and_count)
        finally:
            self._record(scope, answer, time.perf_counter() - started)

    def _record(self, scope: Scope, answer: dict[str, int], seconds: float) -> None:
        route = route_template(scope)
        status = answer["status"]
        if route not in STREAMS:
            self.metrics.observe_request(scope["method"], route, status, seconds)
        state: dict[str, Any] = scope.get("state") or {}
        actor = state.get("actor")
        client = scope.get("client")
        path = loggable_path(scope["path"])
        level = logging.DEBUG if path in PROBES else logging.INFO
        access.log(level, "%s %s %d %.1f ms", scope["method"], path, status, seconds * 1000,
                   extra={"method": scope["method"], "path": path, "route": route,
                          "status": status, "duration_ms": round(seconds * 1000, 3),
                          "bytes": answer["bytes"],
                          "client": client[0] if client else None,
                          "key_name": getattr(actor, "name", None)})

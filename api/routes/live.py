"""``GET /api/v1/live``: the dashboard's server-sent event stream (docs/live.md), and
``GET /api/v1/live/series``: the trend charts over any other range.

Each connection subscribes to the app's :class:`api.live.hub.LiveHub` (made and closed by
the app's lifespan) and writes what it queues, with its own event ids and a heartbeat
every ``live_heartbeat_s``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.activity.scope import sensor_scope
from api.deps import FlagCacheDep, LiveHubDep, StoreDep
from api.errors import ParamError
from api.live.hub import LiveHub
from api.live.series import MAX_RANGE_S, fetch_range
from api.live.sse import RETRY_MS, frame, rfc3339_ms
from api.params import as_validation_error, parse_window, time_query
from api.schemas import LiveSeriesOut
from sensors.timestamps import NS_PER_MS, now_ms

logger = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

_EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"description": "an endless `text/event-stream`; events in docs/live.md",
          "content": {"text/event-stream": {
              "schema": {"type": "string"},
              "example": "retry: 5000\nid: 1\nevent: hello\ndata: {\"server_time\": "
              "\"2026-12-02T09:00:00.000Z\", \"refresh_s\": 5, \"heartbeat_s\": 15, "
              "\"sites\": [], \"sensors\": []}\n\nid: 2\nevent: heartbeat\ndata: "
              "{\"at\": \"2026-12-02T09:00:15.000Z\"}\n\n"}}},
}


async def _events(request: Request, hub: LiveHub) -> AsyncIterator[bytes]:
    subscription = hub.subscribe()
    event_id = 1
    try:
        yield frame("hello", hub.hello(now_ms()), event_id, RETRY_MS)
        next_beat = time.monotonic() + hub.heartbeat_s
        while True:
            try:
                async with asyncio.timeout(max(0.0, next_beat - time.monotonic())):
                    event = await subscription.get()
            except TimeoutError:
                # Cancellation ends the stream on most servers; this check covers the others.
                if await request.is_disconnected():
                    return
                event_id += 1
                yield frame("heartbeat", {"at": rfc3339_ms(now_ms())}, event_id)
                next_beat = time.monotonic() + hub.heartbeat_s
                continue
            if event is None:
                return  # the app is shutting down
            event_id += 1
            yield frame(event.name, event.data, event_id)
    finally:
        hub.unsubscribe(subscription)


@router.get("/live", response_class=StreamingResponse, responses=_EVENT_STREAM,
            summary="Server-sent events for the operations dashboard")
async def live(request: Request, hub: LiveHubDep) -> StreamingResponse:
    """Snapshots of every panel as they are computed, starting with ``hello``."""
    last_event_id = request.headers.get("last-event-id")
    if last_event_id:
        # State events replace each other: nothing is replayed, the client gets it all anew.
        logger.info("live stream resumed by a client (Last-Event-ID %.40r)", last_event_id)
    return StreamingResponse(
        _events(request, hub), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/live/series", response_model=LiveSeriesOut,
            summary="The trend charts' series over any range (7 days, custom)")
async def live_series(
    store: StoreDep,
    flags: FlagCacheDep,
    start: Annotated[str, time_query("inclusive")],
    end: Annotated[str | None, time_query("exclusive (default: now)")] = None,
) -> LiveSeriesOut:
    """The ``series`` event's shape (docs/live.md) for [start, end), at most 92 days, in
    steps of 1 min to 1 day chosen to give at most 400 points."""
    try:
        window = parse_window(start, end, now_ms() * NS_PER_MS, max_s=MAX_RANGE_S)
    except ParamError as exc:
        raise as_validation_error(exc) from exc
    with sensor_scope((await flags.get(store)).scope()):
        body = await fetch_range(store, window.start_ns // NS_PER_MS, window.end_ns // NS_PER_MS)
    return LiveSeriesOut.model_validate({"at": rfc3339_ms(now_ms()), **body})

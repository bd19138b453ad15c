"""``GET /api/v1/live``: the dashboard's server-sent event stream (docs/live.md).

Each connection subscribes to the app's :class:`api.live.hub.LiveHub` (made and closed by
the app's lifespan) and writes what it queues, with its own event ids and a heartbeat
every ``live_heartbeat_s``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.deps import LiveHubDep
from api.live.hub import LiveHub
from api.live.sse import RETRY_MS, frame, rfc3339_ms
from sensors.timestamps import now_ms

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

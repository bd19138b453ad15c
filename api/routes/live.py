"""``GET /api/v1/live``: the dashboard's server-sent event stream (docs/live.md).

Each connection subscribes to the app's :class:`api.live.hub.LiveHub` and writes what it
queues, with its own event ids and a heartbeat every ``live_heartbeat_s``. The hub lives
on ``app.state.live_hub``, made on the first connection; this router's lifespan (merged
into the app's when the router is included) closes it at shutdown, before the app's
InfluxDB client closes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import StreamingResponse

from api.live.hub import LiveHub
from api.live.sse import RETRY_MS, frame, rfc3339_ms
from api.store import InfluxStore

logger = logging.getLogger(__name__)


def live_hub(app: FastAPI) -> LiveHub:
    """The app's hub, made on first use from the app's settings, registry and factors."""
    hub = getattr(app.state, "live_hub", None)
    if not isinstance(hub, LiveHub):
        def store() -> InfluxStore | None:
            # Read at every tick: the lifespan opens and closes the client.
            current = getattr(app.state, "store", None)
            return current if isinstance(current, InfluxStore) else None

        hub = LiveHub(app.state.settings, app.state.registry, app.state.factors, store)
        app.state.live_hub = hub
    return hub


async def close_streams(app: Any) -> None:
    """End every open stream and stop the poller; idempotent.

    The router's lifespan calls it, but a server that waits for open responses to finish
    before running the lifespan shutdown (uvicorn does) must call it when shutdown begins,
    or an open dashboard keeps the server from ever stopping.
    """
    hub = getattr(app.state, "live_hub", None)
    if isinstance(hub, LiveHub):
        await hub.aclose()


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await close_streams(app)
        app.state.live_hub = None


router = APIRouter(tags=["live"], lifespan=_lifespan)

_EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"description": "an endless `text/event-stream`; events in docs/live.md",
          "content": {"text/event-stream": {}}},
}


async def _events(request: Request, hub: LiveHub) -> AsyncIterator[bytes]:
    subscription = hub.subscribe()
    event_id = 1
    try:
        yield frame("hello", hub.hello(time.time_ns() // 1_000_000), event_id, RETRY_MS)
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
                yield frame("heartbeat", {"at": rfc3339_ms(time.time_ns() // 1_000_000)},
                            event_id)
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
async def live(request: Request) -> StreamingResponse:
    """Snapshots of every panel as they are computed, starting with ``hello``."""
    last_event_id = request.headers.get("last-event-id")
    if last_event_id:
        # State events replace each other: nothing is replayed, the client gets it all anew.
        logger.info("live stream resumed by a client (Last-Event-ID %.40r)", last_event_id)
    hub = live_hub(cast(FastAPI, request.app))
    return StreamingResponse(
        _events(request, hub), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

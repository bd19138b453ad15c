"""What the live hub hands each client: events, in a bounded queue per client.

A client that cannot keep up loses its oldest queued events, which newer snapshots replace
anyway, except ``sensors`` changes (docs/live.md): they apply to the list the client
holds, so a client that lost one (or has none yet) gets the full list next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

QUEUE_EVENTS = 32
"""Per-client backlog: several ticks' worth of events."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event for the stream: its SSE type and payload."""

    name: str
    data: Mapping[str, Any]


def is_full_sensors(event: Event | None) -> bool:
    """A ``sensors`` event with the whole list (not changes)."""
    return event is not None and event.name == "sensors" and event.data.get("full") is True


class Subscription:
    """One client's bounded queue; ``None`` in it means the stream must end."""

    def __init__(self, maxsize: int = QUEUE_EVENTS) -> None:
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize)
        self.dropped = 0
        self.needs_full_sensors = True
        """Whether the next ``sensors`` event must be the full list: none sent yet, or
        one was dropped."""

    def offer(self, event: Event | None) -> None:
        """Queue without waiting, dropping the oldest queued events to make room."""
        while True:
            try:
                self._queue.put_nowait(event)
                break
            except asyncio.QueueFull:
                dropped = self._queue.get_nowait()
                self.dropped += 1
                if dropped is not None and dropped.name == "sensors":
                    self.needs_full_sensors = True
        if is_full_sensors(event):
            self.needs_full_sensors = False

    async def get(self) -> Event | None:
        """The next event (``None``: the hub closed)."""
        return await self._queue.get()

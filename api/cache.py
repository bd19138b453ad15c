"""A short-lived cache of computed answers, shared by concurrent requests (docs/scaling.md).

Fifty wall screens and analysts asking for the same 24-hour window each made InfluxDB sum
the same raw points: 13 requests/s with p50 3.7 s on 2 cores (issue 13). Here one request
computes an answer and every identical request arriving meanwhile waits for it
(single flight); the answer then serves identical requests for ``ttl_s`` seconds, and
for up to ``ttl_s`` more while one request recomputes it in the background.

The key is the request (path and every query parameter, order-free) plus a freshness
mark: the number of rollup runs this process has completed, so an answer read from the
previous coverage is never served after a run. Raw data newer than an answer reaches it
after at most two ``ttl_s`` (and the time a recomputation takes): each cached answer
says how old it is (``Age``, RFC 9111) and ``X-Cache`` says hit or miss. A window that
ends "now" (no ``end``) is answered for the moment it was computed, and its ``end`` says
which moment that was.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Cached(Generic[T]):
    """An answer and how old it is."""

    value: T
    age_s: float
    hit: bool

    def headers(self) -> dict[str, str]:
        """``Age`` (whole seconds, RFC 9111 section 5.1) and ``X-Cache``."""
        return {"Age": str(int(self.age_s)), "X-Cache": "hit" if self.hit else "miss"}


class AnswerCache:
    """Answers by key for ``ttl_s`` seconds, at most ``max_entries`` of them (least
    recently used dropped first). ``ttl_s`` 0 turns caching off (single flight stays)."""

    def __init__(self, ttl_s: float, max_entries: int = 256,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self.max_entries = max_entries
        self.generation = 0  # the freshness mark: bumped by invalidate()
        self._entries: OrderedDict[Key, tuple[float, object]] = OrderedDict()
        self._flights: dict[Key, asyncio.Future[object]] = {}
        self._refreshing: set[asyncio.Task[None]] = set()

    def key(self, path: str, params: Iterable[tuple[str, str]], *extra: object) -> Key:
        """The cache key of a request: path, its parameters in any order, and ``extra``
        (what else the answer depends on, e.g. the media type asked for)."""
        return (path, tuple(sorted(params)), *extra, self.generation)

    def invalidate(self) -> None:
        """Forget every answer: the data they were read from has changed (a rollup run)."""
        self.generation += 1
        self._entries.clear()

    async def get(self, key: Key, compute: Callable[[], Awaitable[T]]) -> Cached[T]:
        """The cached answer for ``key``, or ``compute()``'s, shared with every caller that
        asks for ``key`` while it runs. An exception is raised to all of them and not
        cached. An answer between one and two ``ttl_s`` old is still served while one
        refresh runs in the background (stale-while-revalidate, RFC 5861), so callers do
        not all wait for the recomputation each time an answer expires."""
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None:
            age = now - entry[0]
            if age < 2 * self.ttl_s:
                self._entries.move_to_end(key)
                if age >= self.ttl_s and key not in self._flights:
                    task = asyncio.create_task(
                        self._refresh(key, compute, self._new_flight(key)))
                    self._refreshing.add(task)
                    task.add_done_callback(self._refreshing.discard)
                return Cached(entry[1], age, True)  # type: ignore[arg-type]
        flight = self._flights.get(key)
        if flight is not None:
            try:
                value = await asyncio.shield(flight)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not flight.cancelled() or (current is not None and current.cancelling()):
                    raise
                return await self.get(key, compute)  # its first caller went away: compute
            return Cached(value, self._clock() - now, True)  # type: ignore[arg-type]
        return Cached(await self._run(key, compute, self._new_flight(key)), 0.0, False)

    async def aclose(self) -> None:
        """Cancel background refreshes (the app is stopping)."""
        for task in list(self._refreshing):
            task.cancel()
        await asyncio.gather(*self._refreshing, return_exceptions=True)

    def _new_flight(self, key: Key) -> asyncio.Future[object]:
        flight: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        return flight

    async def _refresh(self, key: Key, compute: Callable[[], Awaitable[T]],
                       flight: asyncio.Future[object]) -> None:
        try:
            await self._run(key, compute, flight)
        except Exception as exc:  # the stale answer stays until it is too old
            logger.warning("refreshing a cached answer failed: %s", exc)

    async def _run(self, key: Key, compute: Callable[[], Awaitable[T]],
                   flight: asyncio.Future[object]) -> T:
        try:
            value = await compute()
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved: no "never retrieved" warning when no one waits
            raise
        else:
            flight.set_result(value)
        finally:
            del self._flights[key]
        if self.ttl_s > 0 and key[-1] == self.generation:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

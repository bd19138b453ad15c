"""Which sensors the figures take into account (README, "Simulated and retired sensors").

Simulated sensors (``smartplace simulate --sensors N``) are left out of every council
figure (emissions, indicators, the dashboard's figures) unless a request asks for them;
retired sensors still count where they measured, but are expected by no completeness.
The figures code is shared by many answers, so the scope is not passed down through each
of them: a route (or the live poller) sets it for the work it does, with
:func:`sensor_scope`, and the few places that read sensors apply it:

- :func:`sensor_filter` adds ``AND sensor != $scope_0 ...`` to an InfluxQL ``WHERE``
  (bound parameters: ids never enter the query text);
- :func:`expected` says whether completeness expects a sensor.

Outside any :func:`sensor_scope` every sensor counts (the scope of a script or a test).
Cached answers (api/cache.py) are keyed by their scope as well as their request.
A ``contextvars.ContextVar`` carries it: each request and the poller's task have their
own, and tasks started inside (``asyncio.gather``) inherit it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from api.influx import QueryParam


@dataclass(frozen=True, slots=True)
class SensorScope:
    """The sensors figures leave out.

    Attributes:
        excluded: left out of all activity (simulated ones, unless asked for).
        not_expected: left out of data completeness too (``excluded`` and the retired).
    """

    excluded: frozenset[str] = frozenset()
    not_expected: frozenset[str] = frozenset()


EVERY_SENSOR = SensorScope()
_current: ContextVar[SensorScope] = ContextVar("sensor_scope", default=EVERY_SENSOR)


@contextmanager
def sensor_scope(scope: SensorScope) -> Iterator[SensorScope]:
    """Figures computed inside the ``with`` block take ``scope`` into account."""
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


T = TypeVar("T")


async def scoped(scope: SensorScope, work: Awaitable[T]) -> T:
    """``await work`` inside ``sensor_scope(scope)``, wherever it is awaited (the answer
    cache may compute an answer in a task of its own)."""
    with sensor_scope(scope):
        return await work


def current_scope() -> SensorScope:
    """The scope in force (:data:`EVERY_SENSOR` outside any :func:`sensor_scope`)."""
    return _current.get()


def sensor_filter() -> tuple[str, dict[str, QueryParam]]:
    """``(" AND sensor != $scope_0 AND ...", params)`` for the excluded sensors, or
    ``("", {})`` when none is excluded (the common case costs nothing)."""
    excluded = sorted(_current.get().excluded)
    names = [f"scope_{index}" for index in range(len(excluded))]
    clause = "".join(f" AND sensor != ${name}" for name in names)
    return clause, dict(zip(names, excluded, strict=True))


def expected(sensor: str) -> bool:
    """Whether data completeness expects readings from ``sensor``."""
    return sensor not in _current.get().not_expected

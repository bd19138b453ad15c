"""The stream's ``series`` panels, kept between refreshes (docs/live.md, ``series``).

A window's buckets are whole steps that ended before now, so a bucket changes only while
readings for it may still arrive: one read at least
:data:`~api.network.last_seen_index.OVERLAP_MS` after its end is final. Each refresh reads
only the buckets not read that late yet (at 1-minute steps: the newest one or two), and
serves the rest from memory. The hour at 60 s steps over 30,000 sensors reporting each
minute took 18.5 s to read whole (InfluxDB 1.6.7, 2026-12-02, alone on 2 cores), 2.1 s for
its last two minutes; it was read whole at every refresh (1 s). The first read after a
start is cut into requests, newest first, each sized by the time the last one took
(the first :data:`CHUNK_MS`), and a refresh starts no request after
:data:`FETCH_BUDGET_S`: at 30,000 sensors the 24 hours
would take minutes to read, so the panel fills in over several refreshes (``partial``:
true, the buckets not read yet ``null``) instead of holding back the whole poll cycle.
What a failed refresh had read is kept.

A reading stored more than the overlap after its bucket ended is missed until the panel
starts afresh (the poller restarts, the sensor scope changes), as for the last-seen index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from api.activity.scope import SensorScope, current_scope
from api.errors import StoreError
from api.influx import QUERY_TIMEOUT_S, InfluxStore
from api.live.series import Window, fetch_buckets, series_bounds
from api.live.sse import rfc3339_ms
from api.network.last_seen_index import OVERLAP_MS

CHUNK_MS = 15 * 60_000
"""The first request's span (one bucket at least); each next one is sized by the last
one's time (:meth:`SeriesPanel._read`). 15 minutes of readings of 30,000 sensors reporting
each minute took about 4.6 s (InfluxDB 1.6.7, 2 cores, 2026-12-02); the 24h window's
buckets are 15 minutes, so 15 of them in one request (its former size) would have been
70 s, beyond the 30 s time-out, at every attempt, while 300 sensors answer hours at once."""
MAX_CHUNK_MS = 4 * 3_600_000
FETCH_BUDGET_S = 2.0
"""A refresh starts no request after this long (a network of 300 sensors reads its 24
hours within it; at 30,000 sensors one request per refresh)."""
GROW_UNDER_S, SHRINK_OVER_S = FETCH_BUDGET_S, QUERY_TIMEOUT_S / 4
"""A request's cost at 30,000 sensors is partly per series (15 minutes without readings
took 1-2 s) and partly per reading (4.6 s with them), so spans without readings grow
while those with many stay small: a request stays between about the refresh budget and a
quarter of the query time-out. (Grown up to 7.5 s, a 30-minute request of that network's
readings passed the 30 s time-out beside the other panels' first reads.)"""
_ROWS = ("energy_kw", "traffic_vph", "no2_ugm3")
_EMPTY = ((None, None, None), (None, None), (None,))  # a bucket not read yet, per row kind


class SeriesPanel:
    """One window's ``series`` payload, its buckets kept and only the unsettled re-read."""

    def __init__(self, store: InfluxStore, window: Window, overlap_ms: int = OVERLAP_MS,
                 budget_s: float = FETCH_BUDGET_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._budget_s = budget_s
        self._clock = clock
        self._chunk_ms = CHUNK_MS
        self._store = store
        self._overlap_ms = overlap_ms
        self._buckets: dict[int, tuple[int, tuple[list[Any], ...]]] = {}  # t: read at, rows
        self._scope: SensorScope | None = None
        self.reads = 0
        """Requests made (one per chunk of buckets)."""
        self.partial = False
        """Whether the last payload had buckets not read yet (the poller asks again at once)."""

    async def _read(self, lo: int, hi: int, step: int, now_ms: int) -> None:
        """Read [lo, hi) and size the next request by this one's time: doubled under
        :data:`GROW_UNDER_S`, halved over :data:`SHRINK_OVER_S` or when it failed."""
        self.reads += 1
        started = self._clock()
        try:
            part = await fetch_buckets(self._store, lo, hi, step)
        except StoreError:
            self._chunk_ms = max(step, self._chunk_ms // 2)
            raise
        took = self._clock() - started
        if took > SHRINK_OVER_S:
            self._chunk_ms = max(step, self._chunk_ms // 2)
        elif took < GROW_UNDER_S:
            self._chunk_ms = min(MAX_CHUNK_MS, self._chunk_ms * 2)
        for index, t in enumerate(range(lo, hi, step)):
            self._buckets[t] = (now_ms, tuple(part[key][index] for key in _ROWS))

    async def fetch(self, now_ms: int) -> dict[str, Any]:
        """The payload (without ``at``).

        Raises:
            StoreError: InfluxDB could not answer.
        """
        if self._scope != current_scope():
            self._buckets.clear()  # figures of another set of sensors
            self._scope = current_scope()
        start, end, step = series_bounds(self.window, now_ms)
        self._buckets = {t: kept for t, kept in self._buckets.items() if t >= start}
        stale = [t for t in range(start, end, step)
                 if t not in self._buckets or self._buckets[t][0] < t + step + self._overlap_ms]
        began, filled = self._clock(), False
        for run_lo, hi in _runs(stale, step):
            while hi > run_lo:
                # Past the budget, stop, but only once a bucket never read before was: the
                # newest, re-read until settled, must not stall the filling in.
                if filled and self._clock() - began >= self._budget_s:
                    break
                lo = max(run_lo, hi - max(step, self._chunk_ms // step * step))
                filled = filled or any(t not in self._buckets for t in range(lo, hi, step))
                await self._read(lo, hi, step, now_ms)
                hi = lo
        rows = [self._buckets[t][1] if t in self._buckets
                else tuple([t, *empty] for empty in _EMPTY) for t in range(start, end, step)]
        self.partial = any(t not in self._buckets for t in range(start, end, step))
        return {"window": self.window, "step_s": step // 1000, "start": rfc3339_ms(start),
                "end": rfc3339_ms(end), "partial": self.partial,
                **{key: [row[index] for row in rows] for index, key in enumerate(_ROWS)}}


def _runs(stale: list[int], step: int) -> list[tuple[int, int]]:
    """The stale buckets (ascending starts) as runs ``[lo, hi)`` of consecutive buckets,
    the newest first (the chart's right-hand end)."""
    runs: list[tuple[int, int]] = []
    for t in reversed(stale):
        if runs and runs[-1][0] == t + step:
            runs[-1] = (t, runs[-1][1])
        else:
            runs.append((t, t + step))
    return runs

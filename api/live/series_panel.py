"""The stream's ``series`` panels, kept between refreshes (docs/live.md, ``series``).

A window's buckets are whole steps that ended before now, so a bucket changes only while
readings for it may still arrive: one read at least
:data:`~api.network.last_seen_index.OVERLAP_MS` after its end is final. Each refresh reads
only the buckets not read that late yet (at 1-minute steps: the newest one or two), and
serves the rest from memory. The hour at 60 s steps over 30,000 sensors reporting each
minute took 18.5 s to read whole (InfluxDB 1.6.7, 2026-12-02, alone on 2 cores), 2.1 s for
its last two minutes; it was read whole at every refresh (1 s). The first read is cut
into :data:`CHUNK_BUCKETS` buckets per request, each within the query time-out; what a
failed refresh had read is kept.

A reading stored more than the overlap after its bucket ended is missed until the panel
starts afresh (the poller restarts, the sensor scope changes), as for the last-seen index.
"""

from __future__ import annotations

from typing import Any

from api.activity.scope import SensorScope, current_scope
from api.influx import InfluxStore
from api.live.series import Window, fetch_buckets, series_bounds
from api.live.sse import rfc3339_ms
from api.network.last_seen_index import OVERLAP_MS

CHUNK_BUCKETS = 15
_ROWS = ("energy_kw", "traffic_vph", "no2_ugm3")


class SeriesPanel:
    """One window's ``series`` payload, its buckets kept and only the unsettled re-read."""

    def __init__(self, store: InfluxStore, window: Window, overlap_ms: int = OVERLAP_MS
                 ) -> None:
        self.window = window
        self._store = store
        self._overlap_ms = overlap_ms
        self._buckets: dict[int, tuple[int, tuple[list[Any], ...]]] = {}  # t: read at, rows
        self._scope: SensorScope | None = None
        self.reads = 0
        """Requests made (one per chunk of buckets)."""

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
        if stale:
            first = stale[0]
            for lo in range(first, end, step * CHUNK_BUCKETS):
                hi = min(lo + step * CHUNK_BUCKETS, end)
                self.reads += 1
                part = await fetch_buckets(self._store, lo, hi, step)
                for index, t in enumerate(range(lo, hi, step)):
                    self._buckets[t] = (now_ms, tuple(part[key][index] for key in _ROWS))
        rows = [self._buckets[t][1] for t in range(start, end, step)]
        return {"window": self.window, "step_s": step // 1000, "start": rfc3339_ms(start),
                "end": rfc3339_ms(end),
                **{key: [row[index] for row in rows] for index, key in enumerate(_ROWS)}}

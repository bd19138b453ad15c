"""The latest reading of every sensor, kept in the API between requests (one per process,
owned by the app's lifespan; README, "Scale of the network").

- Seeded by the 30-day look-back (:func:`api.network.last_seen.fetch_lookback`) the first
  time it is asked; concurrent callers wait for that one seed.
- Then refreshed at most every ``refresh_s``: only readings timed after the last query's
  start minus :data:`OVERLAP_MS` (:func:`api.network.last_seen.fetch_since`), merged in,
  the newer time winning. Callers that arrive while a refresh runs wait for it.
- Every ``reseed_s`` (and soon after :meth:`LastSeenIndex.invalidate`) the look-back is
  read again in the background while the index keeps answering. Only this sees a reading
  written more than the overlap after its own time (a history import, a device that
  buffers, an ingest backlog older than the overlap) or a deleted one: such changes show
  within ``reseed_s`` (eventually consistent), everything else within ``refresh_s``.
- Entries older than the look-back drop out at each refresh.
- The same reads carry ``seq``: :attr:`LastSeenIndex.seq` keeps the last hour's seq jumps.
  Its seed (:func:`api.network.seq_gaps.seed_tracker`, aggregates over every reading of
  the hour) runs beside the index once the look-back is read, and is not re-seeded: at
  30,000 sensors it took 6-7 s on a quiet machine against 2 s for the look-back, so
  ``/sensors`` and the live ``sensors`` panel no longer wait for it. Refreshes meanwhile
  keep their seqs and hand them over when it ends (:attr:`LastSeenIndex.seq_ready`); a
  failed seq seed is tried again at a later :meth:`LastSeenIndex.get`.

Every map it hands out is a new dict, never changed afterwards: a caller may hold it
across awaits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, overload

from api.errors import StoreError
from api.influx import InfluxStore
from api.network.last_seen import LastSeen, expire, fetch_lookback, fetch_since, newest
from api.network.seq_gaps import SEQ_WINDOW_MS, SeqGap, SeqPoint, SeqTracker, seed_tracker
from sensors.timestamps import now_ms as wall_ms

logger = logging.getLogger(__name__)

OVERLAP_MS = 30_000
"""How far before the last query's start the next one looks again. A reading reaches
InfluxDB some time after its own timestamp: the ingestor's flush (0.2 s) and write, a
broker queue (p99 under 0.5 s at 5,000 msg/s, README "Live rate"), a device clock a little
behind. 30 s covers that with a wide margin, and a short ingest restart; the query's cost
grows with the readings in the window (about half of every sensor's at 30,000 sensors
reporting each minute), so it is not longer."""
SEED_TIMEOUT_S = 120.0
"""Per look-back statement (each took up to about 2.5 s at 30,000 sensors on a loaded
machine): far beyond an ordinary request's 30 s, as a seed is rare and needed."""
RESEED_RETRY_MS = 60_000
SEQ_SEED_RETRY_MS = 10_000


class LastSeenIndex:
    """The latest reading of every sensor seen within the look-back, kept up to date."""

    def __init__(self, store: InfluxStore, *, refresh_s: float, reseed_s: float,
                 clock: Callable[[], int] = wall_ms, overlap_ms: int = OVERLAP_MS,
                 seed_timeout_s: float = SEED_TIMEOUT_S) -> None:
        self._store = store
        self._refresh_ms = round(refresh_s * 1000)
        self._reseed_ms = round(reseed_s * 1000)
        self._clock = clock
        self._overlap_ms = overlap_ms
        self._seed_timeout_s = seed_timeout_s
        self._seen: dict[str, LastSeen] = {}
        self._seeded = False
        self._watermark_ms = 0  # the start of the last query that read up to then
        self._reseed_due_ms = 0
        self._flight: asyncio.Task[None] | None = None
        self._reseeding: asyncio.Task[None] | None = None
        self.seeds = 0
        """Look-back reads started (the first seed and re-seeds)."""
        self.seq = SeqTracker()
        """The seq jumps of the last hour, fed by the same reads (seeded beside the index)."""
        self._seq_seeding: asyncio.Task[None] | None = None
        self._seq_from_ms = 0  # the look-back's start: the seq seed settles up to it
        self._seq_retry_ms = 0
        self._seq_pending: list[tuple[list[SeqPoint], int, int]] = []
        self.seq_ready = False
        """Whether the seq seed has ended (:meth:`seq_gaps` answers without waiting)."""
        self.seq_error: str | None = None
        """Why the last seq seed failed (None while none has)."""

    async def get(self) -> Mapping[str, LastSeen]:
        """Every sensor's latest reading, at most ``refresh_s`` old.

        Raises:
            StoreError: InfluxDB could not answer (the seed or a due refresh).
        """
        now = self._clock()
        if not self._seeded:
            await self._join(self._seed)
        elif now - self._watermark_ms >= self._refresh_ms:
            await self._join(self._refresh)
        if self._clock() >= self._reseed_due_ms and self._reseeding is None:
            self._reseeding = asyncio.get_running_loop().create_task(
                self._reseed(), name="last-seen-reseed")
        self._start_seq_seed()
        return self._seen

    @overload
    async def seq_gaps(self, now_ms: int) -> list[SeqGap]: ...
    @overload
    async def seq_gaps(self, now_ms: int, *, wait_s: float) -> list[SeqGap] | None: ...

    async def seq_gaps(self, now_ms: int, *, wait_s: float | None = None) -> list[SeqGap] | None:
        """Sensors whose seq skipped values in the hour before ``now_ms``, as of a
        refresh at most ``refresh_s`` old (:mod:`api.network.seq_gaps`). With ``wait_s``,
        None when the seq seed has not ended that long after the index answered.

        Raises:
            StoreError: InfluxDB could not answer (the seed, the seq seed or a due refresh).
        """
        await self.get()
        seeding = self._seq_seeding
        if seeding is not None:
            # wait() never cancels the seed: a caller that gives up leaves it to the others.
            done, _ = await asyncio.wait([seeding], timeout=wait_s)
            if not done:
                return None
            seeding.result()
        if not self.seq_ready:
            raise StoreError(self.seq_error or "the seq tracker is not seeded")
        return self.seq.gaps(now_ms)

    def invalidate(self) -> None:
        """Readings may have been written with old timestamps (an import): re-read the
        look-back in the background on the next request."""
        self._reseed_due_ms = 0

    async def aclose(self) -> None:
        """Stop a running re-seed (the app is shutting down)."""
        tasks = [task for task in (self._flight, self._reseeding, self._seq_seeding)
                 if task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _join(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        # One query in flight however many callers: they all wait for the same task, and
        # one caller giving up (a closed request) does not cancel it for the others.
        if self._flight is None or self._flight.done():
            self._flight = asyncio.get_running_loop().create_task(work())
            self._flight.add_done_callback(_retrieve)
        await asyncio.shield(self._flight)

    async def _seed(self) -> None:
        started = self._clock()
        self.seeds += 1
        found = await fetch_lookback(self._store, started, self._seed_timeout_s)
        self._seen, self._watermark_ms = found, started
        self._seq_from_ms = started
        self._seeded = True
        self._reseed_due_ms = started + self._reseed_ms

    async def _refresh(self) -> None:
        started = self._clock()
        seqs: list[SeqPoint] = []
        found = await fetch_since(self._store, self._watermark_ms - self._overlap_ms, started,
                                  seqs)
        # The next refresh reads after started - overlap: what is older is settled.
        if self.seq_ready:
            self.seq.add(seqs, started - self._overlap_ms, started)
        else:
            self._seq_pending.append((seqs, started - self._overlap_ms, started))
        merged = dict(self._seen)
        for seen in found.values():
            newest(merged, seen)
        self._seen, self._watermark_ms = expire(merged, started), started

    async def _reseed(self) -> None:
        started = self._clock()
        self.seeds += 1
        try:
            found = await fetch_lookback(self._store, started, self._seed_timeout_s)
        except StoreError as exc:
            logger.warning("re-reading the last-seen look-back failed: %s", exc.message)
            self._reseed_due_ms = self._clock() + min(self._reseed_ms, RESEED_RETRY_MS)
            return
        finally:
            self._reseeding = None
        # The look-back replaces the index (a deleted reading goes), except for what the
        # refreshes read meanwhile, which it may predate.
        for seen in self._seen.values():
            if seen.time_ms > started - self._overlap_ms:
                newest(found, seen)
        self._seen = expire(found, self._clock())
        self._reseed_due_ms = started + self._reseed_ms


    def _start_seq_seed(self) -> None:
        if self.seq_ready or self._seq_seeding is not None or self._clock() < self._seq_retry_ms:
            return
        self._seq_seeding = asyncio.get_running_loop().create_task(
            self._seed_seq(), name="last-seen-seq-seed")
        self._seq_seeding.add_done_callback(_retrieve)

    async def _seed_seq(self) -> None:
        # A retry starts from its own time; the refreshes it reads past are dropped.
        started = self._seq_from_ms if self.seq_error is None else self._clock()
        settled = started - self._overlap_ms
        try:
            await seed_tracker(self._store, self.seq, started - SEQ_WINDOW_MS, started,
                               settled, self._seed_timeout_s)
        except StoreError as exc:
            logger.warning("seeding the seq tracker failed: %s", exc.message)
            self.seq_error = exc.message
            self._seq_retry_ms = self._clock() + SEQ_SEED_RETRY_MS
            # The retry starts later: what it will read itself need not be kept.
            oldest = self._clock() - self._overlap_ms
            self._seq_pending = [kept for kept in self._seq_pending if kept[2] > oldest]
            raise
        finally:
            self._seq_seeding = None
        # In their order, as if they had been added after the seed; readings at or before
        # an anchor are ignored, so what the seed read already is not counted twice.
        for points, refresh_settled, refresh_ms in self._seq_pending:
            if refresh_ms > settled:
                self.seq.add(points, refresh_settled, refresh_ms)
        self._seq_pending.clear()
        self.seq_ready, self.seq_error = True, None


def _retrieve(task: asyncio.Task[None]) -> None:
    # Waiters see the exception; this keeps asyncio from logging it when all of them left.
    if not task.cancelled():
        task.exception()

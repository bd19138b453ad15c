"""Messages lost before the broker, from jumps of ``seq`` between a sensor's consecutive
readings over the last hour, kept in memory (docs/live.md, ``seq_gap``).

A ``difference(seq)`` GROUP BY site, sensor over the hour walks every series (it hit the
30 s time-out at 30,000 sensors: README, "Scale of the network"). Instead the last-seen
index's raw reads of recent readings (:mod:`api.network.last_seen_index`) carry ``seq``
and feed :class:`SeqTracker`, which keeps per sensor only the readings that the next read
may see again, the reading before them, and the jumps of the hour. It is seeded once
(:func:`seed_tracker`): a sensor whose seqs over the hour are consecutive (checked by
aggregates, per sensor) needs only its latest reading; the others' readings are read raw.

The answer is the query's: over the readings in [now - 1 h, now), consecutive pairs
(in time order, per site and sensor) whose seq rose by more than 1 lost (rise - 1)
messages; a fall is a restart and loses nothing. A reading written more than the index's
overlap after its own time is not seen (as for the last-seen refreshes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from api.clock import HOUR_MS
from api.errors import StoreTruncatedError
from api.influx import InfluxStore, QueryParam
from sensors.storage import SEQ, Measurement
from sensors.timestamps import NS_PER_MS

SEQ_WINDOW_MS = HOUR_MS
SEED_SLICE_MS = 5 * 60_000
"""The raw part of a seed reads the hour in slices of this length (a slice InfluxDB
truncates at its row limit is halved, down to :data:`MIN_SLICE_MS`)."""
SEED_SENSORS_PER_STATEMENT = 100
SEED_NAMED_AT_MOST = 1_000
"""More sensors than this to read raw, and the seed reads every reading of the hour
instead of naming them (fewer requests when most of the network needs it)."""
PRUNE_EVERY_MS = 60_000
MIN_SLICE_MS = 1_000
_MEASUREMENTS = ", ".join((Measurement.ENERGY, Measurement.TRANSPORT, Measurement.AIR_QUALITY))
_SETTLED = "time >= $start AND time <= $settled"
# The hour's seqs per sensor: consecutive when n - 1 == spread == last - first.
SEED_RUNS = (f"SELECT count({SEQ}) AS n, spread({SEQ}) AS spread, first({SEQ}) AS first, "  # noqa: S608
         f"last({SEQ}) AS last FROM {_MEASUREMENTS} WHERE {_SETTLED} GROUP BY site, sensor")
# A lone selector: its row's time is the reading's (with other aggregates it is $start).
_LATEST = (f"SELECT last({SEQ}) AS seq FROM {_MEASUREMENTS} "  # noqa: S608
           f"WHERE {_SETTLED} GROUP BY site, sensor")
SEED_AGGREGATES = 1
"""Requests of a seed before its raw part (both aggregate statements in one)."""


_EVERY_READING = (f"SELECT {SEQ}, site, sensor FROM {_MEASUREMENTS} "  # noqa: S608
                  "WHERE time >= $start AND time < $end")


def raw_statement(sensors: int) -> str:
    """The readings of ``sensors`` sensors ($f0 ...) in [$start, $end), tags as columns."""
    named = " OR ".join(f"sensor = $f{index}" for index in range(sensors))
    return (f"SELECT {SEQ}, site, sensor FROM {_MEASUREMENTS} "  # noqa: S608
            f"WHERE time >= $start AND time < $end AND ({named})")

SeqPoint = tuple[str, str, int, int]
"""A reading's site, sensor, time (epoch ms) and seq."""
_Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class SeqGap:
    """Messages a sensor lost in the seq window: how many, and when the first gap showed."""

    site: str
    sensor: str
    lost: int
    first_gap_ms: int


@dataclass(slots=True)
class _Track:
    anchor: tuple[int, int] | None = None  # the latest reading no later read will see again
    tail: dict[int, int] = field(default_factory=dict)  # time: seq, the readings after it
    jumps: dict[int, tuple[int, int]] = field(default_factory=dict)  # time: (previous, rise)


def seq_points(rows: Iterable[Mapping[str, Any]]) -> list[SeqPoint]:
    """The readings of raw rows (``time``, ``site``, ``sensor``, ``seq``) that carry seq."""
    points = []
    for row in rows:
        seq = row.get(SEQ)
        if isinstance(seq, int | float):
            points.append((str(row.get("site") or ""), str(row.get("sensor") or ""),
                           int(row["time"]), int(seq)))
    return points


class SeqTracker:
    """Per site and sensor: the seq jumps of the last hour, updated from raw reads."""

    def __init__(self) -> None:
        self._tracks: dict[_Key, _Track] = {}
        self._tailed: set[_Key] = set()  # tracks with readings the next read may see again
        self._prune_due_ms = 0

    def add(self, points: Iterable[SeqPoint], settled_ms: int, now_ms: int) -> None:
        """Merge a read's readings; readings timed at or before ``settled_ms`` will not be
        read again (the next read starts after it). Jumps older than the hour drop out
        (every :data:`PRUNE_EVERY_MS`: a seed adds many slices, each touching few tracks)."""
        touched: set[_Key] = set()
        for site, sensor, time_ms, seq in points:
            track = self._tracks.get((site, sensor))
            if track is None:
                track = self._tracks[(site, sensor)] = _Track()
            if track.anchor is None or time_ms > track.anchor[0]:
                track.tail[time_ms] = seq
                touched.add((site, sensor))
        for key in touched:
            _pair(self._tracks[key])
        self._tailed |= touched
        for key in list(self._tailed):
            track = self._tracks[key]
            _settle(track, settled_ms)
            if not track.tail:
                self._tailed.discard(key)
        if now_ms >= self._prune_due_ms:
            self._prune(now_ms - SEQ_WINDOW_MS)
            self._prune_due_ms = now_ms + PRUNE_EVERY_MS

    def _prune(self, oldest: int) -> None:
        for key, track in list(self._tracks.items()):
            if track.jumps:
                track.jumps = {t: jump for t, jump in track.jumps.items() if jump[0] >= oldest}
            if not track.tail and not track.jumps and (
                    track.anchor is None or track.anchor[0] < oldest):
                del self._tracks[key]  # its next reading pairs with one outside the hour

    def gaps(self, now_ms: int) -> list[SeqGap]:
        """Sensors whose seq skipped values in [now - 1 h, now), by sensor."""
        oldest = now_ms - SEQ_WINDOW_MS
        gaps = []
        for (site, sensor), track in self._tracks.items():
            inside = [(t, rise) for t, (before, rise) in track.jumps.items()
                      if before >= oldest and t < now_ms]
            if inside:
                gaps.append(SeqGap(site, sensor, sum(rise - 1 for _, rise in inside),
                                   min(t for t, _ in inside)))
        return sorted(gaps, key=lambda gap: gap.sensor)

    def clear(self) -> None:
        self._tracks.clear()
        self._tailed.clear()
        self._prune_due_ms = 0

    def anchor(self, site: str, sensor: str, time_ms: int, seq: int) -> None:
        """A sensor's latest settled reading, its seqs before it known to run on without
        a jump (the seed's aggregate check): the next reading pairs with it."""
        self._tracks[(site, sensor)] = _Track(anchor=(time_ms, seq))


def _pair(track: _Track) -> None:
    """Recompute the jumps of every reading in the tail from its predecessor."""
    previous = track.anchor
    for time_ms in sorted(track.tail):
        seq = track.tail[time_ms]
        if previous is not None:
            rise = seq - previous[1]
            if rise > 1:
                track.jumps[time_ms] = (previous[0], rise)
            else:
                track.jumps.pop(time_ms, None)  # a reading arrived in between
        previous = (time_ms, seq)


def _settle(track: _Track, settled_ms: int) -> None:
    settled = [t for t in track.tail if t <= settled_ms]
    if settled:
        last = max(settled)
        track.anchor = (last, track.tail[last])
        for t in settled:
            del track.tail[t]


async def seed_tracker(store: InfluxStore, tracker: SeqTracker, start_ms: int, end_ms: int,
                       settled_ms: int, timeout_s: float) -> None:
    """Seed a cleared tracker with [start, end); readings at or before ``settled_ms`` are
    settled (the next incremental read starts after it).

    Per sensor, InfluxDB first aggregates the settled readings' seqs. When they are
    consecutive (n readings, seq rising by n - 1 from the first to the last, never beyond
    that range), the hour has no jump and the latest reading anchors the tracker. The
    other sensors' readings (a jump, a restart, a repeat) are read raw, in slices. At
    30,000 sensors reporting each minute the hour is 1.8 million readings; read raw, the
    seed took minutes (README, "Scale of the network"); the aggregates read every series
    once. (Seqs that are out of time order yet consecutive as a set pass the check: seq
    counts the messages a device sent, in the order it timed them.)

    Raises:
        StoreError: InfluxDB could not answer.
    """
    tracker.clear()
    bounds = {"start": start_ms * NS_PER_MS, "settled": settled_ms * NS_PER_MS}
    runs, latest = await store.query([SEED_RUNS, _LATEST], bounds, timeout_s=timeout_s)
    clean: dict[_Key, tuple[int, int]] = {}
    irregular: set[_Key] = set()
    for one in runs:
        key = (one.tags.get("site", ""), one.tags.get("sensor", ""))
        for row in one.rows():
            n, spread, first, last = (row.get(name) for name in ("n", "spread", "first", "last"))
            consecutive = (isinstance(n, int) and n > 0 and spread == n - 1
                           and isinstance(first, int | float) and isinstance(last, int | float)
                           and last - first == n - 1)
            if not consecutive or key in clean or key in irregular:
                irregular.add(key)  # a key in two measurements is read raw too
                clean.pop(key, None)
    for one in latest:
        key = (one.tags.get("site", ""), one.tags.get("sensor", ""))
        for row in one.rows():
            if key not in irregular and isinstance(row.get("seq"), int | float):
                clean[key] = (int(row["time"]), int(row["seq"]))
    for (site, sensor), (time_ms, seq) in clean.items():
        tracker.anchor(site, sensor, time_ms, seq)
    names = sorted({sensor for _, sensor in irregular})
    if len(names) > SEED_NAMED_AT_MOST:
        await _seed_raw(store, tracker, None, irregular, start_ms, end_ms, settled_ms,
                        timeout_s)
        return
    for first in range(0, len(names), SEED_SENSORS_PER_STATEMENT):
        await _seed_raw(store, tracker, names[first:first + SEED_SENSORS_PER_STATEMENT],
                        irregular, start_ms, end_ms, settled_ms, timeout_s)


async def _seed_raw(store: InfluxStore, tracker: SeqTracker, sensors: list[str] | None,
                    keys: set[_Key], start_ms: int, end_ms: int, settled_ms: int,
                    timeout_s: float) -> None:
    """The readings of ``sensors`` (None: of every sensor) in slices; only those of
    ``keys`` go to the tracker (the others are anchored already)."""
    statement = raw_statement(len(sensors)) if sensors is not None else _EVERY_READING
    named: dict[str, QueryParam] = {f"f{index}": name
                                    for index, name in enumerate(sensors or ())}
    slices = [(lo, min(lo + SEED_SLICE_MS, end_ms))
              for lo in range(start_ms, end_ms, SEED_SLICE_MS)]
    while slices:
        lo, hi = slices.pop(0)
        try:
            (series,) = await store.query(
                [statement], {"start": lo * NS_PER_MS, "end": hi * NS_PER_MS, **named},
                timeout_s=timeout_s)
        except StoreTruncatedError:
            if hi - lo <= MIN_SLICE_MS:
                raise
            middle = (lo + hi) // 2  # more readings than InfluxDB answers at once: halve
            slices[:0] = [(lo, middle), (middle, hi)]
            continue
        points = [point for point in seq_points(row for one in series for row in one.rows())
                  if (point[0], point[1]) in keys]
        tracker.add(points, min(hi - 1, settled_ms), end_ms)

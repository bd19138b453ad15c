"""Alerts of the live stream: derived from the data, so every client and a restarted API agree.

Kinds (docs/live.md): ``sensor_silent``, ``seq_gap``, ``dead_letter_spike``, ``daqi_high``,
``ingest_dropping``.
Each alert's ``id`` names its condition (kind and sensor or site) and ``since`` comes from
the readings, never from when this process first noticed. Only the ``cleared`` list is
this process's memory (:class:`AlertBook`): a condition that ended moves there for an hour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from api.air.daqi import SiteIndex
from api.air.queries import fetch_daqi_history
from api.clock import HOUR_MS, MINUTE_MS, london_text
from api.influx import InfluxStore, QueryParam
from api.live.sse import rfc3339_ms
from api.network.last_seen import LastSeen
from api.network.seq_gaps import SeqGap
from api.network.status import DEFAULT_INTERVAL_S, LATE_INTERVALS
from api.schemas import SensorStatus
from sensors.registry import Registry
from sensors.storage import Measurement
from sensors.timestamps import NS_PER_MS

Severity = Literal["warning", "critical"]

# Every alert id (docs/live.md): a kind and its sensor or site, or a kind alone.
ALERT_ID = re.compile(r"(?:(?:sensor_silent|seq_gap|daqi_high):[a-z0-9][a-z0-9_-]{0,62}"
                      r"|dead_letter_spike|ingest_dropping)")

CLEARED_KEEP_MS = HOUR_MS
SPIKE_RECENT_MS = 5 * MINUTE_MS
SPIKE_BASELINE_MS = HOUR_MS
SPIKE_MIN = 10
SPIKE_RATIO = 3
SPIKE_WALK_MS = 2 * HOUR_MS  # how far back the start of a spike is looked for
DAQI_HIGH = 7
DAQI_VERY_HIGH = 10
DAQI_WALK_MS = 24 * HOUR_MS

DEAD = Measurement.DEAD_LETTER


@dataclass(frozen=True, slots=True)
class Alert:
    """One condition that needs attention."""

    id: str
    kind: str
    severity: Severity
    site: str | None
    sensor: str | None
    message: str
    since_ms: int

    def to_json(self, cleared_at_ms: int | None = None) -> dict[str, Any]:
        """The wire shape (docs/live.md)."""
        return {
            "id": self.id, "kind": self.kind, "severity": self.severity,
            "site": self.site, "sensor": self.sensor, "message": self.message,
            "since": rfc3339_ms(self.since_ms),
            "cleared_at": rfc3339_ms(cleared_at_ms) if cleared_at_ms is not None else None,
        }


class AlertBook:
    """The active alerts, and those cleared in the last hour (this process's memory, which
    :meth:`restore` refills after a restart from the stored history)."""

    def __init__(self) -> None:
        self._active: dict[str, Alert] = {}
        self._cleared: dict[str, tuple[Alert, int]] = {}
        self.raised: list[Alert] = []
        """The alerts the last :meth:`update` found new."""
        self.ended: list[Alert] = []
        """The alerts the last :meth:`update` moved to ``cleared``."""

    def active(self, alert_id: str) -> Alert | None:
        """The active alert with this id, if there is one."""
        return self._active.get(alert_id)

    def restore(self, cleared: Iterable[tuple[Alert, int]], now_ms: int) -> None:
        """Alerts cleared within the last hour (from the history), unless active again."""
        for alert, at_ms in cleared:
            if alert.id not in self._active and now_ms - at_ms <= CLEARED_KEEP_MS:
                self._cleared.setdefault(alert.id, (alert, at_ms))

    def since(self, alert_id: str) -> int | None:
        """``since`` of an active alert (so that an expensive derivation runs once)."""
        active = self._active.get(alert_id)
        return active.since_ms if active else None

    def update(self, alerts: Iterable[Alert], now_ms: int) -> dict[str, Any]:
        """Replace the active set; alerts that vanished move to ``cleared``.

        Returns:
            The ``alerts`` event payload without ``at``: ``active`` (critical first, then
            oldest first) and ``cleared`` (most recently cleared first).
        """
        current = {alert.id: alert for alert in alerts}
        self.raised = [alert for alert_id, alert in current.items()
                       if alert_id not in self._active]
        self.ended = [alert for alert_id, alert in self._active.items()
                      if alert_id not in current]
        for alert in self.ended:
            self._cleared[alert.id] = (alert, now_ms)
        for alert_id in current:
            self._cleared.pop(alert_id, None)
        self._cleared = {key: value for key, value in self._cleared.items()
                         if now_ms - value[1] <= CLEARED_KEEP_MS}
        self._active = current
        active = sorted(current.values(),
                        key=lambda a: (a.severity != "critical", a.since_ms, a.id))
        cleared = sorted(self._cleared.values(), key=lambda item: (-item[1], item[0].id))
        return {"active": [alert.to_json() for alert in active],
                "cleared": [alert.to_json(at) for alert, at in cleared]}


def silent_alerts(statuses: Sequence[SensorStatus], seen: Mapping[str, LastSeen]) -> list[Alert]:
    """``sensor_silent`` for silent sensors that were seen within the last-seen lookback.

    A sensor never seen is silent too, but raising it would fill an empty or new
    database's screen with alerts that say nothing new; the sensors panel shows it.
    """
    alerts = []
    for status in statuses:
        last = seen.get(status.id)
        if status.status != "silent" or last is None:
            continue
        interval_s = status.interval_s or DEFAULT_INTERVAL_S
        alerts.append(Alert(
            id=f"sensor_silent:{status.id}", kind="sensor_silent", severity="warning",
            site=status.site, sensor=status.id,
            message=f"{status.id}: no reading since {london_text(last.time_ms)} "
                    f"(expected every {interval_s} s)",
            since_ms=last.time_ms + LATE_INTERVALS * interval_s * 1000,
        ))
    return alerts


def seq_gap_alerts(gaps: Iterable[SeqGap]) -> list[Alert]:
    """``seq_gap`` per sensor that lost messages before the broker (the gaps: the
    last-seen index's :class:`api.network.seq_gaps.SeqTracker`)."""
    return [Alert(
        id=f"seq_gap:{gap.sensor}", kind="seq_gap", severity="warning",
        site=gap.site, sensor=gap.sensor,
        message=f"{gap.sensor}: {gap.lost} message{'s' if gap.lost != 1 else ''} lost "
                "in the last hour (seq skipped values)",
        since_ms=gap.first_gap_ms,
    ) for gap in gaps]


@dataclass(frozen=True, slots=True)
class DeadLetterCounts:
    """Dead letters in the last 5 minutes, in the hour before, and per minute (for ``since``)."""

    recent: int
    baseline: int
    per_minute: Mapping[int, int]


def spiking(recent: int, baseline: int) -> bool:
    """More than 10 in 5 minutes and more than 3x the hour's 5-minute average."""
    per_5m = baseline * SPIKE_RECENT_MS / SPIKE_BASELINE_MS
    return recent > SPIKE_MIN and recent > SPIKE_RATIO * per_5m


async def fetch_dead_letters(store: InfluxStore, now_ms: int) -> DeadLetterCounts:
    """Counts for :func:`dead_letter_alert` (three statements, one request).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    first_minute = (now_ms - SPIKE_WALK_MS - SPIKE_BASELINE_MS - SPIKE_RECENT_MS) // MINUTE_MS
    params: dict[str, QueryParam] = {
        "now": now_ms * NS_PER_MS, "recent": (now_ms - SPIKE_RECENT_MS) * NS_PER_MS,
        "base": (now_ms - SPIKE_RECENT_MS - SPIKE_BASELINE_MS) * NS_PER_MS,
        "walk": first_minute * MINUTE_MS * NS_PER_MS,
    }
    recent, baseline, minutes = await store.query([
        f"SELECT count(topic) FROM {DEAD} WHERE time >= $recent AND time < $now",  # noqa: S608
        f"SELECT count(topic) FROM {DEAD} WHERE time >= $base AND time < $recent",  # noqa: S608
        f"SELECT count(topic) FROM {DEAD} WHERE time >= $walk AND time < $now "  # noqa: S608
        "GROUP BY time(1m) fill(none)",
    ], params)
    per_minute = {int(row[0]): int(row[1]) for s in minutes for row in s.values if row[1]}
    return DeadLetterCounts(_count(recent), _count(baseline), per_minute)


def _count(series: list[Any]) -> int:
    return sum(int(row[1] or 0) for s in series for row in s.values)


def spike_since(per_minute: Mapping[int, int], now_ms: int) -> int:
    """When the running spike began, from per-minute counts (epoch ms keys).

    The condition is re-evaluated at each minute boundary going back from now while it
    held; the start is the first minute with dead letters in the earliest such window.
    """
    def window(end: int, length: int) -> int:
        return sum(per_minute.get(m, 0) for m in range(end - length, end, MINUTE_MS))

    end = now_ms // MINUTE_MS * MINUTE_MS + MINUTE_MS
    earliest = end
    boundary = end
    while boundary > now_ms - SPIKE_WALK_MS:
        recent = window(boundary, SPIKE_RECENT_MS)
        if not spiking(recent, window(boundary - SPIKE_RECENT_MS, SPIKE_BASELINE_MS)):
            break
        earliest = boundary
        boundary -= MINUTE_MS
    minutes = range(earliest - SPIKE_RECENT_MS, earliest, MINUTE_MS)
    return next((m for m in minutes if per_minute.get(m, 0)), earliest - SPIKE_RECENT_MS)


def dead_letter_alert(counts: DeadLetterCounts, now_ms: int) -> Alert | None:
    """``dead_letter_spike`` when :func:`spiking` holds for the exact windows ending now."""
    if not spiking(counts.recent, counts.baseline):
        return None
    per_5m = counts.baseline * SPIKE_RECENT_MS / SPIKE_BASELINE_MS
    return Alert(
        id="dead_letter_spike", kind="dead_letter_spike", severity="warning",
        site=None, sensor=None,
        message=f"{counts.recent} dead letters in the last 5 min "
                f"(previous hour: {per_5m:.1f} per 5 min)",
        since_ms=min(spike_since(counts.per_minute, now_ms), now_ms),
    )


def daqi_severity(index: int | None) -> Severity | None:
    """``warning`` for High (7-9), ``critical`` for Very High (10), else None."""
    if index is None or index < DAQI_HIGH:
        return None
    return "critical" if index >= DAQI_VERY_HIGH else "warning"


def daqi_alert(site: SiteIndex, since_ms: int) -> Alert | None:
    """``daqi_high`` for one site, when its overall index is High or Very High."""
    severity = daqi_severity(site.overall_index)
    if severity is None:
        return None
    return Alert(
        id=f"daqi_high:{site.site}", kind="daqi_high", severity=severity,
        site=site.site, sensor=None,
        message=f"{site.site}: DAQI {site.overall_index} ({site.overall_band}), "
                f"from {', '.join(site.driven_by)}",
        since_ms=since_ms,
    )


async def daqi_since(store: InfluxStore, site: str, now_ms: int,
                     registry: Registry | None = None) -> int:
    """The start of the UTC hour in which the site's index last rose to High (24 h at most).

    That is the latest whole hour at which the hourly index was below High (or unknown);
    when it was High at every hour of the last day, the earliest of those hours.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    history = (await fetch_daqi_history(store, [site], now_ms - DAQI_WALK_MS, now_ms + 1,
                                        registry))[0].get(site, [])
    if not history:
        return now_ms // HOUR_MS * HOUR_MS
    for hour in reversed(history):
        if daqi_severity(hour.overall_index) is None:
            return hour.at_ms
    return history[0].at_ms


def dropping_alert(pipeline: Mapping[str, Any], since_ms: int) -> Alert | None:
    """``ingest_dropping`` while an ingestor drops QoS 0 messages (its spool is full)."""
    rate = pipeline.get("dropped_per_s")
    if not rate:
        return None
    return Alert(
        id="ingest_dropping", kind="ingest_dropping", severity="critical", site=None,
        sensor=None, since_ms=since_ms,
        message=f"an ingestor is dropping QoS 0 messages ({rate:.1f}/s): InfluxDB is not "
                "taking writes and the spool is full",
    )

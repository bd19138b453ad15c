"""The alert lifecycle: acknowledgements, silences, history and notifications.

Alerts themselves come from the data (:mod:`api.live.alerts`); what people did about them,
and when each began and ended, is kept in the ``alert_events`` measurement (schema:
:mod:`sensors.storage`), so that it survives a restart of the API and every process
agrees. docs/live.md, "Alert lifecycle", has the rules:

- an acknowledgement (who: the key's name; when; an optional note) holds for the
  occurrence it was given for: until the alert clears, or until its ``since`` moves past
  the acknowledgement (the condition began again);
- a silence holds until its time, whether the alert clears and returns or not; a silenced
  alert sends no notifications and does not count as needing attention;
- raised and cleared alerts are written as they happen (a raised event is stamped with
  the alert's ``since``, so an API restarted on the same condition rewrites the same
  point and sends no second notification).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.errors import StoreError
from api.influx import InfluxStore, QueryParam
from api.live.alerts import Alert
from api.live.notifications import notification
from api.live.sse import rfc3339_ms
from api.webhook import Delivery, Notifier
from sensors.lineprotocol import point_line
from sensors.storage import Measurement
from sensors.timestamps import NS_PER_MS
from sensors.timestamps import now_ms as clock_ms

logger = logging.getLogger(__name__)

EVENTS = Measurement.ALERT_EVENTS
LOOKBACK_MS = 30 * 86_400_000
"""How far back the lifecycle is read at start-up (silences are at most this long)."""
HISTORY_LIMIT = 1000
_ALL_SINCE = (f"SELECT * FROM {EVENTS} WHERE time >= $start AND time < $end "  # noqa: S608
              "GROUP BY alert_id, event")


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Someone saw the alert and is on it."""

    by: str
    at_ms: int
    note: str | None


@dataclass(frozen=True, slots=True)
class Silence:
    """No notifications and no attention for an alert until ``until_ms``."""

    until_ms: int
    by: str
    at_ms: int
    note: str | None


def _alert_fields(alert: Alert) -> dict[str, Any]:
    return {"kind": alert.kind, "severity": alert.severity, "site": alert.site,
            "sensor": alert.sensor, "message": alert.message, "since_ms": alert.since_ms}


def _alert_from(alert_id: str, row: Mapping[str, Any]) -> Alert:
    return Alert(id=alert_id, kind=str(row.get("kind") or alert_id.split(":")[0]),
                 severity="critical" if row.get("severity") == "critical" else "warning",
                 site=row.get("site") or None, sensor=row.get("sensor") or None,
                 message=str(row.get("message") or ""),
                 since_ms=int(row.get("since_ms") or row["time"]))


class AlertLedger:
    """What happened to alerts, in memory and in ``alert_events``."""

    def __init__(self, store: InfluxStore, notifier: Notifier | None = None) -> None:
        self._store = store
        self._notifier = notifier
        self._acks: dict[str, Acknowledgement] = {}
        self._silences: dict[str, Silence] = {}
        self._cleared_at: dict[str, int] = {}
        self._raised_since: dict[str, int] = {}
        self._loaded = False
        self._writes: set[asyncio.Task[None]] = set()
        self._write_failing = False

    @property
    def loaded(self) -> bool:
        """Whether the stored lifecycle has been read."""
        return self._loaded

    async def load(self, now_ms: int) -> list[tuple[Alert, int]]:
        """Read the last 30 days of events (once); the alerts cleared within the hour.

        Raises:
            StoreError: InfluxDB could not answer (the next tick tries again).
        """
        rows = await self._rows(now_ms - LOOKBACK_MS, now_ms + 86_400_000, None)
        cleared: dict[str, tuple[Alert, int]] = {}
        for alert_id, event, row in rows:
            at_ms = int(row["time"])
            if event == "raised":
                self._raised_since[alert_id] = int(row.get("since_ms") or at_ms)
                cleared.pop(alert_id, None)
            elif event == "cleared":
                self._cleared_at[alert_id] = at_ms
                cleared[alert_id] = (_alert_from(alert_id, row), at_ms)
            elif event == "acknowledged":
                self._acks[alert_id] = Acknowledgement(str(row.get("by") or ""), at_ms,
                                                       row.get("note") or None)
            elif event == "silenced":
                self._silences[alert_id] = Silence(int(row.get("until_ms") or 0),
                                                   str(row.get("by") or ""), at_ms,
                                                   row.get("note") or None)
            elif event == "unsilenced":
                self._silences.pop(alert_id, None)
        self._loaded = True
        return list(cleared.values())

    async def _rows(self, start_ms: int, end_ms: int, alert_id: str | None
                    ) -> list[tuple[str, str, dict[str, Any]]]:
        params: dict[str, QueryParam] = {"start": start_ms * NS_PER_MS,
                                         "end": end_ms * NS_PER_MS}
        statement = _ALL_SINCE
        if alert_id is not None:
            statement = statement.replace("WHERE ", "WHERE alert_id = $alert AND ", 1)
            params["alert"] = alert_id
        (series,) = await self._store.query([statement], params, own=True)
        rows = [(one.tags.get("alert_id", ""), one.tags.get("event", ""), row)
                for one in series for row in one.rows()]
        return sorted(rows, key=lambda item: (int(item[2]["time"]), item[1]))

    def acknowledgement(self, alert: Alert) -> Acknowledgement | None:
        """The acknowledgement that holds for this occurrence of ``alert``, if any."""
        ack = self._acks.get(alert.id)
        if ack is None or ack.at_ms < alert.since_ms:
            return None
        return ack if self._cleared_at.get(alert.id, -1) <= ack.at_ms else None

    def silence(self, alert_id: str, now_ms: int) -> Silence | None:
        """The silence in force for ``alert_id``, if any."""
        found = self._silences.get(alert_id)
        return found if found is not None and found.until_ms > now_ms else None

    def decorate(self, payload: Mapping[str, Any], book_active: Mapping[str, Alert],
                 now_ms: int) -> dict[str, Any]:
        """The ``alerts`` event with each alert's ``acknowledged`` and ``silenced``."""
        def one(item: Mapping[str, Any]) -> dict[str, Any]:
            alert = book_active.get(item["id"])
            ack = self.acknowledgement(alert) if alert is not None else None
            quiet = self.silence(item["id"], now_ms)
            return {**item,
                    "acknowledged": None if ack is None else {
                        "by": ack.by, "at": rfc3339_ms(ack.at_ms), "note": ack.note},
                    "silenced": None if quiet is None else {
                        "until": rfc3339_ms(quiet.until_ms), "by": quiet.by,
                        "at": rfc3339_ms(quiet.at_ms), "note": quiet.note}}

        active = [one(item) for item in payload["active"]]
        return {**payload, "active": active,
                "cleared": [one(item) for item in payload["cleared"]],
                "attention": sum(1 for item in active
                                 if not item["acknowledged"] and not item["silenced"])}

    async def acknowledge(self, alert: Alert, by: str, note: str | None,
                          now_ms: int) -> Acknowledgement:
        """Record an acknowledgement of the active ``alert`` (and notify).

        Raises:
            StoreError: InfluxDB did not take it (nothing changed).
        """
        await self._write([self._line(alert.id, "acknowledged", now_ms, {
            **_alert_fields(alert), "by": by, "note": note})])
        ack = Acknowledgement(by, now_ms, note)
        self._acks[alert.id] = ack
        self._notify("acknowledged", alert, now_ms, by, note)
        return ack

    async def silence_until(self, alert_id: str, alert: Alert | None, until_ms: int, by: str,
                            note: str | None, now_ms: int) -> Silence:
        """Silence ``alert_id`` until ``until_ms``.

        Raises:
            StoreError: InfluxDB did not take it (nothing changed).
        """
        fields = _alert_fields(alert) if alert is not None else {}
        await self._write([self._line(alert_id, "silenced", now_ms, {
            **fields, "until_ms": until_ms, "by": by, "note": note})])
        quiet = Silence(until_ms, by, now_ms, note)
        self._silences[alert_id] = quiet
        return quiet

    async def unsilence(self, alert_id: str, by: str, now_ms: int) -> None:
        """End the silence of ``alert_id`` now.

        Raises:
            StoreError: InfluxDB did not take it (nothing changed).
        """
        await self._write([self._line(alert_id, "unsilenced", now_ms, {"by": by})])
        self._silences.pop(alert_id, None)

    def observe(self, raised: Sequence[Alert], ended: Sequence[Alert], now_ms: int) -> None:
        """Record what the poller found new or ended, and notify; returns at once."""
        lines = []
        for alert in raised:
            if self._raised_since.get(alert.id) == alert.since_ms:
                continue  # the same occurrence, seen again after a restart
            self._raised_since[alert.id] = alert.since_ms
            lines.append(self._line(alert.id, "raised", alert.since_ms, _alert_fields(alert)))
            if self.silence(alert.id, now_ms) is None:
                self._notify("raised", alert, now_ms)
        for alert in ended:
            self._cleared_at[alert.id] = now_ms
            lines.append(self._line(alert.id, "cleared", now_ms, _alert_fields(alert)))
            if self.silence(alert.id, now_ms) is None:
                self._notify("cleared", alert, now_ms, cleared_at_ms=now_ms)
        if lines:
            self._background(self._write(lines))

    async def history(self, start_ms: int, end_ms: int, alert_id: str | None
                      ) -> list[dict[str, Any]]:
        """Events in [start, end), newest first (at most :data:`HISTORY_LIMIT`).

        Raises:
            StoreError: InfluxDB could not answer.
        """
        rows = await self._rows(start_ms, end_ms, alert_id)
        events = []
        for one_id, event, row in reversed(rows[-HISTORY_LIMIT:]):
            since, until = row.get("since_ms"), row.get("until_ms")
            events.append({
                "at": rfc3339_ms(int(row["time"])), "alert_id": one_id, "event": event,
                "kind": row.get("kind") or one_id.split(":")[0],
                "severity": row.get("severity") or None, "site": row.get("site") or None,
                "sensor": row.get("sensor") or None, "message": row.get("message") or None,
                "since": rfc3339_ms(int(since)) if since is not None else None,
                "until": rfc3339_ms(int(until)) if until is not None else None,
                "by": row.get("by") or None, "note": row.get("note") or None,
                "attempts": int(row["attempts"]) if row.get("attempts") is not None else None,
            })
        return events

    async def record_delivery(self, delivery: Delivery) -> None:
        """Write how a notification ended into the history (the notifier calls it)."""
        alert = delivery.body.get("alert", {})
        event = "notified" if delivery.delivered else "notify_failed"
        note = f"{delivery.body.get('event')} notification" + (
            f": {delivery.error}" if delivery.error else "")
        await self._write([self._line(str(alert.get("id", "")), event, clock_ms(), {
            "kind": alert.get("kind"), "message": delivery.body.get("text"),
            "attempts": delivery.attempts, "note": note})])

    async def aclose(self) -> None:
        """Wait for the writes under way (bounded by the store's time-out)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _line(self, alert_id: str, event: str, at_ms: int, fields: Mapping[str, Any]) -> str:
        line = point_line(EVENTS, {"alert_id": alert_id, "event": event},
                          {"kind": alert_id.split(":")[0], **fields}, at_ms)
        assert line is not None  # kind is always there
        return line

    async def _write(self, lines: list[str]) -> None:
        await self._store.write(lines, precision="ms")

    def _background(self, job: Any) -> None:
        async def run() -> None:
            try:
                await job
                if self._write_failing:
                    logger.info("alert history is being written again")
                self._write_failing = False
            except StoreError as exc:
                if not self._write_failing:  # once per outage, not every tick
                    logger.warning("could not write the alert history: %s", exc.message)
                self._write_failing = True

        task = asyncio.get_running_loop().create_task(run())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def _notify(self, event: str, alert: Alert, now_ms: int, by: str | None = None,
                note: str | None = None, cleared_at_ms: int | None = None) -> None:
        if self._notifier is not None:
            self._notifier.send(notification(event, alert, now_ms, by, note, cleared_at_ms))

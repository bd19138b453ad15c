"""The ``sensors`` event as the full list once, then changes only (docs/live.md).

At 30,000 sensors the full list is about 5 MB: sent on every tick it was most of the
stream. Each tick now sends the counts and the sensors whose entry changed in a way the
dashboard shows: status, flags, site, domain, interval, format, and ``last_seen`` of a
sensor that is not reporting (a reporting sensor's reading time moves every interval; the
client knows it is within two intervals). ``rev`` numbers the lists; a change event
applies to the list of its ``base`` rev.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.live.subscription import Event

Entry = Mapping[str, Any]


def _signature(entry: Entry) -> tuple[Any, ...]:
    status = entry["status"]
    return (status, None if status == "reporting" else entry["last_seen"], entry["site"],
            entry["domain"], entry["interval_s"], entry["registered"], entry["simulated"],
            entry["retired"], entry["source_format"])


class SensorsFeed:
    """The latest full list and the change from the list before it."""

    def __init__(self) -> None:
        self.rev = 0
        self.full: Event | None = None
        self._signatures: dict[str, tuple[Any, ...]] = {}

    def update(self, at: str, panel: Mapping[str, Any]) -> Event:
        """Take a tick's ``sensors`` payload (:func:`api.live.state.sensors_panel`): keep it
        as :attr:`full` and answer the change event."""
        sensors: list[Entry] = panel["sensors"]
        signatures = {entry["id"]: _signature(entry) for entry in sensors}
        before = self._signatures
        changed = [entry for entry in sensors
                   if before.get(entry["id"]) != signatures[entry["id"]]]
        removed = [sensor for sensor in before if sensor not in signatures]
        self.rev += 1
        self._signatures = signatures
        head = {"at": at, "rev": self.rev, "counts": panel["counts"],
                "set_aside": panel["set_aside"]}
        self.full = Event("sensors", {**head, "full": True, "sensors": sensors})
        return Event("sensors", {**head, "full": False, "base": self.rev - 1,
                                 "changed": changed, "removed": removed})

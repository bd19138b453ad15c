"""Bad input: logged once per topic and reason, stored as ``dead_letter`` points, counted.

Every bad message becomes its own point: dead letters get strictly increasing nanosecond
timestamps, so two arriving in the same nanosecond never overwrite each other, and the tag
``ingestor`` (the client id) keeps the series of several ingestors apart. A retained
message is the exception: the broker hands the same one out again to a new subscription,
so a bad retained message is stored once per topic and content, however often it comes.
One that InfluxDB still refuses is appended to ``$SMARTPLACE_SPOOL_DIR/quarantine.jsonl``
and logged as an error, so nothing vanishes unseen.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from ingest.metrics import IngestStats
from ingest.retry import Retrier
from ingest.store import InfluxStore
from sensors.lineprotocol import dead_letter_line

log = logging.getLogger(__name__)

_LOGGED_TOPICS_CAP = 10_000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One bad message on its way to the ``dead_letter`` measurement."""

    topic: str
    payload: bytes
    reason: str
    domain: str | None
    detail: str
    retained: bool = False


class DeadLetterWriter:
    """Stores dead letters through the ingestor's store (writer thread only)."""

    def __init__(self, store: InfluxStore, retrier: Retrier, stats: IngestStats,
                 spool_dir: Path, ingestor: str) -> None:
        self._store = store
        self._ingestor = ingestor  # tags each dead letter: ingestors never share a series
        self._retrier = retrier
        self._stats = stats
        self._spool_dir = spool_dir
        self._last_ns = 0
        self._logged: set[tuple[str, str]] = set()
        self._retained: set[tuple[str, bytes]] = set()  # (topic, sha256) already stored

    def log_once(self, topic: str, reason: str, detail: str) -> None:
        """Log bad input once per topic and reason (MQTT thread), never once per message."""
        key = (topic, reason)
        if key in self._logged or len(self._logged) >= _LOGGED_TOPICS_CAP:
            return
        self._logged.add(key)
        log.warning(
            "bad input sent to dead letters (logged once per topic and reason)",
            extra={"topic": topic, "reason": reason, "detail": detail},
        )

    def store(self, dead: list[DeadLetter], timestamps: list[int] | None = None) -> None:
        """Write the dead letters; quarantine any InfluxDB refuses.

        Args:
            dead: the bad messages.
            timestamps: their timestamps (ns), each unique; default: strictly increasing
                receipt times. ``smartplace import`` gives each row's its own, the same in
                every run over the same file, so that a re-import overwrites them.

        Raises:
            ShutdownTimeoutError: the store stayed down through the shutdown grace period.
        """
        stamps = timestamps if timestamps is not None else [self._next_ns() for _ in dead]
        kept = [(one, ts_ns) for one, ts_ns in zip(dead, stamps, strict=True)
                if not self._seen_retained(one)]
        dead = [one for one, _ in kept]
        lines = [dead_letter_line(reason=one.reason, domain=one.domain, topic=one.topic,
                                  payload=one.payload, detail=one.detail, ts_ns=ts_ns,
                                  ingestor=self._ingestor)
                 for one, ts_ns in kept]
        refused = self._retrier.run(lambda: self._store.write_keeping_good(lines))
        for index, message in refused.items():
            self._quarantine(dead[index], message)
        for one in dead:
            self._stats.dead_letters[one.reason] += 1

    def _seen_retained(self, dead: DeadLetter) -> bool:
        if not dead.retained:
            return False
        key = (dead.topic, hashlib.sha256(dead.payload).digest())
        if key in self._retained:
            return True
        if len(self._retained) < _LOGGED_TOPICS_CAP:
            self._retained.add(key)
        return False

    def _next_ns(self) -> int:
        # Strictly increasing, so two dead letters never share series and timestamp.
        self._last_ns = max(time.time_ns(), self._last_ns + 1)
        return self._last_ns

    def _quarantine(self, dead: DeadLetter, error: str) -> None:
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        record = {"topic": dead.topic, "payload": dead.payload.decode("utf-8", "replace"),
                  "error": error, "at_ns": time.time_ns()}
        with (self._spool_dir / "quarantine.jsonl").open("ab") as handle:
            handle.write(orjson.dumps(record) + b"\n")
        log.error("dead letter refused by InfluxDB; kept in the spool", extra=record)

"""The history of every cumulative device's register, durable, in SQLite under the spool dir.

Why it exists: a cumulative reading's energy is the increase since the device's previous
reading *by time* (:mod:`sensors.formats.cumulative`), and a replay, a redelivery after a
crash, or an import must store exactly the same point again. So no state may live only
in memory: each (device, time, register value) goes into
``$SMARTPLACE_SPOOL_DIR/registers.sqlite3`` as it is decoded, in a transaction that is
committed (:meth:`RegisterHistory.commit`) before any message of the batch is
acknowledged. A crash before the commit loses only rows of unacknowledged messages, which
the broker redelivers in order, so they are computed again from the same history; a
commit per batch rather than per message keeps the cost of a cumulative reading low.
SQLite in WAL mode with ``synchronous=NORMAL`` keeps a committed transaction through a
crash of the process (``kill -9``); a power cut may lose the last ones (``synchronous=FULL``
would not, at the cost of an fsync per batch). Each point also carries its
``register_kwh``, so the history can be rebuilt from InfluxDB if this file is lost.

One row per reading (about 40 bytes): a meter reporting every minute adds about 20 MB a
year. Several processes (the ingestor and ``smartplace import``) may share the file.

Each device's newest reading is also kept in memory, as a cache of the file (never in its
place: every reading is committed before it is used): a reading newer than it, the usual
case, needs no query. The cache assumes no other process adds a *newer* reading of the
same device meanwhile (an import of history older than the live readings is fine).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from ingest.errors import StateStoreError
from ingest.statedb import open_state_db
from sensors.formats.cumulative import RegisterReading

FILE_NAME = "registers.sqlite3"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS registers (device TEXT NOT NULL, ts_ms INTEGER NOT NULL, "
    "value_kwh REAL NOT NULL, PRIMARY KEY (device, ts_ms)) WITHOUT ROWID"
)


class RegisterHistory:
    """Every cumulative device's register readings, ordered by time (thread-safe)."""

    def __init__(self, spool_dir: Path) -> None:
        self.path = spool_dir / FILE_NAME
        self._db = open_state_db(self.path, _SCHEMA)
        self._lock = threading.Lock()
        self._newest: dict[str, RegisterReading] = {}

    def record(self, device: str, reading: RegisterReading
               ) -> tuple[RegisterReading | None, RegisterReading | None]:
        """Store ``reading`` (replacing one at the same time) and return the device's
        readings just before and just after it in time.

        Raises:
            StateStoreError: the file cannot be written (the message is then neither
                stored nor acknowledged).
        """
        with self._lock:
            newest = self._newest.get(device)
            try:
                if newest is not None and reading.ts_ms > newest.ts_ms:
                    before: RegisterReading | None = newest
                    after: RegisterReading | None = None
                else:
                    before, after = self._neighbours(device, reading.ts_ms)
                if not self._db.in_transaction:
                    self._db.execute("BEGIN")
                self._db.execute("INSERT OR REPLACE INTO registers VALUES (?, ?, ?)",
                                 (device, reading.ts_ms, reading.value_kwh))
            except sqlite3.Error as exc:
                raise StateStoreError(f"cannot write {self.path}: {exc}") from exc
            if after is None:
                self._newest[device] = reading
        return before, after

    def commit(self) -> None:
        """Make every recorded reading durable (before their messages are acknowledged).

        Raises:
            StateStoreError: the commit failed; nothing may be acknowledged.
        """
        with self._lock:
            try:
                if self._db.in_transaction:
                    self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StateStoreError(f"cannot commit {self.path}: {exc}") from exc

    def _neighbours(self, device: str, ts_ms: int
                    ) -> tuple[RegisterReading | None, RegisterReading | None]:
        rows = self._db.execute(
            "SELECT * FROM (SELECT 0, ts_ms, value_kwh FROM registers WHERE device = ?1 "
            "AND ts_ms < ?2 ORDER BY ts_ms DESC LIMIT 1) UNION ALL SELECT * FROM (SELECT 1, "
            "ts_ms, value_kwh FROM registers WHERE device = ?1 AND ts_ms > ?2 "
            "ORDER BY ts_ms LIMIT 1)", (device, ts_ms)).fetchall()
        found = {side: RegisterReading(ts, value) for side, ts, value in rows}
        return found.get(0), found.get(1)

    def readings(self, device: str) -> list[RegisterReading]:
        """Every stored reading of ``device``, oldest first (for tests and diagnostics)."""
        with self._lock:
            rows = self._db.execute("SELECT ts_ms, value_kwh FROM registers WHERE device = ? "
                                    "ORDER BY ts_ms", (device,)).fetchall()
        return [RegisterReading(*row) for row in rows]

    def close(self) -> None:
        """Commit and close the database."""
        self.commit()
        with self._lock:
            self._db.close()

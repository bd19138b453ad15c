"""The history of every cumulative device's register, durable, in SQLite under the spool dir.

Why it exists: a cumulative reading's energy is the increase since the device's previous
reading *by time* (:mod:`sensors.formats.cumulative`), and a replay, a redelivery after a
crash, or an import must store exactly the same point again. So no state may live only
in memory: each (device, time, register value) is committed to
``$SMARTPLACE_SPOOL_DIR/registers.sqlite3`` before the reading's point is written, and the
predecessor and successor are looked up by time in the same transaction. SQLite in WAL
mode with ``synchronous=NORMAL`` keeps a committed row through a crash of the process
(``kill -9``); a power cut may lose the last transactions (use ``synchronous=FULL`` for that,
at a cost per message). Each point also carries its ``register_kwh``, so the history can be
rebuilt from InfluxDB if this file is lost.

One row per reading (about 40 bytes): a meter reporting every minute adds about 20 MB a
year. Several processes (the ingestor and ``smartplace import``) may share the file.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from ingest.errors import StateStoreError
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
        try:
            spool_dir.mkdir(parents=True, exist_ok=True)
            # autocommit mode: transactions are the explicit BEGIN/COMMIT below.
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                       timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StateStoreError(f"cannot open {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    def record(self, device: str, reading: RegisterReading
               ) -> tuple[RegisterReading | None, RegisterReading | None]:
        """Store ``reading`` (replacing one at the same time) and return the device's
        readings just before and just after it in time.

        Raises:
            StateStoreError: the file cannot be written (the message is then neither
                stored nor acknowledged).
        """
        with self._lock:
            try:
                db = self._db
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.execute("INSERT OR REPLACE INTO registers VALUES (?, ?, ?)",
                               (device, reading.ts_ms, reading.value_kwh))
                    before = db.execute(
                        "SELECT ts_ms, value_kwh FROM registers WHERE device = ? AND ts_ms < ? "
                        "ORDER BY ts_ms DESC LIMIT 1", (device, reading.ts_ms)).fetchone()
                    after = db.execute(
                        "SELECT ts_ms, value_kwh FROM registers WHERE device = ? AND ts_ms > ? "
                        "ORDER BY ts_ms ASC LIMIT 1", (device, reading.ts_ms)).fetchone()
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StateStoreError(f"cannot write {self.path}: {exc}") from exc
        return (None if before is None else RegisterReading(*before),
                None if after is None else RegisterReading(*after))

    def readings(self, device: str) -> list[RegisterReading]:
        """Every stored reading of ``device``, oldest first (for tests and diagnostics)."""
        with self._lock:
            rows = self._db.execute("SELECT ts_ms, value_kwh FROM registers WHERE device = ? "
                                    "ORDER BY ts_ms", (device,)).fetchall()
        return [RegisterReading(*row) for row in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

"""Which Sensor.Community body arrived when: so that a re-sent body is the same reading.

Sensor.Community readings are timed at receipt (contract 7.4). A body the receiver
answered 503 (the store went down while it waited) stays queued and is stored later; if
the firmware (or a proxy) sends the same body again, a second receipt time would store
the reading twice. So the first receipt time of each body is kept for
:data:`WINDOW_S` seconds, by the SHA-256 of the body: the same bytes again within the
window get the same time, hence the same point (an overwrite, not a duplicate). Two real
measurements never have the same body: it carries counters that change every cycle
(``samples``, ``min_micro``, ``max_micro``, ``signal``). Kept in SQLite under the spool dir,
so that an ingestor restart between the two sends changes nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

from ingest.errors import StateStoreError
from ingest.statedb import open_state_db

FILE_NAME = "receipts.sqlite3"
WINDOW_S = 900


class ReceiptLog:
    """First receipt times of recent bodies (thread-safe)."""

    def __init__(self, spool_dir: Path) -> None:
        self.path = spool_dir / FILE_NAME
        self._db = open_state_db(self.path, "CREATE TABLE IF NOT EXISTS receipts (digest TEXT "
                                            "PRIMARY KEY, received_ms INTEGER NOT NULL)")
        self._lock = threading.Lock()

    def received_at(self, body: bytes, now_ms: int) -> int:
        """The receipt time of ``body``: its first one within the window, else ``now_ms``.

        Raises:
            StateStoreError: the file cannot be written.
        """
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            try:
                db = self._db
                db.execute("BEGIN IMMEDIATE")
                db.execute("DELETE FROM receipts WHERE received_ms < ?",
                           (now_ms - WINDOW_S * 1000,))
                row = db.execute("SELECT received_ms FROM receipts WHERE digest = ?",
                                 (digest,)).fetchone()
                if row is None:
                    db.execute("INSERT INTO receipts VALUES (?, ?)", (digest, now_ms))
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StateStoreError(f"cannot write {self.path}: {exc}") from exc
        return now_ms if row is None else int(row[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

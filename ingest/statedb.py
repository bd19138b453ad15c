"""SQLite files of the ingestor's durable state under ``SMARTPLACE_SPOOL_DIR``.

WAL mode with ``synchronous=NORMAL``: a committed transaction survives a crash of the
process; one connection per file and process, shared by its threads under a lock, in
autocommit mode (transactions are explicit). Several processes may open the same file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ingest.errors import StateStoreError


def open_state_db(path: Path, schema: str) -> sqlite3.Connection:
    """Open (creating it and its folder if need be) a state file with its ``schema``.

    Raises:
        StateStoreError: the file cannot be opened or created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(schema)
    except (sqlite3.Error, OSError) as exc:
        raise StateStoreError(f"cannot open {path}: {exc}") from exc
    return db

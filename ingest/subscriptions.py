"""The ingestor's subscriptions across restarts: which filters to drop from the session.

The broker keeps a persistent session's subscriptions. When a devices file stops using a
format (or a device's topic changes), the old filter would go on delivering messages that
no format claims any more (stored as ``topic_invalid`` dead letters). So the filters of
each run are kept in ``$SMARTPLACE_SPOOL_DIR/subscriptions.json``, and the next run
unsubscribes the ones it no longer needs.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "subscriptions.json"


def stale_subscriptions(spool_dir: Path, topics: list[str]) -> list[str]:
    """The filters of the previous run that ``topics`` no longer has; records ``topics``."""
    path = spool_dir / FILE_NAME
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(previous, list):
            previous = []
    except (OSError, ValueError):
        previous = []
    try:
        spool_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(topics), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("cannot record the subscriptions", extra={"error": str(exc)})
    return [topic for topic in previous if isinstance(topic, str) and topic not in topics]

"""The body of a notification: what the webhook is sent when an alert changes.

One JSON shape for Slack, Teams and pagers alike (docs/live.md, "Notifications"); the
ledger (:mod:`api.live.lifecycle`) decides when one is sent.
"""

from __future__ import annotations

from typing import Any

from api.clock import london_text
from api.live.alerts import Alert
from api.live.sse import rfc3339_ms

KIND_LABELS = {
    "sensor_silent": "Sensor silent", "seq_gap": "Messages lost",
    "dead_letter_spike": "Dead-letter spike", "daqi_high": "Air quality high",
    "ingest_dropping": "Ingest dropping messages",
}


def notification(event: str, alert: Alert, at_ms: int, by: str | None = None,
                 note: str | None = None, cleared_at_ms: int | None = None) -> dict[str, Any]:
    """The JSON body posted to the webhook (docs/live.md, "Notifications")."""
    severity = "Critical" if alert.severity == "critical" else "Warning"
    label = KIND_LABELS.get(alert.kind, alert.kind)
    lead = {"raised": f"{severity}: {label}", "cleared": f"Cleared: {label}",
            "acknowledged": f"Acknowledged by {by}: {label}"}.get(event, f"{event}: {label}")
    return {
        "source": "smartplace", "event": event, "at": rfc3339_ms(at_ms),
        "at_london": london_text(at_ms), "by": by, "note": note,
        "text": f"{lead}: {alert.message} (since {london_text(alert.since_ms)})",
        "alert": {**alert.to_json(cleared_at_ms), "since_london": london_text(alert.since_ms)},
    }

"""The demo's history: yesterday and today so far, published once before the live readings.

Without it the emissions of the last 24 hours stay near zero for the first minutes of a
demo. The demo runs ``smartplace simulate --start <yesterday 00:00 London> --json`` as a one-shot
child: backfill mode publishes as fast as the broker acknowledges and stops on reaching
the present. A demo restarted while InfluxDB still holds readings from the last 24 hours
skips it, so that restarting never publishes overlapping history twice (a demo that was
off for a while shows that gap, as a real network would).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from sensors.settings import Settings

LONDON = ZoneInfo("Europe/London")
BACKFILL_SEED = 1
#: Readings this recent mean an earlier demo run (or another publisher) is feeding the
#: database already.
RECENT_QUERY = "SELECT count(energy_kwh) FROM energy WHERE time > now() - 24h"
QUERY_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class BackfillSummary:
    """The part of the simulator's ``--json`` summary the demo reports.

    Attributes:
        readings: valid readings the broker acknowledged.
        failed: messages refused or unacknowledged.
        elapsed_s: how long the backfill took.
        interrupted: stopped by a signal before reaching the present.
    """

    readings: int
    failed: int
    elapsed_s: float
    interrupted: bool


def backfill_start(now: datetime) -> datetime:
    """Midnight (Europe/London) at the start of yesterday, in UTC.

    A whole yesterday, not just the last 24 hours, so that the dashboard's "carbon today
    against the same time yesterday" compares two complete stretches of data.
    """
    yesterday = (now.astimezone(LONDON) - timedelta(days=1)).date()
    return datetime.combine(yesterday, time(0), tzinfo=LONDON).astimezone(UTC)


def backfill_args(now: datetime) -> list[str]:
    """The ``smartplace`` arguments of a backfill from the start of yesterday to ``now``.

    Args:
        now: an aware datetime, usually the current time.

    Returns:
        ``simulate --start <RFC 3339 UTC> --seed <k> --grid --json``.
    """
    start = backfill_start(now)
    return ["simulate", "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--seed", str(BACKFILL_SEED), "--grid", "--json"]


def has_recent_readings(settings: Settings, influx_url: str) -> bool:
    """True when the database holds energy readings from the last 24 hours.

    Any failure (no server, no database yet, refused credentials, an odd answer) counts
    as "no readings": at worst the demo backfills a database it could not read.

    Args:
        settings: the database name and the InfluxDB credentials.
        influx_url: the InfluxDB the demo uses (it may have started it itself).
    """
    headers, auth_params = settings.influx_auth()
    params = {**auth_params, "db": settings.influx_database, "q": RECENT_QUERY}
    try:
        response = httpx.get(f"{influx_url}/query", params=params, headers=headers,
                             timeout=QUERY_TIMEOUT_S)
        response.raise_for_status()
        series = response.json()["results"][0].get("series", [])
        return bool(series) and int(series[0]["values"][0][1]) > 0
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return False


def read_summary(log_path: Path) -> BackfillSummary | None:
    """The summary the backfill printed, or None when its log holds none."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    # Warnings on stderr share the log: the summary is the last line that parses as one.
    for line in reversed(lines):
        if not line.startswith("{"):
            continue
        try:
            report = json.loads(line)
            return BackfillSummary(
                readings=sum(int(n) for n in report["by_domain"].values()),
                failed=int(report["failed"]),
                elapsed_s=float(report["elapsed_s"]),
                interrupted=bool(report["interrupted"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return None


def describe(summary: BackfillSummary) -> str:
    """One line for the console: how many readings, how long, and anything unusual."""
    notes = [note for flagged, note in (
        (summary.interrupted, "stopped before the present"),
        (summary.failed > 0, f"{summary.failed} not acknowledged"),
    ) if flagged]
    return (f"backfilled {summary.readings} readings in {summary.elapsed_s:.1f}s"
            + (f" ({', '.join(notes)})" if notes else ""))

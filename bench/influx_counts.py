"""How much a peer has stored: readings counted in InfluxDB, and its cheap write counter.

The Node-RED peer (:mod:`bench.nodered_peer`) polls :func:`points_written` while it
writes and counts :func:`stored_readings` once it has stopped.
"""

from __future__ import annotations

from typing import Any

import httpx


def _query(influx_url: str, params: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{influx_url}/query", params=params,
                                       timeout=30).json()["results"][0]
    if "error" in result:
        raise SystemExit(f"benchmark: InfluxDB query {params['q']!r} failed: {result['error']}")
    return result


def stored_readings(influx_url: str, database: str) -> int:
    """Points with a ``seq`` field in the three reading measurements."""
    result = _query(influx_url, {
        "db": database, "q": "SELECT count(seq) FROM energy, transport, air_quality"})
    return sum(int(series["values"][0][1]) for series in result.get("series", []))


def points_written(influx_url: str, database: str) -> int:
    """Points InfluxDB has accepted into the database's shards since it started.

    About 2 ms of influxd's CPU, where a count over 100,000 points costs about 65 ms: polled
    while Node-RED writes, the count would take a core from it on a 2-core machine.
    """
    result = _query(influx_url, {"q": "SHOW STATS FOR 'shard'"})
    return sum(int(dict(zip(series["columns"], series["values"][0], strict=True))
                   ["writePointsOk"])
               for series in result.get("series", [])
               if series.get("tags", {}).get("database") == database)

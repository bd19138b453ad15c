"""Raw readings kept for SMARTPLACE_INFLUX_RAW_RETENTION on InfluxDB 1.x (real influxd)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingest.service import IngestService
from sensors.settings import Settings
from tests.helpers import eventually, influx_rows

pytestmark = pytest.mark.integration


def test_the_raw_retention_is_applied_to_the_readings_database(
        settings: Settings, ingest_thread: Callable[..., IngestService]) -> None:
    ingest_thread(influx_raw_retention="30d")

    def autogen() -> str | None:
        rows = influx_rows(settings.influx_url, settings.influx_database,
                           f'SHOW RETENTION POLICIES ON "{settings.influx_database}"')
        return next((str(row["duration"]) for row in rows if row["name"] == "autogen"), None)

    assert eventually(autogen, message="the policy") == "720h0m0s"

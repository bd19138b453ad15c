"""The ingestor against real mosquitto and influxd: nothing lost, bad input kept with reasons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import httpx
import orjson
import pytest

from ingest.service import IngestService
from sensors.reasons import DeadLetterReason as R
from sensors.settings import Settings
from sensors.storage import DEAD_LETTER_PAYLOAD_BYTES
from tests.helpers import eventually, influx_count, influx_rows, publish
from tests.ingest.helpers import TS0, metrics, readings
from tests.sensors.payloads import BAD

pytestmark = pytest.mark.integration


def test_every_published_reading_is_stored_with_its_values(
    settings: Settings, ingest_thread: Callable[..., IngestService]
) -> None:
    ingest_thread(ingest_batch_size=500)
    messages = readings(settings.topic_prefix, 3000)
    publish(settings, [(topic, payload) for topic, payload, _ in messages])
    url, db = settings.influx_url, settings.influx_database
    eventually(lambda: influx_count(url, db, "energy", "energy_kwh") == 1000, message="energy")
    eventually(lambda: influx_count(url, db, "transport", "count_car") == 1000, message="transport")
    eventually(lambda: influx_count(url, db, "air_quality", "no2_ugm3") == 1000, message="aq")

    stored = {
        (row["sensor"], row["time"]): row
        for measurement in ("energy", "transport", "air_quality")
        for row in influx_rows(url, db, f"SELECT * FROM {measurement} GROUP BY *")
    }
    assert len(stored) == 3000
    for topic, _, body in messages:
        _, domain, site, sensor = topic.rsplit("/", 3)
        row = stored[(sensor, body["ts"])]
        assert row["site"] == site
        if domain == "energy":
            assert row["carrier"] == body["carrier"]
            assert row["energy_kwh"] == body["energy_kwh"]
            assert row["seq"] == body["seq"]
        elif domain == "transport":
            counts = body["counts"]
            assert isinstance(counts, dict)
            assert {k: row[f"count_{k}"] for k in counts} == counts
            assert row["link_km"] == 0.5
        else:
            assert (row["no2_ugm3"], row["pm25_ugm3"]) == (body["no2_ugm3"], body["pm25_ugm3"])
    assert influx_count(url, db, "dead_letter", "payload") == 0

    # The ingestor reports on itself in InfluxDB (for the dashboard's pipeline panel).
    def latest_stats() -> dict[str, object] | None:
        rows = influx_rows(url, db, "SELECT last(received) AS received, last(stored) AS stored "
                                    "FROM ingest_stats GROUP BY instance")
        return rows[0] if rows and rows[0]["stored"] == 3000 else None

    stats = eventually(latest_stats, message="ingest_stats caught up")
    assert stats["instance"] == settings.ingest_client_id
    assert stats["received"] == 3000


def test_bad_input_is_kept_as_dead_letters_with_reasons(
    settings: Settings, ingest_thread: Callable[..., IngestService]
) -> None:
    service = ingest_thread()
    prefix = settings.topic_prefix
    # (topic, payload, reason, domain): no domain when the topic names none we know.
    bad: list[tuple[str, bytes, str, str | None]] = [
        (f"{prefix}/{domain.value}/site-a/sensor-a", payload, reason.value, domain.value)
        for domain, payload, reason in BAD]
    bad += [
        (f"{prefix}/weather/site-a/sensor-a", b"{}", R.DOMAIN_UNKNOWN.value, None),
        (f"{prefix}/energy/Site A/sensor-a", b"{}", R.TOPIC_INVALID.value, "energy"),
        (f"{prefix}/energy/site-a", b"{}", R.TOPIC_INVALID.value, "energy"),
        (f"{prefix}/energy/a/b/c/d", b"{}", R.TOPIC_INVALID.value, "energy"),
    ]
    # Identical bad messages back to back must stay distinct dead letters.
    twins: list[tuple[str, bytes, str, str | None]] = [
        (f"{prefix}/energy/site-a/twin", b'{"ts": "yesterday"}', R.TIMESTAMP_INVALID.value,
         "energy")] * 5
    good = readings(prefix, 30)
    publish(
        settings,
        [(t, p) for t, p, _, _ in bad + twins] + [(t, p) for t, p, _ in good],
    )
    url, db = settings.influx_url, settings.influx_database
    expected = len(bad) + len(twins)
    eventually(lambda: influx_count(url, db, "dead_letter", "payload") == expected,
               message="all dead letters stored")
    rows = influx_rows(url, db, "SELECT * FROM dead_letter")
    assert Counter((r["reason"], r["domain"], r["topic"]) for r in rows) == Counter(
        (reason, domain, topic) for topic, _, reason, domain in bad + twins
    )
    for row, (_, payload, _, _) in zip(rows, bad + twins, strict=True):
        assert row["payload"] == payload[:DEAD_LETTER_PAYLOAD_BYTES].decode("utf-8", "replace")
        assert row["detail"]
    eventually(lambda: influx_count(url, db, "energy", "energy_kwh") == 10, message="good kept")
    assert service.stats.dead_letters == Counter(reason for _, _, reason, _ in bad + twins)
    counted = metrics(settings)
    assert counted["smartplace_ingest_dead_letters_total{reason=timestamp_invalid}"] >= 5


def test_lines_influx_refuses_become_dead_letters_and_the_rest_is_kept(
    settings: Settings, ingest_thread: Callable[..., IngestService]
) -> None:
    url, db = settings.influx_url, settings.influx_database
    httpx.post(f"{url}/query", data={"q": f'CREATE DATABASE "{db}"'}).raise_for_status()
    # Someone else stored interval_s as a float in the same shard (types are per shard):
    # every transport line now conflicts.
    conflict = httpx.post(f"{url}/write", params={"db": db, "precision": "ms"},
                          content=f"transport,site=x,sensor=y interval_s=1.5 {TS0}".encode())
    assert conflict.status_code == 204
    service = ingest_thread()
    messages = readings(settings.topic_prefix, 60)
    publish(settings, [(topic, payload) for topic, payload, _ in messages])
    eventually(lambda: influx_count(url, db, "dead_letter", "payload") == 20, message="refused")
    rows = influx_rows(url, db, "SELECT * FROM dead_letter")
    assert {(r["reason"], r["domain"]) for r in rows} == {(R.STORE_REJECTED.value, "transport")}
    assert all("field type conflict" in r["detail"] for r in rows)
    eventually(lambda: influx_count(url, db, "energy", "energy_kwh") == 20, message="energy kept")
    assert influx_count(url, db, "air_quality", "no2_ugm3") == 20
    assert influx_count(url, db, "transport", "count_car") == 0
    assert service.stats.dead_letters == Counter({R.STORE_REJECTED.value: 20})


def test_unknown_fields_are_ignored_and_counted(
    settings: Settings, ingest_thread: Callable[..., IngestService]
) -> None:
    service = ingest_thread()
    body = {"ts": TS0, "carrier": "gas", "energy_kwh": 1.0, "interval_s": 60,
            "firmware": "2.1", "colour": "red"}
    publish(settings,
                [(f"{settings.topic_prefix}/energy/a/b", orjson.dumps(body))])
    url, db = settings.influx_url, settings.influx_database
    eventually(lambda: influx_count(url, db, "energy", "energy_kwh") == 1, message="stored")
    row = influx_rows(url, db, "SELECT * FROM energy")[0]
    assert "firmware" not in row
    assert "colour" not in row
    assert service.stats.unknown_fields == 2

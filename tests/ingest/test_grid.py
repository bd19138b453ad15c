"""The grid carbon-intensity feed: payload models, decoder, ingest path and scheduled fetch."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from ingest.decode import Decoded, MessageDecoder, Rejection
from ingest.gridfeed import feed_url
from ingest.service import IngestService
from sensors.errors import InvalidReadingError
from sensors.grid import grid_topic, parse_grid_topic, region_slug, validate_feed
from sensors.reasons import DeadLetterReason as R
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.topics import parse_topic
from tests.helpers import eventually, influx_count, influx_rows, publish

PREFIX = "stockport/town-centre"
TOPIC = f"{PREFIX}/grid/carbon-intensity/north-west-england"
SLOT0_MS = 1795687200000  # 2026-11-26T10:00:00Z


def _slot(start: str, end: str, forecast: object, index: str, **intensity: Any) -> dict[str, Any]:
    return {"from": start, "to": end,
            "intensity": {"forecast": forecast, "index": index, **intensity},
            "generationmix": [{"fuel": "biomass", "perc": 6.1}, {"fuel": "coal", "perc": 0},
                              {"fuel": "imports", "perc": 9.4}, {"fuel": "gas", "perc": 38.2},
                              {"fuel": "nuclear", "perc": 14.9}, {"fuel": "other", "perc": 0.4},
                              {"fuel": "hydro", "perc": 0.6}, {"fuel": "solar", "perc": 2.3},
                              {"fuel": "wind", "perc": 28.1}]}


# Shaped like /regional/intensity/2026-11-26T10:00Z/fw24h/regionid/3 (three slots shown).
SAMPLE: dict[str, Any] = {"data": {
    "regionid": 3, "dnoregion": "Electricity North West", "shortname": "North West England",
    "data": [
        _slot("2026-11-26T10:00Z", "2026-11-26T10:30Z", 182, "high"),
        _slot("2026-11-26T10:30Z", "2026-11-26T11:00Z", 176, "high"),
        _slot("2026-11-26T11:00Z", "2026-11-26T11:30Z", 151, "moderate", actual=149),
    ],
}}


def _decoder() -> MessageDecoder:
    return MessageDecoder(PREFIX, load_registry())


# --- models and topic ------------------------------------------------------------------


def test_the_regional_answer_parses_in_both_shapes() -> None:
    feed = validate_feed(orjson.dumps(SAMPLE))
    region = feed.region
    assert (region.regionid, region.shortname) == (3, "North West England")
    assert [slot.start_ms for slot in region.data] == [SLOT0_MS + k * 1_800_000 for k in range(3)]
    assert region.data[0].intensity.forecast == 182
    assert region.data[2].intensity.actual == 149
    assert region.data[0].generationmix[3].fuel == "gas"
    listed = {"data": [{**SAMPLE["data"], "postcode": "SK1"}]}  # /regional/postcode/{pc}
    assert validate_feed(orjson.dumps(listed)).region == region


@pytest.mark.parametrize(("payload", "reason"), [
    (b"not json", R.PAYLOAD_NOT_JSON),
    (b"\xff\xfe", R.PAYLOAD_NOT_UTF8),
    (b"[1]", R.PAYLOAD_NOT_OBJECT),
    (orjson.dumps({"data": {"regionid": 3, "data": []}}), R.FIELD_MISSING),
    (orjson.dumps({"data": {"regionid": 3}}), R.FIELD_MISSING),
    (orjson.dumps({"data": {"regionid": 3, "data": [
        _slot("2026-11-26T10:00Z", "2026-11-26T10:30Z", "182", "high")]}}), R.FIELD_TYPE),
    (orjson.dumps({"data": {"regionid": 3, "data": [
        _slot("2026-11-26T10:00Z", "2026-11-26T10:30Z", -5, "high")]}}), R.VALUE_OUT_OF_RANGE),
    (orjson.dumps({"data": {"regionid": 3, "data": [
        _slot("2026-11-26T10:10Z", "2026-11-26T10:40Z", 182, "high")]}}), R.TIMESTAMP_INVALID),
    (orjson.dumps({"data": {"regionid": 3, "data": [
        _slot("2026-11-26T10:00Z", "2026-11-26T11:00Z", 182, "high")]}}), R.TIMESTAMP_INVALID),
    (orjson.dumps({"data": {"regionid": 3, "data": [
        _slot("yesterday", "2026-11-26T11:00Z", 182, "high")]}}), R.TIMESTAMP_INVALID),
])
def test_bad_feeds_name_an_existing_reason(payload: bytes, reason: R) -> None:
    with pytest.raises(InvalidReadingError) as caught:
        validate_feed(payload)
    assert caught.value.reason is reason


def test_the_grid_topic_does_not_disturb_the_three_domains() -> None:
    assert grid_topic(PREFIX, 3) == TOPIC
    assert region_slug(42) == "region-42"
    assert parse_grid_topic(PREFIX, TOPIC) == "north-west-england"
    with pytest.raises(InvalidReadingError) as caught:
        parse_topic(PREFIX, TOPIC)  # still not a reading topic
    assert caught.value.reason is R.DOMAIN_UNKNOWN
    assert parse_topic(PREFIX, f"{PREFIX}/energy/grid/meter-1").site == "grid"


# --- decoder ---------------------------------------------------------------------------


def test_one_feed_message_becomes_one_line_per_slot() -> None:
    result = _decoder().decode(TOPIC, orjson.dumps(SAMPLE))
    assert isinstance(result, Decoded)
    assert result.unknown_fields == 0
    assert result.measurement == "grid_intensity"
    assert result.ts_ns == (SLOT0_MS + 3_600_000) * 1_000_000  # the newest slot's start
    assert result.line.split("\n") == [
        'grid_intensity,region=north-west-england,regionid=3 forecast_gco2_kwh=182.0,'
        f'index="high" {SLOT0_MS * 1_000_000}',
        'grid_intensity,region=north-west-england,regionid=3 forecast_gco2_kwh=176.0,'
        f'index="high" {(SLOT0_MS + 1_800_000) * 1_000_000}',
        'grid_intensity,region=north-west-england,regionid=3 forecast_gco2_kwh=151.0,'
        f'actual_gco2_kwh=149.0,index="moderate" {(SLOT0_MS + 3_600_000) * 1_000_000}',
    ]


@pytest.mark.parametrize(("topic", "payload", "reason"), [
    (f"{PREFIX}/grid/carbon-intensity/london", orjson.dumps(SAMPLE), R.TOPIC_INVALID),
    (f"{PREFIX}/grid/carbon-intensity", orjson.dumps(SAMPLE), R.TOPIC_INVALID),
    (f"{PREFIX}/grid/other/north-west-england", orjson.dumps(SAMPLE), R.TOPIC_INVALID),
    (TOPIC, b"{}", R.FIELD_MISSING),
])
def test_the_decoder_rejects_bad_grid_messages(topic: str, payload: bytes, reason: R) -> None:
    result = _decoder().decode(topic, payload)
    assert isinstance(result, Rejection)
    assert (result.reason, result.domain) == (reason.value, None)


def test_other_unknown_domains_are_still_dead_letters() -> None:
    result = _decoder().decode(f"{PREFIX}/gridx/a/b", b"{}")
    assert isinstance(result, Rejection)
    assert result.reason == R.DOMAIN_UNKNOWN.value


def test_the_feed_url_fills_in_the_slot_and_region() -> None:
    template = "https://api.example/regional/intensity/{from}/fw24h/regionid/{regionid}"
    assert feed_url(template, 3, SLOT0_MS + 1_799_999) == (
        "https://api.example/regional/intensity/2026-11-26T10:00Z/fw24h/regionid/3")


# --- against the real servers ----------------------------------------------------------


def _stored(settings: Settings) -> dict[int, dict[str, Any]]:
    rows = influx_rows(settings.influx_url, settings.influx_database,
                       "SELECT * FROM grid_intensity GROUP BY *")
    return {row["time"]: row for row in rows}


@pytest.mark.integration
def test_a_feed_message_is_stored_per_slot_and_refreshes_overwrite(
    settings: Settings, ingest_thread: Callable[..., IngestService]
) -> None:
    ingest_thread()
    topic = grid_topic(settings.topic_prefix, 3)
    refreshed = orjson.loads(orjson.dumps(SAMPLE))
    refreshed["data"]["data"][0]["intensity"] = {"forecast": 190, "index": "high"}
    publish(settings, [(topic, orjson.dumps(SAMPLE)),
                                    (topic, orjson.dumps(refreshed))])
    url, db = settings.influx_url, settings.influx_database
    eventually(lambda: influx_count(url, db, "grid_intensity", "forecast_gco2_kwh") == 3
               and _stored(settings)[SLOT0_MS]["forecast_gco2_kwh"] == 190,
               message="three slots, the first refreshed")
    rows = _stored(settings)
    assert sorted(rows) == [SLOT0_MS, SLOT0_MS + 1_800_000, SLOT0_MS + 3_600_000]
    assert rows[SLOT0_MS + 3_600_000]["actual_gco2_kwh"] == 149
    assert {(r["region"], r["regionid"], r["index"]) for r in rows.values()} == {
        ("north-west-england", "3", "high"), ("north-west-england", "3", "moderate")}
    assert influx_count(url, db, "dead_letter", "payload") == 0


@pytest.mark.integration
def test_a_bad_feed_becomes_a_dead_letter(
    settings: Settings, ingest_thread: Callable[..., IngestService]
) -> None:
    ingest_thread()
    bad = orjson.loads(orjson.dumps(SAMPLE))
    bad["data"]["data"][1]["intensity"]["forecast"] = "high"
    publish(settings, [(grid_topic(settings.topic_prefix, 3), orjson.dumps(bad))])
    url, db = settings.influx_url, settings.influx_database
    eventually(lambda: influx_count(url, db, "dead_letter", "payload") == 1, message="dead letter")
    (row,) = influx_rows(url, db, "SELECT * FROM dead_letter")
    assert row["reason"] == R.FIELD_TYPE.value
    assert row.get("domain") is None  # grid is not a domain
    assert "forecast" in row["detail"]
    assert influx_count(url, db, "grid_intensity", "forecast_gco2_kwh") == 0


@pytest.fixture
def feed_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server: SAMPLE for every GET but ``/down`` (503); yields URL and paths."""
    paths: list[str] = []
    body = orjson.dumps(SAMPLE)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            down = self.path == "/down"
            self.send_response(503 if down else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "0" if down else str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if not down:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = False  # server_close() then waits for every handler to finish
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
def test_the_scheduled_job_fetches_and_the_slots_are_stored(
    settings: Settings, ingest_thread: Callable[..., IngestService],
    feed_server: tuple[str, list[str]],
) -> None:
    base, paths = feed_server
    ingest_thread(grid_intensity_url=base + "/regional/intensity/{from}/fw24h/regionid/{regionid}",
                  grid_intensity_interval_s=3600)
    url, db = settings.influx_url, settings.influx_database
    eventually(lambda: influx_count(url, db, "grid_intensity", "forecast_gco2_kwh") == 3,
               message="fetched slots stored")
    assert paths[0].startswith("/regional/intensity/")
    assert paths[0].endswith("/regionid/3")
    assert len(paths) == 1  # fetched at start; the next run is an hour away


@pytest.mark.integration
def test_a_failing_feed_is_logged_and_ingest_carries_on(
    settings: Settings, ingest_thread: Callable[..., IngestService],
    feed_server: tuple[str, list[str]], caplog: pytest.LogCaptureFixture,
) -> None:
    service = ingest_thread(grid_intensity_url=feed_server[0] + "/down")
    eventually(lambda: "grid intensity fetch failed" in caplog.text, message="failure logged")
    publish(settings, [(f"{settings.topic_prefix}/energy/site-a/meter-1",
                                     orjson.dumps({"ts": SLOT0_MS, "carrier": "gas",
                                                   "energy_kwh": 1.5, "interval_s": 60}))])
    eventually(lambda: service.stats.stored == 1, message="readings still stored")

"""The live stream's pure parts: SSE framing, alert derivation, queues, windows."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import ANY

import httpx
import orjson
import pytest

from api.air.daqi import PollutantIndex, SiteIndex
from api.clock import MINUTE_MS
from api.influx import InfluxStore
from api.live.alerts import (
    Alert,
    AlertBook,
    DeadLetterCounts,
    daqi_alert,
    daqi_severity,
    dead_letter_alert,
    seq_gap_alerts,
    silent_alerts,
    spike_since,
    spiking,
)
from api.live.carbon import today_and_yesterday
from api.live.hub import LiveHub
from api.live.series import series_bounds
from api.live.sse import frame, rfc3339_ms
from api.live.state import worst_daqi
from api.live.subscription import QUEUE_EVENTS, Event, Subscription
from api.network.last_seen import LastSeen
from api.network.seq_gaps import SeqGap
from api.network.status import sensor_statuses
from sensors.factors import load_factors
from sensors.registry import load_registry
from sensors.settings import Settings
from sensors.topics import Domain
from tests.api.live.helpers import parse_frames

pytestmark = pytest.mark.anyio

NOW_MS = 1_795_000_000_000  # 2026-11-18T11:06:40Z

# What a tick computes: the names an error event's "failed" lists (docs/live.md).
JOBS = ("now", "series:1h", "sensors", "pipeline", "seq_gaps", "dead_letters", "series:24h",
        "carbon", "daqi", "flags", "alert_history")


def test_frame_has_retry_id_event_and_one_data_line() -> None:
    raw = frame("now", {"at": "x", "kw": 1.5, "none": None}, event_id=42, retry_ms=3000)
    assert raw == (b'retry: 3000\nid: 42\nevent: now\n'
                   b'data: {"at":"x","kw":1.5,"none":null}\n\n')
    assert frame("heartbeat", {}) == b"event: heartbeat\ndata: {}\n\n"


def test_frame_text_with_newlines_stays_one_event() -> None:
    raw = frame("alerts", {"message": "line one\nline two\r\nthree"}, event_id=1)
    (name, fields), = parse_frames(raw.decode())
    assert name == "alerts"
    assert orjson.loads(fields["data"]) == {"message": "line one\nline two\r\nthree"}
    with pytest.raises(ValueError, match="line break"):
        frame("now\nevent: forged", {})


def test_parse_frames_ignores_comments_and_incomplete_tail() -> None:
    text = ": comment\n\nid: 1\nevent: a\ndata: 1\n\nevent: b\ndata: x\ndata: y\n\nevent: c\nda"
    assert parse_frames(text) == [("a", {"id": "1", "event": "a", "data": "1"}),
                                  ("b", {"event": "b", "data": "x\ny"})]


def test_rfc3339_ms_always_has_three_digits() -> None:
    assert rfc3339_ms(NOW_MS) == "2026-11-18T11:06:40.000Z"
    assert rfc3339_ms(NOW_MS + 7) == "2026-11-18T11:06:40.007Z"


def _seen(sensor: str, age_ms: int, interval_s: int | None = 60, site: str = "merseyway"
          ) -> LastSeen:
    return LastSeen(sensor=sensor, site=site, domain=Domain.ENERGY,
                    time_ms=NOW_MS - age_ms, interval_s=interval_s, carrier="electricity")


def test_silent_alerts_only_for_sensors_seen() -> None:
    seen = {"mw-elec-main": _seen("mw-elec-main", 181_000),  # registry interval 60 s
            "mw-gas-boiler": _seen("mw-gas-boiler", 179_000),  # late, not silent
            "rogue": _seen("rogue", 3_500, interval_s=1, site="nowhere")}
    statuses = sensor_statuses(load_registry(), seen, NOW_MS)
    alerts = {alert.id: alert for alert in silent_alerts(statuses, seen)}
    # Never-seen registry sensors are silent but raise nothing.
    assert set(alerts) == {"sensor_silent:mw-elec-main", "sensor_silent:rogue"}
    assert alerts["sensor_silent:mw-elec-main"].since_ms == NOW_MS - 181_000 + 180_000
    rogue = alerts["sensor_silent:rogue"]
    assert (rogue.since_ms, rogue.site, rogue.severity) == (NOW_MS - 500, "nowhere", "warning")


def test_alert_book_moves_ended_conditions_to_cleared_for_an_hour() -> None:
    book = AlertBook()
    a = Alert("seq_gap:a", "seq_gap", "warning", "s", "a", "gap", NOW_MS - 10)
    b = Alert("daqi_high:s", "daqi_high", "critical", "s", None, "high", NOW_MS)
    first = book.update([a, b], NOW_MS)
    assert [alert["id"] for alert in first["active"]] == ["daqi_high:s", "seq_gap:a"]
    assert first["cleared"] == []
    assert book.since("seq_gap:a") == NOW_MS - 10
    second = book.update([b], NOW_MS + 1000)
    assert second["cleared"] == [{**a.to_json(), "cleared_at": rfc3339_ms(NOW_MS + 1000)}]
    assert book.since("seq_gap:a") is None
    # Back again: active, and no longer listed as cleared.
    assert book.update([a, b], NOW_MS + 2000)["cleared"] == []
    book.update([], NOW_MS + 3000)
    assert len(book.update([], NOW_MS + 3000 + 3_600_000)["cleared"]) == 2
    assert book.update([], NOW_MS + 3001 + 3_600_000)["cleared"] == []


def test_seq_gap_alert_shape() -> None:
    (alert,) = seq_gap_alerts([SeqGap("station", "aq-station", 2, NOW_MS - 60_000)])
    assert alert.to_json() == {
        "id": "seq_gap:aq-station", "kind": "seq_gap", "severity": "warning",
        "site": "station", "sensor": "aq-station",
        "message": "aq-station: 2 messages lost in the last hour (seq skipped values)",
        "since": rfc3339_ms(NOW_MS - 60_000), "cleared_at": None,
    }


@pytest.mark.parametrize(("recent", "baseline", "expected"), [
    (10, 0, False),  # not more than 10
    (11, 0, True),
    (11, 43, True),  # 43 an hour: 3.58 per 5 min, 3x = 10.75
    (11, 44, False),  # 44 an hour: 3x the 5-minute average is 11, not less than 11
    (100, 300, True),  # 25 per 5 min; 3x = 75
])
def test_spiking_threshold(recent: int, baseline: int, expected: bool) -> None:
    assert spiking(recent, baseline) is expected


def test_spike_since_is_the_first_minute_of_the_burst() -> None:
    minute = NOW_MS // MINUTE_MS * MINUTE_MS
    # A background trickle, then a burst that began 7 minutes ago and continues.
    counts = {minute - m * MINUTE_MS: 1 for m in range(20, 80, 10)}
    counts |= {minute - m * MINUTE_MS: 8 for m in range(0, 8)}
    assert spike_since(counts, NOW_MS) == minute - 7 * MINUTE_MS
    # A burst within one minute, three minutes ago.
    assert spike_since({minute - 3 * MINUTE_MS: 30}, NOW_MS) == minute - 3 * MINUTE_MS
    alert = dead_letter_alert(DeadLetterCounts(30, 0, {minute - 3 * MINUTE_MS: 30}), NOW_MS)
    assert alert is not None
    assert (alert.id, alert.since_ms, alert.severity) == (
        "dead_letter_spike", minute - 3 * MINUTE_MS, "warning")
    assert dead_letter_alert(DeadLetterCounts(30, 120, {}), NOW_MS) is None


def _site(site: str, index: int | None, band: str | None, **pollutants: int) -> SiteIndex:
    return SiteIndex(site=site, at_ms=NOW_MS, overall_index=index, overall_band=band,
                     pollutants={p: PollutantIndex(p, i, band, 1.0, "1h", 0, NOW_MS, 4)
                                 for p, i in pollutants.items()})


def test_daqi_alerts_and_worst_site() -> None:
    assert [daqi_severity(i) for i in (None, 1, 6, 7, 9, 10)] == [
        None, None, None, "warning", "warning", "critical"]
    low = _site("a", 3, "Low", no2=3)
    high = _site("b", 8, "High", pm25=8, no2=2)
    very = _site("c", 10, "Very High", no2=10, pm10=10)
    assert daqi_alert(low, NOW_MS) is None
    alert = daqi_alert(very, NOW_MS - 5)
    assert alert is not None
    assert (alert.id, alert.severity, alert.site, alert.since_ms) == (
        "daqi_high:c", "critical", "c", NOW_MS - 5)
    assert "no2, pm10" in alert.message
    assert worst_daqi([low, high, _site("d", None, None)]) == {
        "site": "b", "index": 8, "band": "High", "pollutant": "pm25"}
    assert worst_daqi([_site("d", None, None)]) is None


async def test_slow_subscriber_drops_oldest() -> None:
    subscription = Subscription(maxsize=3)
    for number in range(5):
        subscription.offer(Event("now", {"n": number}))
    assert subscription.dropped == 2
    events = [await subscription.get() for _ in range(3)]
    assert [event.data["n"] if event is not None else None for event in events] == [2, 3, 4]


async def test_hub_fans_out_without_waiting_for_a_slow_client() -> None:
    settings = Settings(_env_file=None, live_refresh_s=60)
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    store = InfluxStore(settings, transport=httpx.MockTransport(refuse))
    hub = LiveHub(settings, load_registry(), load_factors(), store)
    slow, fast = hub.subscribe(), hub.subscribe()
    assert (await fast.get()) == Event("error", {  # the first tick, without InfluxDB
        "at": ANY, "message": "InfluxDB is unreachable (ConnectError)", "failed": sorted(JOBS)})
    for number in range(100):
        hub._publish([Event("now", {"n": number})])  # never waits for anyone
        assert (await fast.get()) == Event("now", {"n": number})
    assert slow.dropped == 101 - QUEUE_EVENTS
    assert (await slow.get()) == Event("now", {"n": 100 - QUEUE_EVENTS})
    await hub.aclose()
    assert (await fast.get(), hub._task) == (None, None)
    late = hub.subscribe()  # after shutdown: ends at once
    assert await late.get() is None


def test_series_bounds_are_whole_steps_before_now() -> None:
    start, end, step = series_bounds("1h", NOW_MS + 12_345)
    assert (end - start, step, end % step, NOW_MS + 12_345 - end) == (3_600_000, 60_000, 0, 52_345)
    start, end, step = series_bounds("24h", NOW_MS)
    assert (end - start, step, end % step) == (86_400_000, 900_000, 0)


@pytest.mark.parametrize(("now", "today_start", "yesterday"), [
    # Winter (GMT): London midnight is UTC midnight.
    ("2026-11-19T08:26:40+00:00", "2026-11-19T00:00:00+00:00",
     ("2026-11-18T00:00:00+00:00", "2026-11-18T08:26:40+00:00")),
    # Summer (BST): London midnight is 23:00 UTC the day before.
    ("2026-07-01T23:30:00+00:00", "2026-07-01T23:00:00+00:00",
     ("2026-06-30T23:00:00+00:00", "2026-06-30T23:30:00+00:00")),
    # The day after the clocks went forward: yesterday had 23 hours.
    ("2026-03-30T12:00:00+00:00", "2026-03-29T23:00:00+00:00",
     ("2026-03-29T00:00:00+00:00", "2026-03-29T12:00:00+00:00")),
])
def test_london_days(now: str, today_start: str, yesterday: tuple[str, str]) -> None:
    def ms(text: str) -> int:
        return int(datetime.fromisoformat(text).timestamp() * 1000)

    today, before = today_and_yesterday(ms(now))
    assert today.start_ns == ms(today_start) * 1_000_000
    assert today.end_ns == ms(now) * 1_000_000
    assert (before.start_ns, before.end_ns) == tuple(ms(t) * 1_000_000 for t in yesterday)
    assert datetime.fromtimestamp(today.start_ns / 1e9, UTC).minute == 0

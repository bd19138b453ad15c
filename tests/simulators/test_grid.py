"""The simulated North West England grid intensity feed (``smartplace simulate --grid``)."""

from __future__ import annotations

import statistics

import orjson

from ingest.decode import Decoded, MessageDecoder
from sensors.grid import SLOT_MS, validate_feed
from sensors.registry import load_registry
from simulators.grid import GridFeedSimulator, feed_message, intensity_index, slot_intensity

DAY0 = 1795651200000  # 2026-11-26T00:00:00Z
PREFIX = "stockport/town-centre"


def test_the_series_is_deterministic_per_seed() -> None:
    slots = range(DAY0, DAY0 + 48 * SLOT_MS, SLOT_MS)
    assert feed_message(7, slots) == feed_message(7, slots)
    assert feed_message(7, slots) != feed_message(8, slots)


def test_the_series_is_plausible_for_north_west_england() -> None:
    month = [slot_intensity(1, DAY0 + k * SLOT_MS)[0] for k in range(48 * 30)]
    assert min(month) >= 40
    assert max(month) <= 350
    deciles = statistics.quantiles(month, n=10)
    assert deciles[0] >= 100  # mostly 100-250 gCO2/kWh
    assert deciles[-1] <= 250
    nights = [slot_intensity(1, DAY0 + d * 86_400_000 + 3 * 3_600_000)[0] for d in range(30)]
    evenings = [slot_intensity(1, DAY0 + d * 86_400_000 + 17 * 3_600_000)[0] for d in range(30)]
    assert statistics.mean(nights) < statistics.mean(evenings) - 30


def test_index_bands_follow_the_intensity() -> None:
    assert [intensity_index(v) for v in (30, 80, 130, 200, 260)] == [
        "very low", "low", "moderate", "high", "very high"]


def test_a_message_passes_the_ingest_decoder() -> None:
    body = feed_message(1, range(DAY0, DAY0 + 48 * SLOT_MS, SLOT_MS))
    assert len(validate_feed(body).region.data) == 48
    decoded = MessageDecoder(PREFIX, load_registry()).decode(
        f"{PREFIX}/grid/carbon-intensity/north-west-england", body)
    assert isinstance(decoded, Decoded)
    assert decoded.line.count("\n") == 47


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, str]] = []

    def publish(self, topic: str, payload: bytes, tag: str) -> None:
        self.sent.append((topic, payload, tag))


def _slots(payload: bytes) -> list[str]:
    return [slot["from"] for slot in orjson.loads(payload)["data"]["data"]]


def test_live_publishes_a_48_slot_forecast_per_half_hour() -> None:
    recorder = _Recorder()
    feed = GridFeedSimulator(PREFIX, 1, live=True)
    for ms in (DAY0 + 10, DAY0 + 60_000, DAY0 + SLOT_MS + 5):
        feed.tick(ms, recorder)  # type: ignore[arg-type]  # tick() names the MqttPublisher class
    assert [len(_slots(p)) for _, p, _ in recorder.sent] == [48, 48]
    assert _slots(recorder.sent[1][1])[0] == "2026-11-26T00:30Z"
    assert recorder.sent[0][0] == f"{PREFIX}/grid/carbon-intensity/north-west-england"


def test_backfill_covers_the_window_without_gaps() -> None:
    recorder = _Recorder()
    feed = GridFeedSimulator(PREFIX, 1, live=False)
    for ms in (DAY0 + 1, DAY0 + 1000, DAY0 + 3 * SLOT_MS + 1, DAY0 + 4 * SLOT_MS):
        feed.tick(ms, recorder)  # type: ignore[arg-type]  # tick() names the MqttPublisher class
    covered = [slot for _, payload, _ in recorder.sent for slot in _slots(payload)]
    assert covered == ["2026-11-26T00:00Z", "2026-11-26T00:30Z", "2026-11-26T01:00Z",
                       "2026-11-26T01:30Z", "2026-11-26T02:00Z"]

"""Cumulative registers through the real servers: late readings, replays and restarts store
exactly the same points, computed against the previous reading by time."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingest.registers import FILE_NAME
from ingest.service import IngestService
from sensors.settings import Settings
from smartplace.servers import port_open
from tests.helpers import eventually, influx_rows, publish
from tests.ingest.formats_helpers import SHELLY, T0, shelly_status, write_devices

pytestmark = pytest.mark.integration

# The Shelly's em1data:0 register (Wh) at T0 + 60 s * i: a reset (a new meter) before i = 4.
REGISTER_WH = [1000.0, 1250.0, 1600.0, 1600.0, 200.0, 450.0]
# By hand, kWh since the previous reading (each 60 s before): i = 0 is the starting point,
# i = 4 counts its whole register (0.2 kWh) because the register went down.
EXPECTED = [(None, None), (0.25, 60), (0.35, 60), (0.0, 60), (0.2, 60), (0.25, 60)]


def messages() -> list[tuple[str, bytes]]:
    return [shelly_status(T0 + 60_000 * i, wh) for i, wh in enumerate(REGISTER_WH)]


def points(settings: Settings) -> list[dict[str, Any]]:
    return influx_rows(settings.influx_url, settings.influx_database,
                       "SELECT energy_kwh, interval_s, register_kwh, power_kw FROM energy "
                       "WHERE sensor = 'lib-main-3em'")


def energies(settings: Settings) -> list[tuple[Any, Any]]:
    return [(p["energy_kwh"], p["interval_s"]) for p in points(settings)]


def test_late_replayed_and_restarted_readings_store_the_same_points(
    settings: Settings, ingest_thread: Callable[..., IngestService], tmp_path: Path
) -> None:
    devices = write_devices(tmp_path)
    first = ingest_thread(devices_file=devices)
    every = messages()
    publish(settings, [every[i] for i in (0, 1, 3, 4, 5)])
    # Without reading 2, reading 3 is 1.6 - 1.25 kWh over the 120 s since reading 1.
    eventually(lambda: energies(settings) == [(None, None), (0.25, 60), (0.35, 120),
                                              (0.2, 60), (0.25, 60)], message="before the late one")
    publish(settings, [every[2]])
    # The late reading gets its own point, and its successor is rewritten in place.
    eventually(lambda: energies(settings) == EXPECTED, message="after the late one")
    settled = points(settings)
    assert [p["register_kwh"] for p in settled] == [1.0, 1.25, 1.6, 1.6, 0.2, 0.45]
    assert all(p["power_kw"] == 1.5346 for p in settled[1:])  # kept when rewritten
    assert sum(kwh for kwh, _ in EXPECTED if kwh is not None) == pytest.approx(1.05)

    # A redelivery of everything, newest first: the same points.
    received = first.stats.received
    publish(settings, list(reversed(every)))
    eventually(lambda: first.stats.acked >= received + len(every), message="replay acked")
    assert points(settings) == settled

    # A new ingestor (its state only what is on disk) and the replay in another order.
    first.stop()
    eventually(lambda: not first.consumer.connected and not port_open(settings.metrics_port),
               message="the first ingestor stopped")
    assert (settings.spool_dir / FILE_NAME).exists()
    second = ingest_thread(devices_file=devices)
    shuffled = every[:]
    random.Random(9).shuffle(shuffled)
    publish(settings, shuffled)
    eventually(lambda: second.stats.acked >= len(every), message="replay after restart acked")
    assert points(settings) == settled
    assert second.formats is not None
    history = second.formats.history
    assert history is not None
    assert [(r.ts_ms, r.value_kwh) for r in history.readings(
        f"shelly-gen2:{SHELLY}")] == [(T0 + 60_000 * i, wh / 1000)
                                      for i, wh in enumerate(REGISTER_WH)]


def test_a_gap_longer_than_a_day_is_a_dead_letter_not_a_guess(
    settings: Settings, ingest_thread: Callable[..., IngestService], tmp_path: Path
) -> None:
    ingest_thread(devices_file=write_devices(tmp_path))
    day = 86_400_000
    publish(settings, [shelly_status(T0, 1000.0),
                                    shelly_status(T0 + 2 * day, 9000.0),
                                    shelly_status(T0 + 2 * day + 60_000, 9100.0)])
    eventually(lambda: len(points(settings)) == 3, message="three points")
    # The reading two days on keeps its register (so the next one has a predecessor) and
    # its energy goes to the dead letters: contract intervals are at most a day.
    assert energies(settings) == [(None, None), (None, None), (0.1, 60)]
    letters = eventually(lambda: influx_rows(settings.influx_url, settings.influx_database,
                                             "SELECT * FROM dead_letter"), message="letter")
    assert [(r["reason"], r["domain"]) for r in letters] == [("value_out_of_range", "energy")]
    assert "interval_s" in letters[0]["detail"]

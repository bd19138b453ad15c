"""A crash while device-format messages flow loses nothing and double-counts nothing."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sensors.settings import Settings
from tests.helpers import eventually, influx_count, influx_rows, publish
from tests.ingest.formats_helpers import T0, shelly_status, ttn_uplink, write_devices
from tests.ingest.helpers import IngestProcess, kill_9_mid_stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

METERS = 3
READINGS = 2000  # per meter, a minute apart
UPLINKS = 6000


def meter(k: int) -> dict[str, Any]:
    return {"format": "shelly-gen2", "device": f"shellypro3em-00000000000{k}",
            "topic": "shellies/+/events/rpc", "domain": "energy", "site": "town-hall",
            "sensor": f"th-meter-{k}", "carrier": "electricity",
            "fields": {"energy_kwh": {"path": "em1data:0.total_act_energy", "scale": 0.001,
                                      "cumulative": True},
                       "power_kw": {"path": "em1:0.act_power", "scale": 0.001}}}


def stream() -> list[tuple[str, bytes]]:
    """Interleaved: every meter's register grows 250 Wh a minute; TTN uplinks between."""
    out = []
    for i in range(READINGS):
        for k in range(METERS):
            out.append(shelly_status(T0 + 60_000 * i + k, 10_000.0 * k + 250.0 * i,
                                     device=f"shellypro3em-00000000000{k}"))
        for j in range(UPLINKS // READINGS):
            n = i * (UPLINKS // READINGS) + j
            out.append(ttn_uplink(n, T0 + 20_000 * n))
    return out


def stored(settings: Settings) -> int:
    url, db = settings.influx_url, settings.influx_database
    try:
        return (influx_count(url, db, "energy", "register_kwh")
                + influx_count(url, db, "air_quality", "no2_ugm3"))
    except Exception:  # the database may not exist yet
        return 0


def test_kill_9_while_formats_flow_loses_nothing(
    settings: Settings, ingest_process: Callable[..., IngestProcess], tmp_path: Path
) -> None:
    devices = write_devices(tmp_path, extra=[meter(k) for k in range(METERS)])
    total = METERS * READINGS + UPLINKS
    first = ingest_process(devices_file=devices, ingest_batch_size=500)
    first.start()
    publisher = threading.Thread(target=publish, args=(settings, stream(), 180))
    publisher.start()
    at_kill = kill_9_mid_stream(first, lambda: stored(settings), 1500, total)
    publisher.join(180)

    second = ingest_process(devices_file=devices, ingest_batch_size=500)
    second.start()
    eventually(lambda: stored(settings) == total, 120, interval_s=0.5,
               message=f"all {total} stored after restart (had {at_kill} at kill)")
    url, db = settings.influx_url, settings.influx_database
    for k in range(METERS):
        points = influx_rows(url, db, "SELECT energy_kwh, interval_s, register_kwh FROM energy "
                                      "WHERE sensor = $s", s=f"th-meter-{k}")
        # Each reading after the first: exactly 250 Wh over 60 s, never more, never twice.
        assert [(p["energy_kwh"], p["interval_s"]) for p in points] == (
            [(None, None)] + [(0.25, 60)] * (READINGS - 1)), f"meter {k}"
    seqs = influx_rows(url, db, "SELECT count(seq), min(seq), max(seq) FROM air_quality")
    assert (seqs[0]["count"], seqs[0]["min"], seqs[0]["max"]) == (UPLINKS, 0, UPLINKS - 1)
    second.signal(signal.SIGTERM)
    assert second.wait() == 0

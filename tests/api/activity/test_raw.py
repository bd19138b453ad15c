"""The raw activity reader summed by InfluxDB over the places a caller does not group by
gives what the per-sensor read gives summed here, for every grouping, with and without
hour buckets; the exact (changing link length) and unattributed paths included (real
InfluxDB)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

import pytest

from api.activity.model import EnergyActivity, TransportActivity
from api.activity.raw import fetch_activity
from api.clock import TimeWindow
from api.influx import InfluxStore
from sensors.settings import Settings
from sensors.timestamps import NS_PER_MS
from smartplace.servers import InfluxServer
from tests.api.activity.test_rollups import FIRST, _ms, _readings
from tests.api.helpers import create_database, write_readings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

Key = tuple[int | None, str, str, str]  # bucket, site, sensor, carrier or class
Figures = dict[Key, tuple[float, float, int, int]]


def _summed(energy: Sequence[EnergyActivity], transport: Sequence[TransportActivity],
            group_by: Sequence[str] | None) -> Figures:
    """Activity per key with the places ``group_by`` does not name blanked, summed."""
    names = ("site", "sensor") if group_by is None else tuple(group_by)

    def place(site: str, sensor: str) -> tuple[str, str]:
        return (site if "site" in names else "", sensor if "sensor" in names else "")

    sums: defaultdict[Key, list[float]] = defaultdict(lambda: [0.0, 0.0, 0, 0])
    for one in energy:
        row = sums[(one.bucket_ms, *place(one.site, one.sensor), one.carrier.value)]
        row[0] += one.energy_kwh
        row[3] += one.readings
    for other in transport:
        row = sums[(other.bucket_ms, *place(other.site, other.sensor),
                    other.vehicle_class.value)]
        row[1] += other.vehicle_km
        row[2] += other.counts * 1_000_000 + other.unattributed_counts
        row[3] += other.readings
    return {key: (round(a, 6), round(b, 6), int(c), int(d)) for key, (a, b, c, d) in sums.items()}


@pytest.mark.parametrize("interval_s", [None, 3600])
@pytest.mark.parametrize("group_by", [(), ("site",), ("sensor",), ("site", "sensor"),
                                      ("domain", "carrier")])
async def test_grouped_read_is_the_per_sensor_read_summed(
        settings: Settings, influx: InfluxServer, interval_s: int | None,
        group_by: tuple[str, ...]) -> None:
    create_database(influx.url, settings.influx_database)
    write_readings(influx.url, settings.influx_database, _readings())
    start = FIRST + timedelta(minutes=50)  # cut hours at both ends
    window = TimeWindow(_ms(start) * NS_PER_MS, _ms(start + timedelta(hours=30)) * NS_PER_MS)
    store = InfluxStore(settings)
    try:
        per_sensor = await fetch_activity(store, window, interval_s)
        grouped = await fetch_activity(store, window, interval_s, group_by)
    finally:
        await store.aclose()
    expected = _summed(*per_sensor, group_by)
    assert _summed(*grouped, group_by) == expected
    # Nothing left per place that was not asked for, and the exact path was exercised.
    places = {(one.site, one.sensor) for one in grouped[0]} | {
        (other.site, other.sensor) for other in grouped[1]}
    assert all(("site" in group_by or not site) and ("sensor" in group_by or not sensor)
               for site, sensor in places)
    assert any(one.sensor == "t-uneven" and one.vehicle_km > 0 for one in per_sensor[1])
    assert sum(one.unattributed_counts for one in grouped[1]) > 0

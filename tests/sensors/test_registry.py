"""The shipped Stockport town-centre registry."""

from __future__ import annotations

from sensors.registry import load_registry
from sensors.topics import Domain, is_slug


def test_registry_covers_the_town_centre() -> None:
    registry = load_registry()
    assert len(registry.sites) >= 6
    assert len(registry.sensors) >= 30
    domains = {sensor.domain for sensor in registry.sensors}
    assert domains == set(Domain)
    for site in registry.sites:
        # Stockport town centre lies within a couple of kilometres of 53.408 N, 2.159 W.
        assert 53.39 < site.lat < 53.43, site
        assert -2.19 < site.lon < -2.13, site
        assert is_slug(site.id)


def test_sensor_ids_are_unique_slugs_at_known_sites() -> None:
    registry = load_registry()
    ids = [sensor.id for sensor in registry.sensors]
    assert len(ids) == len(set(ids))
    assert all(is_slug(sensor_id) for sensor_id in ids)
    assert all(registry.site(sensor.site) is not None for sensor in registry.sensors)


def test_transport_links_have_lengths_except_footfall_counters() -> None:
    registry = load_registry()
    links = [sensor for sensor in registry.sensors if sensor.domain is Domain.TRANSPORT]
    with_length = [sensor for sensor in links if sensor.link_km is not None]
    assert len(with_length) >= 6
    assert all(0 < (sensor.link_km or 0) <= 50 for sensor in with_length)
    footfall = registry.sensor("tr-little-underbank")
    assert footfall is not None
    assert footfall.link_km is None

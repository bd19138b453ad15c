"""Which sites have air quality: registered, or seen in the data (contract section 6).

The registry adds metadata (a name, coordinates); it is not a gate. A site is known when
the registry lists it or any ``air_quality`` point carries its tag.
"""

from __future__ import annotations

from api.influx import InfluxStore
from sensors.registry import Registry
from sensors.storage import Measurement
from sensors.topics import Domain

SITE_TAG_VALUES = f'SHOW TAG VALUES FROM {Measurement.AIR_QUALITY} WITH KEY = "site"'


async def sites_in_data(store: InfluxStore) -> set[str]:
    """Every site tag the ``air_quality`` measurement holds (from the index, no scan).

    Raises:
        StoreError: InfluxDB could not answer.
    """
    (series,) = await store.query([SITE_TAG_VALUES])
    return {str(row["value"]) for one in series for row in one.rows() if row.get("value")}


async def air_quality_sites(store: InfluxStore, registry: Registry) -> list[str]:
    """Registered sites with an air-quality sensor, then the others seen in the data.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    registered = list(dict.fromkeys(sensor.site for sensor in registry.sensors
                                    if sensor.domain is Domain.AIR_QUALITY))
    return registered + sorted(await sites_in_data(store) - set(registered))


async def site_known(store: InfluxStore, registry: Registry, site: str) -> bool:
    """Whether ``site`` is registered or has air-quality readings.

    Raises:
        StoreError: InfluxDB could not answer.
    """
    return registry.site(site) is not None or site in await sites_in_data(store)

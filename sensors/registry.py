"""The site and sensor registry shipped with the package (``sensors/data/registry.json``).

It describes the simulated Stockport town-centre network: real place names with
approximate coordinates, and the road-link lengths that turn traffic counts into
vehicle-km.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sensors.readings import Carrier
from sensors.topics import SLUG, Domain


class Site(BaseModel):
    """A place in the town centre where sensors are installed."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=SLUG.pattern)
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    kind: str


class Sensor(BaseModel):
    """One sensor: where it is, what it measures and how often it reports."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=SLUG.pattern)
    site: str
    domain: Domain
    interval_s: int = Field(ge=1, le=86_400)
    carrier: Carrier | None = None
    rated_kw: float | None = None
    link_name: str | None = None
    link_km: float | None = Field(default=None, gt=0, le=50)
    peak_flow_per_hour: float | None = None
    setting: str | None = None
    # No longer in service: raises no alerts and is expected by no completeness; its past
    # readings still count where it measured (README, "Simulated and retired sensors").
    retired: bool = False


class Registry(BaseModel):
    """All sites and sensors of a network."""

    model_config = ConfigDict(frozen=True)

    network: str
    note: str = ""
    sites: tuple[Site, ...]
    sensors: tuple[Sensor, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Registry:
        site_ids = {site.id for site in self.sites}
        seen: set[str] = set()
        for sensor in self.sensors:
            if sensor.site not in site_ids:
                raise ValueError(f"sensor {sensor.id} names unknown site {sensor.site}")
            if sensor.id in seen:
                raise ValueError(f"sensor id {sensor.id} is not unique")
            if (sensor.domain is Domain.ENERGY) != (sensor.carrier is not None):
                raise ValueError(
                    f"sensor {sensor.id}: energy sensors, and only they, have a carrier"
                )
            seen.add(sensor.id)
        return self

    def site(self, site_id: str) -> Site | None:
        """The site with this id, if registered."""
        return next((site for site in self.sites if site.id == site_id), None)

    def sensor(self, sensor_id: str) -> Sensor | None:
        """The sensor with this id, if registered."""
        return self.sensors_by_id.get(sensor_id)

    @property
    def sensors_by_id(self) -> dict[str, Sensor]:
        """Sensors keyed by id."""
        return _index(self)


@cache
def _index(registry: Registry) -> dict[str, Sensor]:
    return {sensor.id: sensor for sensor in registry.sensors}


@cache
def load_registry() -> Registry:
    """The registry of the simulated Stockport town-centre network (parsed once)."""
    text = files("sensors").joinpath("data/registry.json").read_text(encoding="utf-8")
    return Registry.model_validate_json(text)

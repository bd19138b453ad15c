"""FastAPI dependencies: what the app keeps on ``app.state``, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, cast

from fastapi import Depends, Request

from api.cache import AnswerCache
from api.influx import InfluxStore
from api.live.hub import LiveHub
from api.network.flags import FlagCache
from api.network.last_seen_index import LastSeenIndex
from sensors.factors import FactorTable
from sensors.formats.devices import Device
from sensors.registry import Registry
from sensors.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return cast(Settings, request.app.state.settings)


def get_registry(request: Request) -> Registry:
    """The site and sensor registry in force."""
    return cast(Registry, request.app.state.registry)


def get_devices(request: Request) -> Mapping[str, Device]:
    """The devices file's devices by sensor (empty without one): metadata, as the registry."""
    return cast(Mapping[str, Device], request.app.state.devices)


def get_factors(request: Request) -> FactorTable:
    """The emission-factor table in force."""
    return cast(FactorTable, request.app.state.factors)


def _running(request: Request, name: str) -> object:
    found = getattr(request.app.state, name, None)
    if found is None:
        raise RuntimeError(f"app.state.{name} is not set: run the app with its lifespan")
    return found


def get_answers(request: Request) -> AnswerCache:
    """The cache of computed answers (:mod:`api.cache`)."""
    return cast(AnswerCache, request.app.state.answers)


def get_store(request: Request) -> InfluxStore:
    """The InfluxDB client opened by the app's lifespan.

    Raises:
        RuntimeError: the app is serving without its lifespan having run.
    """
    return cast(InfluxStore, _running(request, "store"))


def get_live_hub(request: Request) -> LiveHub:
    """The live hub made by the app's lifespan.

    Raises:
        RuntimeError: the app is serving without its lifespan having run.
    """
    return cast(LiveHub, _running(request, "live_hub"))


def get_last_seen(request: Request) -> LastSeenIndex:
    """Every sensor's latest reading, kept by the app (:mod:`api.network.last_seen_index`).

    Raises:
        RuntimeError: the app is serving without its lifespan having run.
    """
    return cast(LastSeenIndex, _running(request, "last_seen"))


def get_flag_cache(request: Request) -> FlagCache:
    """Which sensors are simulated or retired (cached for a few seconds)."""
    return cast(FlagCache, request.app.state.flags)


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
DevicesDep = Annotated[Mapping[str, Device], Depends(get_devices)]
FactorsDep = Annotated[FactorTable, Depends(get_factors)]
StoreDep = Annotated[InfluxStore, Depends(get_store)]
LiveHubDep = Annotated[LiveHub, Depends(get_live_hub)]
FlagCacheDep = Annotated[FlagCache, Depends(get_flag_cache)]
LastSeenDep = Annotated[LastSeenIndex, Depends(get_last_seen)]
AnswersDep = Annotated[AnswerCache, Depends(get_answers)]

"""``GET /health``: is the API up, and can it reach InfluxDB? No key needed."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SettingsDep, StoreDep
from api.schemas import Health, InfluxHealth
from sensors.version import smartplace_version

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness and InfluxDB reachability")
async def health(store: StoreDep, settings: SettingsDep) -> Health:
    """Always 200: ``ok`` when InfluxDB answers and accepts the API's credentials, else
    ``degraded`` with the reason in ``influxdb.error``."""
    ping = await store.ping()
    return Health(
        status="ok" if ping.reachable and ping.authenticated else "degraded",
        influxdb=InfluxHealth(
            reachable=ping.reachable, database=settings.influx_database,
            version=ping.version, latency_ms=ping.latency_ms, error=ping.error,
            authenticated=ping.authenticated,
        ),
        version=smartplace_version(),
    )

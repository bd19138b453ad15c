"""The application factory: ``create_app(settings)``; nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse, RedirectResponse

from api.auth import require_api_key
from api.errors import StoreError
from api.routes import emissions, health, sensors
from api.routes.health import smartplace_version
from api.store import InfluxStore, open_client
from sensors.factors import FactorTable, load_factors
from sensors.registry import Registry, load_registry
from sensors.settings import Settings

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    # A store failure is never the client's fault and never a 500: answer 503.
    if isinstance(exc, StoreError):
        message = exc.message
    else:
        message = f"InfluxDB error ({type(exc).__name__})"
    logger.warning("store unavailable for %s: %s", request.url.path, message)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": f"store unavailable: {message}"},
        headers={"Retry-After": "5"},
    )


def create_app(
    settings: Settings, registry: Registry | None = None, factors: FactorTable | None = None
) -> FastAPI:
    """Build the API.

    Args:
        settings: where InfluxDB is, the database, the API keys.
        registry: the site and sensor registry (default: the packaged one).
        factors: the emission-factor table (default: the packaged one).

    Returns:
        The app; its lifespan opens one ``httpx.AsyncClient`` to InfluxDB and closes it.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_client(settings) as client:
            app.state.store = InfluxStore(client, settings)
            try:
                yield
            finally:
                app.state.store = None

    app = FastAPI(
        title="smartplace",
        summary="Stockport town-centre telemetry: carbon indicators and sensor status",
        version=smartplace_version(),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.registry = registry if registry is not None else load_registry()
    app.state.factors = factors if factors is not None else load_factors()
    app.state.store = None

    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(httpx.HTTPError, _store_error)

    v1 = APIRouter(prefix=API_PREFIX, dependencies=[Depends(require_api_key)])
    v1.include_router(sensors.router)
    v1.include_router(emissions.router)
    app.include_router(health.router)
    app.include_router(v1)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        # The live dashboard is not built yet; until it is, the front page is the API docs.
        return RedirectResponse("/docs")

    return app
